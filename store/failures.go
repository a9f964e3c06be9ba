package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
)

// RefreshFailures recomputes the failure summaries of the given hosts, in
// transactions of a few thousand hosts.
func (s *Store) RefreshFailures(ctx context.Context, hostIDs []int64) error {
	const chunk = 5000
	// In id order, each transaction rewrites hosts that share pages, and
	// every page once: hosts in the order a map gives them made each
	// transaction write thousands of pages to the WAL, and the next ones
	// the same pages again.
	ids := sortedUnique(hostIDs)
	for lo := 0; lo < len(ids); lo += chunk {
		part := ids[lo:min(lo+chunk, len(ids))]
		if err := s.withTx(ctx, func(tx *sql.Tx) error { return refreshFailures(ctx, tx, part) }); err != nil {
			return mapErr("refresh failures", err)
		}
	}
	return nil
}

// refreshFailures recomputes the failure summary of the given hosts from
// their history: a host is failing when the newest attempt at some update
// failed (and WSUS has not since said it is over: notClearedByWSUS), and
// its summary is the newest such failure; else it is ok, or unknown
// without history. ids are best sorted, so the hosts are visited
// in the table's order.
//
// One query works the summaries out, without sorting the hosts' history:
// for each host it walks the failed installations newest first, along the
// (host_id, at) index, and stops at the first that no later attempt at
// the same update follows (newestFailure). (Window functions over every
// entry sorted the whole history first, which was most of an import's
// time.) It returns only the hosts whose summary changes, with what the
// report summaries count them by before and after, so a host whose
// summary stays the same costs no write at all, and the summaries of
// migration 0014 move by the changed hosts alone, counted here, instead
// of every host's share taken out and put back.
func refreshFailures(ctx context.Context, q querier, ids []int64) error {
	ids = sortedUnique(ids)
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `WITH newest AS (
			-- A host's newest failure is found streaming along the index
			-- with no sort; of the failures at its time (ties are rare) the
			-- last stored wins, looked for among the later entries at that
			-- time only, so each entry walked is checked once (finding the
			-- time, then the failures at it, walked and checked twice).
			SELECT t.value AS host_id, (
				SELECT g.id FROM update_events g
				WHERE g.host_id = t.value AND `+newestFailure("g")+`
				ORDER BY g.at DESC LIMIT 1) AS event_id
			FROM json_each(?1) t
		), winners AS (
			SELECT n.host_id, ifnull((
				SELECT max(f.id) FROM update_events f
				WHERE f.host_id = n.host_id AND f.at = e.at AND f.id > e.id AND `+newestFailure("f")+`), e.id) AS event_id
			FROM newest n LEFT JOIN update_events e ON e.id = n.event_id
		), summary AS (
			-- WSUS's word on the newest failure: when it is over, so are the
			-- older ones (notClearedByWSUS), and one check a host does.
			SELECT w.host_id, e.id AS event_id, e.hresult, e.at, ifnull(e.kb, '') AS kb, ifnull(e.title, '') AS title,
				CASE WHEN e.id IS NOT NULL THEN 'failing'
					WHEN EXISTS (SELECT 1 FROM update_events x WHERE x.host_id = w.host_id) THEN 'ok'
					ELSE 'unknown' END AS state
			FROM winners w LEFT JOIN update_events e ON e.id = w.event_id AND `+notClearedByWSUS("e")+`
		)
		SELECT h.id, h.wsus_group, h.gone_at IS NOT NULL, ifnull(h.last_report_at, 0) / 86400000,
			h.state, h.fail_at / 86400000, ifnull(h.fail_hresult, 0),
			s.state, s.event_id, s.at / 86400000, ifnull(s.hresult, 0)
		FROM summary s JOIN hosts h ON h.id = s.host_id
		WHERE (h.state, h.fail_event_id, h.fail_hresult, h.fail_at, h.fail_kb, h.fail_title)
			IS NOT (s.state, s.event_id, s.hresult, s.at, s.kb, s.title)`,
		idList(ids...))
	if err != nil {
		return err
	}
	defer rows.Close()
	var ch failureChanges
	for rows.Next() {
		var c failureChange
		if err := rows.Scan(&c.id, &c.group, &c.gone, &c.reportDay, &c.was.state, &c.was.day, &c.was.code,
			&c.is.state, &c.event, &c.is.day, &c.is.code); err != nil {
			return err
		}
		ch.add(c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close() // the transaction's connection writes next
	return ch.apply(ctx, q)
}

// failureSide is what the report summaries count a host by, before or
// after a refresh.
type failureSide struct {
	state string
	day   sql.NullInt64 // of its failure; NULL without one
	code  int64         // its failure's HRESULT, 0 without one
}

// failureChange is a host whose failure summary a refresh changes.
type failureChange struct {
	id        int64
	group     string
	gone      bool
	reportDay int64 // of its last report, 0 for none
	was, is   failureSide
	event     sql.NullInt64 // the new summary's entry
}

// failureChanges are a refresh's changes: the hosts' new summaries and
// how the report summaries move.
type failureChanges struct {
	set   []byte // the hosts' new summaries, as [[id, state, event id or null], …]
	days  failureDelta
	moves complianceDelta
}

// add records one host's change. A gone host is in neither summary.
func (ch *failureChanges) add(c failureChange) {
	if len(ch.set) == 0 {
		ch.set = append(ch.set, '[')
		ch.days, ch.moves = failureDelta{}, complianceDelta{}
	} else {
		ch.set = append(ch.set, ',')
	}
	// The state is one of the query's own words: nothing to escape.
	ch.set = strconv.AppendInt(append(ch.set, '['), c.id, 10)
	ch.set = append(append(append(ch.set, ',', '"'), c.is.state...), '"', ',')
	if c.event.Valid {
		ch.set = strconv.AppendInt(ch.set, c.event.Int64, 10)
	} else {
		ch.set = append(ch.set, "null"...)
	}
	ch.set = append(ch.set, ']')
	if c.gone {
		return
	}
	if c.was.state == StateFailing && c.was.day.Valid {
		ch.days[failureKey{c.was.day.Int64, c.group, c.was.code}]--
	}
	if c.is.state == StateFailing && c.is.day.Valid {
		ch.days[failureKey{c.is.day.Int64, c.group, c.is.code}]++
	}
	if c.was.state != c.is.state {
		ch.moves.move(complianceKey{c.group, c.was.state, c.reportDay}, true,
			complianceKey{c.group, c.is.state, c.reportDay}, true)
	}
}

// apply rewrites the changed hosts' summaries, in one statement, and moves
// the report summaries.
func (ch *failureChanges) apply(ctx context.Context, q querier) error {
	if len(ch.set) == 0 {
		return nil
	}
	ch.set = append(ch.set, ']')
	if _, err := q.ExecContext(ctx, `UPDATE hosts SET state = c.value ->> 1, fail_event_id = e.id,
			fail_hresult = e.hresult, fail_at = e.at, fail_kb = ifnull(e.kb, ''), fail_title = ifnull(e.title, '')
		FROM json_each(?) c LEFT JOIN update_events e ON e.id = c.value ->> 2
		WHERE hosts.id = c.value ->> 0`, string(ch.set)); err != nil {
		return err
	}
	if err := ch.days.apply(ctx, q); err != nil {
		return err
	}
	return ch.moves.apply(ctx, q)
}

// sortedUnique is ids sorted without repeats: ids itself when it is
// already, else a copy. A host listed twice would count twice in the
// summaries.
func sortedUnique(ids []int64) []int64 {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return slices.Compact(slices.Sorted(slices.Values(ids)))
		}
	}
	return ids
}

// newestFailure is the condition that the entry e of update_events is a
// failed installation that no later attempt at the same update follows.
// One update is one KB where there is a KB: a retry recorded under
// another update ID (a repair's evidence, a revision) still counts as the
// same update.
func newestFailure(e string) string {
	return e + `.operation = 'Installation' AND ` + e + `.result = 'Failed' AND NOT EXISTS (
		SELECT 1 FROM update_events l
		WHERE l.host_id = ` + e + `.host_id AND l.at >= ` + e + `.at AND l.operation = 'Installation'
			AND (l.at > ` + e + `.at OR l.id > ` + e + `.id)
			AND CASE WHEN l.kb <> '' THEN l.kb ELSE l.update_id END
				= CASE WHEN ` + e + `.kb <> '' THEN ` + e + `.kb ELSE ` + e + `.update_id END)`
}

// notClearedByWSUS is the condition that WSUS has not since said the
// failure e is over (checked on a host's newest failure only: a failure
// older than one WSUS says is over is over too): a host whose WSUS summary counts no failed update
// (IUpdateSummary.FailedCount = 0, from GetSummariesPerComputerTarget) at
// a report later than e no longer fails with it, whatever its history
// holds. WSUS sends failures only, so without this a host fixed outside
// wsusfix would stay failing until a success reached its history.
func notClearedByWSUS(e string) string {
	return `NOT EXISTS (SELECT 1 FROM hosts w WHERE w.id = ` + e + `.host_id AND w.wsus_failed = 0 AND w.last_report_at > ` + e + `.at)`
}
