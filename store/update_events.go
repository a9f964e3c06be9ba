package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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

// eventChunk is how many entries one INSERT carries at most: 4 or 5
// values each (9 unpacked, see historyArgs), under SQLite's 32,766 variables, and
// a divisor of DefaultBatch in ingest, so every statement of a large
// import is the one prepared.
const eventChunk = 2500

func (s *Store) addUpdateEvents(ctx context.Context, in []EventInput, refresh bool) (EventCounts, error) {
	if len(in) > 0 {
		// Prepared outside the transaction, which holds the writer's one
		// connection: a full batch's statement is the common one, and its
		// first chunk's shape the likely one.
		first := make([]int, min(len(in), eventChunk))
		for i := range first {
			first[i] = i
		}
		if err := s.prepare(ctx, insertEventsSQL(len(first), shapeOf(in, first, nil))); err != nil {
			return EventCounts{}, mapErr("add update events", err)
		}
	}
	var c EventCounts
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		c = EventCounts{}
		ids, err := hostIDs(ctx, tx, in)
		if err != nil {
			return err
		}
		touched := map[int64]bool{}
		var chunk []int      // indexes into in of the next statement's entries
		var chunkIDs []int64 // their hosts' ids
		var args []any       // reused for every statement
		insert := func() error {
			if len(chunk) == 0 {
				return nil
			}
			var n int
			n, args, err = s.insertEvents(ctx, tx, in, chunk, chunkIDs, args, touched)
			if err != nil {
				return err
			}
			c.Inserted += n
			c.Duplicates += len(chunk) - n
			chunk, chunkIDs = chunk[:0], chunkIDs[:0]
			return nil
		}
		var lastName string // a batch holds a host's entries together: look each run up once
		var lastID int64
		lastOK := false
		for i, e := range in {
			if i == 0 || e.HostName != lastName {
				lastName = e.HostName
				lastID, lastOK = ids[strings.ToLower(e.HostName)]
			}
			if !lastOK {
				c.UnknownIdx = append(c.UnknownIdx, i)
				continue
			}
			chunk, chunkIDs = append(chunk, i), append(chunkIDs, lastID)
			if len(chunk) == eventChunk {
				if err := insert(); err != nil {
					return err
				}
			}
		}
		if err := insert(); err != nil {
			return err
		}
		for id := range touched {
			c.Touched = append(c.Touched, id)
		}
		if !refresh {
			return nil
		}
		return refreshFailures(ctx, tx, slices.Sorted(maps.Keys(touched)))
	})
	return c, mapErr("add update events", err)
}

// insertEvents inserts the entries in[i] for i in chunk, whose hosts are
// ids, in one statement, skipping those already stored; it adds the hosts
// that gained an entry to touched and returns how many were new, and args
// to reuse.
//
// When every entry is new, every host gained one. Otherwise the new
// entries are the ones with an id above the largest before the statement:
// without AUTOINCREMENT SQLite gives a new row the largest rowid plus one,
// and the transaction holds the write lock. (RETURNING would name them
// too, at the price of a temporary table and a row read back for every
// entry.)
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, in []EventInput, chunk []int, ids []int64,
	args []any, touched map[int64]bool) (int, []any, error) {
	var before int64
	if err := tx.QueryRowContext(ctx, "SELECT ifnull(max(id), 0) FROM update_events").Scan(&before); err != nil {
		return 0, args, err
	}
	query, args := historyArgs(in, chunk, ids, args[:0])
	stmt, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return 0, args, err
	}
	res, err := stmt.ExecContext(ctx, args...)
	clear(args) // let go of the batch's strings
	if err != nil {
		return 0, args, fmt.Errorf("insert %d events: %w", len(chunk), err)
	}
	n64, err := res.RowsAffected()
	if err != nil {
		return 0, args, err
	}
	switch n := int(n64); {
	case n == len(chunk):
		for _, id := range ids {
			touched[id] = true
		}
	case n > 0:
		gained, err := tx.QueryContext(ctx, "SELECT DISTINCT host_id FROM update_events WHERE id > ?", before)
		if err != nil {
			return 0, args, err
		}
		defer gained.Close()
		for gained.Next() {
			var id int64
			if err := gained.Scan(&id); err != nil {
				return 0, args, err
			}
			touched[id] = true
		}
		if err := gained.Err(); err != nil {
			return 0, args, err
		}
	}
	return int(n64), args, nil
}

// hostIDs resolves the distinct host names of in, keyed by lower-case name.
func hostIDs(ctx context.Context, q querier, in []EventInput) (map[string]int64, error) {
	var names []string
	seen := map[string]bool{}
	for i, e := range in {
		if i > 0 && e.HostName == in[i-1].HostName {
			continue // the same host as the entry before: already seen
		}
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

// History returns one page of a host's update history, newest first, and
// the number of entries in all.
func (s *Store) History(ctx context.Context, hostID int64, limit, offset int) ([]UpdateEvent, int, error) {
	var total int
	err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM update_events WHERE host_id = ?", hostID).Scan(&total)
	if err != nil {
		return nil, 0, mapErr("history", err)
	}
	var out []UpdateEvent
	err = s.queryEvents(ctx, s.read, "history", "SELECT "+eventColumns+" FROM update_events WHERE host_id = ?"+eventOrder+" LIMIT ? OFFSET ?",
		[]any{hostID, limit, offset}, func(e *UpdateEvent) error { out = append(out, *e); return nil })
	return out, total, err
}

// EachHistory calls fn for every entry of the host's update history, in
// History's order (newest first). The entries come from one query, which
// SQLite answers from one snapshot of the database however long fn takes:
// a "Refresh history" committed meanwhile cannot shift, repeat or drop an
// entry. (The snapshot also keeps the WAL from being checkpointed past it
// until the walk ends.) It fills one UpdateEvent for every entry: fn must
// not keep it. fn's error stops the walk and is returned.
func (s *Store) EachHistory(ctx context.Context, hostID int64, fn func(*UpdateEvent) error) error {
	return s.queryEvents(ctx, s.exports, "each history", "SELECT "+eventColumns+" FROM update_events WHERE host_id = ?"+eventOrder,
		[]any{hostID}, fn)
}

// queryEvents runs q, which selects eventColumns, and calls fn with each
// entry in one UpdateEvent it reuses; op names the operation in errors.
func (s *Store) queryEvents(ctx context.Context, db *sql.DB, op, q string, args []any, fn func(*UpdateEvent) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr(op, err)
	}
	defer rows.Close()
	var e UpdateEvent
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return mapErr(op, err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return mapErr(op, rows.Err())
}

// eventColumns are the columns scanEvent reads, and eventOrder the order
// of a host's history: newest first, the id ordering entries of the same
// millisecond (the unique key's (host_id, at) prefix serves it).
const (
	eventColumns = "id, host_id, at, update_id, kb, title, operation, result, hresult, source"
	eventOrder   = " ORDER BY at DESC, id DESC"
)

// scanEvent reads eventColumns into e, overwriting every field.
func scanEvent(sc interface{ Scan(...any) error }, e *UpdateEvent) error {
	var at, code int64
	if err := sc.Scan(&e.ID, &e.HostID, &at, &e.UpdateID, &e.KB, &e.Title, &e.Operation, &e.Result, &code, &e.Source); err != nil {
		return err
	}
	e.At, e.HResult = time.UnixMilli(at).UTC(), uint32(code)
	return nil
}
