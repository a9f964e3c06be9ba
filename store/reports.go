package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"wsusfix/store/run"
)

// ReportFilter narrows a report: hosts of one WSUS group, repairs of one
// error code, runs created in [Since, Until).
type ReportFilter struct {
	// Group is a primary WSUS group (hosts.wsus_group). Reports divide
	// the estate by each host's primary group, so that every host counts
	// once and a report's groups add up to the estate; triage, which
	// finds hosts, matches a host in any of its groups (failingInGroup).
	Group string
	Code  uint32 // 0: every code
	Since time.Time
	Until time.Time
	// StaleDays makes a host that has not reported for so many days
	// stale (default 30).
	StaleDays int
}

// args are f's bounds as the report queries number them: ?1 since, ?2
// until (exclusive), ?3 the group, ?4 the code.
func (f ReportFilter) args() []any {
	return []any{msOr(f.Since, 0), msOr(f.Until, 1<<62), f.Group, int64(f.Code)}
}

// current reports whether f's window reaches now, so that each host's
// latest repair (repair_latest) is the latest in the window too.
func (f ReportFilter) current(now time.Time) bool { return f.Until.IsZero() || !f.Until.Before(now) }

// hostJoin is the join and condition that keep runs of f's group; none
// without one, so the runs' index answers alone. The group is parameter ?3.
func (f ReportFilter) hostJoin() (join, cond string) {
	if f.Group == "" {
		return "", " AND ?3 = ''"
	}
	return " JOIN hosts h ON h.id = r.host_id", " AND h.wsus_group = ?3"
}

func (f ReportFilter) staleBefore(now time.Time) int64 {
	days := f.StaleDays
	if days <= 0 {
		days = 30
	}
	return now.AddDate(0, 0, -days).UnixMilli()
}

// WeekActivity is one week's finished repairs, by how they ended, as the
// evidence groups outcomes.
type WeekActivity struct {
	Week time.Time // the Monday it begins, UTC
	Evidence
}

// Runs is how many repairs finished that week.
func (w WeekActivity) Runs() int {
	return w.Repaired + w.StillFailing + w.CouldNotRun + w.NoProof + w.Stopped
}

// RepairActivity counts finished repairs by the week they were created
// (weeks from Monday, UTC) and outcome, oldest week first. Every run
// counts, a host repaired twice twice: this is the work done, where the
// evidence is what it achieved per host.
//
// Over whole days it sums repair_days; a window that splits a day counts
// the runs.
func (s *Store) RepairActivity(ctx context.Context, f ReportFilter) ([]WeekActivity, error) {
	var rows *sql.Rows
	var err error
	if since, until, ok := f.days(); ok {
		rows, err = s.read.QueryContext(ctx, `SELECT date(week * 86400, 'unixepoch'), outcome, n FROM (
				SELECT `+dayWeek("day")+` AS week, outcome, sum(runs) AS n FROM repair_days
				WHERE day >= ?1 AND day < ?2 AND (?3 = '' OR grp = ?3) AND (?4 = 0 OR code = ?4)
				GROUP BY week, outcome)
			ORDER BY week`, f.dayArgs(since, until)...)
	} else {
		join, group := f.hostJoin()
		rows, err = s.read.QueryContext(ctx, `SELECT date(r.created_at / 1000, 'unixepoch', '-6 days', 'weekday 1') AS week,
				r.outcome, count(*)
			FROM runs r`+join+`
			WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running')
				AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)`+group+`
			GROUP BY week, r.outcome ORDER BY week`, f.args()...)
	}
	if err != nil {
		return nil, mapErr("repair activity", err)
	}
	defer rows.Close()
	var out []WeekActivity
	for rows.Next() {
		var week string
		var o run.Outcome
		var n int
		if err := rows.Scan(&week, &o, &n); err != nil {
			return nil, mapErr("repair activity", err)
		}
		t, err := time.Parse("2006-01-02", week)
		if err != nil {
			return nil, mapErr("repair activity", err)
		}
		if len(out) == 0 || !out[len(out)-1].Week.Equal(t) {
			out = append(out, WeekActivity{Week: t})
		}
		w := &out[len(out)-1]
		*evidenceKind(o)(&w.Evidence) += n
		w.Hosts += n
	}
	return out, mapErr("repair activity", rows.Err())
}

// OSSuccess is what the repair did on one OS: each host's latest finished
// repair, by outcome.
type OSSuccess struct {
	OS string
	Evidence
}

// RepairByOS groups hosts' latest finished repairs in the window by the
// host's OS, most hosts first.
func (s *Store) RepairByOS(ctx context.Context, f ReportFilter) ([]OSSuccess, error) {
	rows, err := s.repairByOSRows(ctx, f)
	if err != nil {
		return nil, mapErr("repair by os", err)
	}
	defer rows.Close()
	byOS := map[string]*OSSuccess{}
	for rows.Next() {
		var os string
		var o run.Outcome
		var n int
		if err := rows.Scan(&os, &o, &n); err != nil {
			return nil, mapErr("repair by os", err)
		}
		e := byOS[os]
		if e == nil {
			e = &OSSuccess{OS: os}
			byOS[os] = e
		}
		*evidenceKind(o)(&e.Evidence) += n
		e.Hosts += n
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("repair by os", err)
	}
	out := make([]OSSuccess, 0, len(byOS))
	for _, e := range byOS {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b OSSuccess) int {
		if a.Hosts != b.Hosts {
			return b.Hosts - a.Hosts
		}
		if a.OS < b.OS {
			return -1
		}
		return 1
	})
	return out, nil
}

// repairByOSRows counts hosts by OS and the outcome of their latest
// repair in f's window. A window open to now that begins at a day's start
// sums the summaries: each host's latest of any code (repair_host_days),
// or of f's code (repair_latest_days). Another window finds each host's
// latest repair, by the bare-column rule of max() (see RepairEvidence):
// from repair_latest for a window open to now, from the runs otherwise.
func (s *Store) repairByOSRows(ctx context.Context, f ReportFilter) (*sql.Rows, error) {
	current := f.current(s.now())
	if since, ok := f.sinceDay(); ok && current {
		src := "repair_host_days WHERE ?4 = 0"
		if f.Code != 0 {
			src = "repair_latest_days WHERE code = ?4"
		}
		return s.read.QueryContext(ctx, `SELECT os, outcome, sum(hosts) FROM `+src+`
			AND day >= ?1 AND (?3 = '' OR grp = ?3)
			GROUP BY os, outcome`, f.dayArgs(since, 0)...)
	}
	join, group := f.hostJoin()
	src := `FROM runs r` + join + `
			WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running')
				AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)` + group
	if current {
		src = `FROM repair_latest r` + join + `
			WHERE r.created_at >= ?1 AND (?4 = 0 OR r.code = ?4)` + group
	}
	return s.read.QueryContext(ctx, `WITH latest AS (
			SELECT r.host_id AS host_id, r.outcome AS outcome, max(r.created_at)
			`+src+`
			GROUP BY r.host_id
		)
		SELECT h.os_caption, l.outcome, count(*) FROM latest l JOIN hosts h ON h.id = l.host_id
		GROUP BY h.os_caption, l.outcome`, f.args()...)
}

// TimeToRepair returns how long verified repairs in the window took from
// the failure their host had when they began to the repair's end: the
// median and how many repairs it is of. Runs from before the store kept a
// run's failure have no start and are left out.
//
// SQLite finds the median: it counts the repairs and sorts them, and only
// the middle one or two come back, instead of every repair's time.
func (s *Store) TimeToRepair(ctx context.Context, f ReportFilter) (median time.Duration, n int, err error) {
	join, group := f.hostJoin()
	rows, err := s.read.QueryContext(ctx, `WITH took AS MATERIALIZED (
			SELECT max(r.finished_at - r.fail_at, 0) AS d
			FROM runs r`+join+`
			WHERE r.procedure = 'repair' AND r.outcome = 'repaired' AND r.fail_at IS NOT NULL AND r.finished_at IS NOT NULL
				AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)`+group+`
		), total AS (SELECT count(*) AS n FROM took)
		SELECT total.n, took.d FROM took, total
		ORDER BY took.d LIMIT 2 - (SELECT n FROM total) % 2 OFFSET ((SELECT n FROM total) - 1) / 2`, f.args()...)
	if err != nil {
		return 0, 0, mapErr("time to repair", err)
	}
	defer rows.Close()
	var mid []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&n, &d); err != nil {
			return 0, 0, mapErr("time to repair", err)
		}
		mid = append(mid, d)
	}
	if err := rows.Err(); err != nil || len(mid) == 0 {
		return 0, 0, mapErr("time to repair", err)
	}
	m := mid[0]
	if len(mid) == 2 {
		m = (mid[0] + mid[1]) / 2
	}
	return time.Duration(m) * time.Millisecond, n, nil
}

// msOr is t in unix milliseconds, or def for a zero time.
func msOr(t time.Time, def int64) int64 {
	if t.IsZero() {
		return def
	}
	return t.UnixMilli()
}

// WeekFailures is how many of today's failing hosts began failing in a
// week, by error code.
type WeekFailures struct {
	Week   time.Time
	ByCode map[uint32]int
}

// FailuresByWeek counts the failing hosts (not gone) by the week their
// current failure happened and its code, oldest week first, from the
// hosts table: when today's failures began. Over whole days it sums
// failure_days; a window that splits a day counts the hosts.
func (s *Store) FailuresByWeek(ctx context.Context, f ReportFilter) ([]WeekFailures, error) {
	var rows *sql.Rows
	var err error
	if since, until, ok := f.days(); ok {
		rows, err = s.read.QueryContext(ctx, `SELECT date(week * 86400, 'unixepoch'), code, n FROM (
				SELECT `+dayWeek("day")+` AS week, code, sum(hosts) AS n FROM failure_days
				WHERE day >= ?1 AND day < ?2 AND (?3 = '' OR grp = ?3) AND (?4 = 0 OR code = ?4)
				GROUP BY week, code)
			ORDER BY week`, f.dayArgs(since, until)...)
	} else {
		rows, err = s.read.QueryContext(ctx, `SELECT date(fail_at / 1000, 'unixepoch', '-6 days', 'weekday 1') AS week,
				fail_hresult, count(*)
			FROM hosts WHERE state = 'failing' AND gone_at IS NULL AND fail_at >= ?1 AND fail_at < ?2
				AND (?3 = '' OR wsus_group = ?3) AND (?4 = 0 OR fail_hresult = ?4)
			GROUP BY week, fail_hresult ORDER BY week`, f.args()...)
	}
	if err != nil {
		return nil, mapErr("failures by week", err)
	}
	defer rows.Close()
	var out []WeekFailures
	for rows.Next() {
		var week string
		var code int64
		var n int
		if err := rows.Scan(&week, &code, &n); err != nil {
			return nil, mapErr("failures by week", err)
		}
		t, err := time.Parse("2006-01-02", week)
		if err != nil {
			return nil, mapErr("failures by week", err)
		}
		if len(out) == 0 || !out[len(out)-1].Week.Equal(t) {
			out = append(out, WeekFailures{Week: t, ByCode: map[uint32]int{}})
		}
		out[len(out)-1].ByCode[uint32(code)] += n
	}
	return out, mapErr("failures by week", rows.Err())
}
