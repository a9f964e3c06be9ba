package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"wsusfix/store/run"
)

// History sources.
const (
	SourceWSUS   = "wsus"
	SourceHost   = "host"
	SourceImport = "import"
	SourceRepair = "repair"
)

// UpdateEvent is one entry of a host's Windows Update history.
type UpdateEvent struct {
	ID        int64
	HostID    int64
	At        time.Time
	UpdateID  string
	KB        string
	Title     string
	Operation string           // "Installation" or "Uninstallation"
	Result    run.UpdateResult // "Succeeded", "SucceededWithErrors", "Failed", "Aborted", "InProgress"
	HResult   uint32
	Source    string
}

// EventInput is a history entry as an import supplies it, naming its host.
type EventInput struct {
	HostName  string
	At        time.Time
	UpdateID  string // empty means use the KB
	KB        string
	Title     string
	Operation string
	Result    run.UpdateResult
	HResult   uint32
	Source    string
}

// EventCounts says what an import of history entries did.
type EventCounts struct {
	Inserted   int
	Duplicates int     // already stored: same host, time, update and operation
	UnknownIdx []int   // indexes into the input whose host is not in the inventory
	Touched    []int64 // hosts that gained entries
}

// AddUpdateEvents appends history entries in one transaction, skipping ones
// already stored, and brings each touched host's failure summary up to date.
// Entries for hosts not in the inventory are not stored; their indexes come
// back in UnknownIdx so the caller can report them.
func (s *Store) AddUpdateEvents(ctx context.Context, in []EventInput) (EventCounts, error) {
	return s.addUpdateEvents(ctx, in, true)
}

// AppendUpdateEvents is AddUpdateEvents without the failure summaries: an
// import of many batches calls RefreshFailures once, with every batch's
// Touched hosts, instead of recomputing hosts after each batch.
func (s *Store) AppendUpdateEvents(ctx context.Context, in []EventInput) (EventCounts, error) {
	return s.addUpdateEvents(ctx, in, false)
}

// RefreshFailures recomputes the failure summaries of the given hosts, in
// transactions of a few thousand hosts.
func (s *Store) RefreshFailures(ctx context.Context, hostIDs []int64) error {
	const chunk = 2000
	for lo := 0; lo < len(hostIDs); lo += chunk {
		set := map[int64]bool{}
		for _, id := range hostIDs[lo:min(lo+chunk, len(hostIDs))] {
			set[id] = true
		}
		if err := s.withTx(ctx, func(tx *sql.Tx) error { return refreshFailures(ctx, tx, set) }); err != nil {
			return mapErr("refresh failures", err)
		}
	}
	return nil
}

func (s *Store) addUpdateEvents(ctx context.Context, in []EventInput, refresh bool) (EventCounts, error) {
	var c EventCounts
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		c = EventCounts{}
		ids, err := hostIDs(ctx, tx, in)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO update_events
			(host_id, at, update_id, kb, title, operation, result, hresult, source)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		touched := map[int64]bool{}
		for i, e := range in {
			id, ok := ids[strings.ToLower(e.HostName)]
			if !ok {
				c.UnknownIdx = append(c.UnknownIdx, i)
				continue
			}
			updateID := e.UpdateID
			if updateID == "" {
				updateID = e.KB
			}
			res, err := stmt.ExecContext(ctx, id, e.At.UnixMilli(), updateID, e.KB, e.Title,
				e.Operation, e.Result, int64(e.HResult), e.Source)
			if err != nil {
				return fmt.Errorf("event %d for %q: %w", i, e.HostName, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				c.Inserted++
				touched[id] = true
			} else {
				c.Duplicates++
			}
		}
		for id := range touched {
			c.Touched = append(c.Touched, id)
		}
		if !refresh {
			return nil
		}
		return refreshFailures(ctx, tx, touched)
	})
	return c, mapErr("add update events", err)
}

// hostIDs resolves the distinct host names of in, keyed by lower-case name.
func hostIDs(ctx context.Context, q querier, in []EventInput) (map[string]int64, error) {
	var names []string
	seen := map[string]bool{}
	for _, e := range in {
		k := strings.ToLower(e.HostName)
		if !seen[k] {
			seen[k] = true
			names = append(names, e.HostName)
		}
	}
	arg, _ := json.Marshal(names)
	rows, err := q.QueryContext(ctx,
		"SELECT id, name FROM hosts WHERE name IN (SELECT value FROM json_each(?))", string(arg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		ids[strings.ToLower(name)] = id
	}
	return ids, rows.Err()
}

// refreshFailures recomputes the failure summary of the given hosts from
// their history: a host is failing when the newest attempt at some update
// failed, and its summary is the newest such failure.
func refreshFailures(ctx context.Context, q querier, hosts map[int64]bool) error {
	if len(hosts) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(hosts))
	for id := range hosts {
		ids = append(ids, id)
	}
	arg, _ := json.Marshal(ids)
	_, err := q.ExecContext(ctx, `UPDATE hosts SET
			state = CASE WHEN EXISTS (SELECT 1 FROM update_events e WHERE e.host_id = hosts.id) THEN 'ok' ELSE 'unknown' END,
			fail_event_id = NULL, fail_hresult = NULL, fail_at = NULL, fail_kb = '', fail_title = ''
		WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `WITH latest AS (
			SELECT host_id, id, at, hresult, kb, title, result,
				-- One update is one KB where there is a KB: a retry recorded
				-- under another update ID (a repair's evidence, a revision)
				-- still counts as the same update.
				row_number() OVER (PARTITION BY host_id, CASE WHEN kb <> '' THEN kb ELSE update_id END
					ORDER BY at DESC, id DESC) AS rn
			FROM update_events
			WHERE operation = 'Installation' AND host_id IN (SELECT value FROM json_each(?1))
		), fails AS (
			SELECT host_id, id, at, hresult, kb, title,
				row_number() OVER (PARTITION BY host_id ORDER BY at DESC, id DESC) AS rn
			FROM latest WHERE rn = 1 AND result = 'Failed'
		)
		UPDATE hosts SET state = 'failing', fail_event_id = fails.id, fail_hresult = fails.hresult,
			fail_at = fails.at, fail_kb = fails.kb, fail_title = fails.title
		FROM fails WHERE fails.host_id = hosts.id AND fails.rn = 1`, string(arg))
	return err
}

// History returns one page of a host's update history, newest first, and
// the number of entries in all.
func (s *Store) History(ctx context.Context, hostID int64, limit, offset int) ([]UpdateEvent, int, error) {
	var total int
	err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM update_events WHERE host_id = ?", hostID).Scan(&total)
	if err != nil {
		return nil, 0, mapErr("history", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, host_id, at, update_id, kb, title, operation, result, hresult, source
		FROM update_events WHERE host_id = ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, hostID, limit, offset)
	if err != nil {
		return nil, 0, mapErr("history", err)
	}
	defer rows.Close()
	var out []UpdateEvent
	for rows.Next() {
		var e UpdateEvent
		var at, code int64
		if err := rows.Scan(&e.ID, &e.HostID, &at, &e.UpdateID, &e.KB, &e.Title, &e.Operation,
			&e.Result, &code, &e.Source); err != nil {
			return nil, 0, mapErr("history", err)
		}
		e.At, e.HResult = time.UnixMilli(at).UTC(), uint32(code)
		out = append(out, e)
	}
	return out, total, mapErr("history", rows.Err())
}
