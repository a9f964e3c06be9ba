package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
)

// RefreshFailures recomputes the failure summaries of the given hosts, in
// transactions of a few thousand hosts.
func (s *Store) RefreshFailures(ctx context.Context, hostIDs []int64) error {
	const chunk = 5000
	// In id order, each transaction rewrites hosts that share pages, and
	// every page once: hosts in the order a map gives them made each
	// transaction write thousands of pages to the WAL, and the next ones
	// the same pages again.
	ids := slices.Compact(slices.Sorted(slices.Values(hostIDs)))
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
// One statement does it, without sorting the hosts' history: for each
// host it walks the failed installations newest first, along the
// (host_id, at) index, and stops at the first that no later attempt at
// the same update follows (newestFailure). (Window functions over every entry sorted the
// whole history first, which was most of an import's time.) A host whose
// summary stays the same is not written.
func refreshFailures(ctx context.Context, q querier, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	arg, _ := json.Marshal(ids)
	// The summaries count hosts by state (failure_days, compliance_hosts):
	// these leave them before the rewrite and come back as it left them.
	if err := adjustHostSummaries(ctx, q, string(arg), -1); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `WITH winners AS (
			SELECT t.value AS host_id, (
				-- Of the newest such failures, which share a time, the last
				-- stored; the time is found first, streaming along the index
				-- with no sort, and ties are rare.
				SELECT max(f.id) FROM update_events f
				WHERE f.host_id = t.value AND `+newestFailure("f")+` AND f.at = (
					SELECT g.at FROM update_events g
					WHERE g.host_id = t.value AND `+newestFailure("g")+`
					ORDER BY g.at DESC LIMIT 1)) AS event_id
			FROM json_each(?1) t
		), cleared AS (
			-- WSUS's word on the newest failure: when it is over, so are the
			-- older ones (notClearedByWSUS), and one check a host does.
			SELECT w.host_id, CASE WHEN `+notClearedByWSUS("e")+` THEN e.id END AS event_id
			FROM winners w LEFT JOIN update_events e ON e.id = w.event_id
		), summary AS (
			SELECT w.host_id, e.id AS event_id, e.hresult, e.at, e.kb, e.title,
				CASE WHEN e.id IS NOT NULL THEN 'failing'
					WHEN EXISTS (SELECT 1 FROM update_events x WHERE x.host_id = w.host_id) THEN 'ok'
					ELSE 'unknown' END AS state
			FROM cleared w LEFT JOIN update_events e ON e.id = w.event_id
		)
		UPDATE hosts SET state = summary.state, fail_event_id = summary.event_id, fail_hresult = summary.hresult,
			fail_at = summary.at, fail_kb = ifnull(summary.kb, ''), fail_title = ifnull(summary.title, '')
		FROM summary
		WHERE hosts.id = summary.host_id
			AND (hosts.state, hosts.fail_event_id, hosts.fail_hresult, hosts.fail_at, hosts.fail_kb, hosts.fail_title)
				IS NOT (summary.state, summary.event_id, summary.hresult, summary.at, ifnull(summary.kb, ''), ifnull(summary.title, ''))`,
		string(arg))
	if err != nil {
		return err
	}
	return adjustHostSummaries(ctx, q, string(arg), 1)
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
