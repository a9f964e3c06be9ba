package store

import (
	"context"
	"database/sql"
	"encoding/json"
)

// msPerDay is a day in milliseconds: the summaries of migration 0014
// count by day number, a time in milliseconds divided by it.
const msPerDay = 86_400_000

// dayWeek is the SQL that turns the day number d into the day number of
// the Monday its week begins (1970-01-01, day 0, was a Thursday), as
// date(…, '-6 days', 'weekday 1') does for a date, with no text.
func dayWeek(d string) string { return "(" + d + " - (" + d + " + 3) % 7)" }

// days are f's bounds as day numbers, for the summaries: ok only when
// both are whole UTC days (the reports page's are), since a summary
// cannot split a day. A zero Until is the end of time.
func (f ReportFilter) days() (since, until int64, ok bool) {
	s, u := msOr(f.Since, 0), msOr(f.Until, 0)
	if s < 0 || s%msPerDay != 0 || u < 0 || u%msPerDay != 0 {
		return 0, 0, false
	}
	if f.Until.IsZero() {
		u = 1 << 62
	}
	return s / msPerDay, u / msPerDay, true
}

// sinceDay is f's Since as a day number, ok when it is a day's start.
func (f ReportFilter) sinceDay() (int64, bool) {
	s := msOr(f.Since, 0)
	return s / msPerDay, s >= 0 && s%msPerDay == 0
}

// dayArgs are f's bounds as the summary queries number them: ?1 the
// first day, ?2 the day after the last, ?3 the group, ?4 the code.
func (f ReportFilter) dayArgs(since, until int64) []any {
	return []any{since, until, f.Group, int64(f.Code)}
}

// summaryShare is one summary table's share of some hosts: the upsert
// adding ?2 (1 or -1) times the share of the hosts in the JSON array ?1,
// as they stand now, and the DELETE of the counts that came to nothing.
type summaryShare struct{ upsert, prune string }

// The shares an update of hosts moves. Whatever rewrites a host's state,
// failure, group, OS or gone mark subtracts its shares before and adds
// them after, in the same transaction, so the summaries stay the counts
// they summarize without a trigger on every host; a refresh of failure
// summaries, which knows each changed host before and after, counts its
// changes itself (failureChanges) instead.
var (
	// failureDaysShare: failing hosts (not gone) by day, group and code.
	failureDaysShare = summaryShare{`INSERT INTO failure_days (day, grp, code, hosts)
		SELECT fail_at / 86400000, wsus_group, ifnull(fail_hresult, 0), ?2 * count(*) FROM hosts
		WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'failing' AND gone_at IS NULL AND fail_at IS NOT NULL
		GROUP BY 1, 2, 3
		ON CONFLICT (day, grp, code) DO UPDATE SET hosts = hosts + excluded.hosts`,
		"DELETE FROM failure_days WHERE hosts = 0"}
	// complianceShare: hosts (not gone) by group, state and report day.
	complianceShare = summaryShare{`INSERT INTO compliance_hosts (grp, state, day, hosts)
		SELECT wsus_group, state, ifnull(last_report_at, 0) / 86400000, ?2 * count(*) FROM hosts
		WHERE id IN (SELECT value FROM json_each(?1)) AND gone_at IS NULL
		GROUP BY 1, 2, 3
		ON CONFLICT (grp, state, day) DO UPDATE SET hosts = hosts + excluded.hosts`,
		"DELETE FROM compliance_hosts WHERE hosts = 0"}
	// repairShares: the hosts' repairs under their group and OS (the
	// triggers of migration 0014 count runs as they end, under the host's
	// group then), so a host that moves carries its runs along.
	repairShares = []summaryShare{
		{`INSERT INTO repair_days (day, grp, code, outcome, runs)
			SELECT r.created_at / 86400000, h.wsus_group, ifnull(r.fail_hresult, 0), r.outcome, ?2 * count(*)
			FROM runs r JOIN hosts h ON h.id = r.host_id
			WHERE r.host_id IN (SELECT value FROM json_each(?1)) AND r.procedure = 'repair'
				AND r.state NOT IN ('queued', 'running')
			GROUP BY 1, 2, 3, 4
			ON CONFLICT (day, grp, code, outcome) DO UPDATE SET runs = runs + excluded.runs`,
			"DELETE FROM repair_days WHERE runs = 0"},
		{`INSERT INTO repair_latest_days (day, grp, os, code, outcome, hosts)
			SELECT l.created_at / 86400000, h.wsus_group, h.os_caption, l.code, l.outcome, ?2 * count(*)
			FROM repair_latest l JOIN hosts h ON h.id = l.host_id
			WHERE l.host_id IN (SELECT value FROM json_each(?1))
			GROUP BY 1, 2, 3, 4, 5
			ON CONFLICT (day, grp, os, code, outcome) DO UPDATE SET hosts = hosts + excluded.hosts`,
			"DELETE FROM repair_latest_days WHERE hosts = 0"},
		{`INSERT INTO repair_host_days (day, grp, os, outcome, hosts)
			SELECT l.created_at / 86400000, h.wsus_group, h.os_caption, l.outcome, ?2 * count(*)
			FROM repair_host_latest l JOIN hosts h ON h.id = l.host_id
			WHERE l.host_id IN (SELECT value FROM json_each(?1))
			GROUP BY 1, 2, 3, 4
			ON CONFLICT (day, grp, os, outcome) DO UPDATE SET hosts = hosts + excluded.hosts`,
			"DELETE FROM repair_host_days WHERE hosts = 0"},
	}
)

// adjustShares adds sign (1 or -1) times the hosts' (ids, a JSON array)
// shares of the summaries; the adding half drops the counts that came to
// nothing, once for all the hosts.
func adjustShares(ctx context.Context, q querier, ids string, sign int, shares ...summaryShare) error {
	for _, sh := range shares {
		if _, err := q.ExecContext(ctx, sh.upsert, ids, sign); err != nil {
			return err
		}
	}
	if sign < 0 {
		return nil
	}
	for _, sh := range shares {
		if _, err := q.ExecContext(ctx, sh.prune); err != nil {
			return err
		}
	}
	return nil
}

// adjustHostSummaries adds sign times the hosts' shares that a change of
// their state or gone mark moves: failure_days and compliance_hosts.
func adjustHostSummaries(ctx context.Context, q querier, ids string, sign int) error {
	return adjustShares(ctx, q, ids, sign, failureDaysShare, complianceShare)
}

// complianceKey is one row of compliance_hosts.
type complianceKey struct {
	group, state string
	day          int64
}

// complianceDelta is changes to compliance_hosts gathered in Go, for an
// upsert that knows each host's fields before and after and so need not
// read them back.
type complianceDelta map[complianceKey]int

// move counts a host out of from and into to; wasIn and isIn say whether
// it was, and is, in the inventory (not gone).
func (d complianceDelta) move(from complianceKey, wasIn bool, to complianceKey, isIn bool) {
	if wasIn {
		d[from]--
	}
	if isIn {
		d[to]++
	}
}

// apply writes the changes in one statement, and drops the counts that
// came to nothing.
func (d complianceDelta) apply(ctx context.Context, q querier) error {
	rows := make([][4]any, 0, len(d))
	for k, n := range d {
		if n != 0 {
			rows = append(rows, [4]any{k.group, k.state, k.day, n})
		}
	}
	return addCounts(ctx, q, rows, `INSERT INTO compliance_hosts (grp, state, day, hosts)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
		ON CONFLICT (grp, state, day) DO UPDATE SET hosts = hosts + excluded.hosts`,
		"DELETE FROM compliance_hosts WHERE hosts = 0")
}

// failureKey is one row of failure_days.
type failureKey struct {
	day   int64
	group string
	code  int64
}

// failureDelta is changes to failure_days gathered in Go, as
// complianceDelta is for compliance_hosts.
type failureDelta map[failureKey]int

// apply writes the changes in one statement, and drops the counts that
// came to nothing.
func (d failureDelta) apply(ctx context.Context, q querier) error {
	rows := make([][4]any, 0, len(d))
	for k, n := range d {
		if n != 0 {
			rows = append(rows, [4]any{k.day, k.group, k.code, n})
		}
	}
	return addCounts(ctx, q, rows, `INSERT INTO failure_days (day, grp, code, hosts)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
		ON CONFLICT (day, grp, code) DO UPDATE SET hosts = hosts + excluded.hosts`,
		"DELETE FROM failure_days WHERE hosts = 0")
}

// addCounts adds rows, each a summary's key and a count (its last value),
// with upsert, then runs prune when a count went down: only a count that
// went down can have come to nothing.
func addCounts(ctx context.Context, q querier, rows [][4]any, upsert, prune string) error {
	if len(rows) == 0 {
		return nil
	}
	arg, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, upsert, string(arg)); err != nil {
		return err
	}
	for _, r := range rows {
		if r[3].(int) < 0 {
			_, err := q.ExecContext(ctx, prune)
			return err
		}
	}
	return nil
}

// reportDay is the day number of a time in milliseconds, 0 for none, as
// the summaries store it.
func reportDay(ms sql.NullInt64) int64 { return ms.Int64 / msPerDay }

// idList is ids as the JSON array the summaries' statements read.
func idList(ids ...int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
