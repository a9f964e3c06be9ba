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
	return " JOIN hosts h ON h.id = r.host_id", " AND " + inGroup("h.id", "h.wsus_group", "?3")
}

func (f ReportFilter) staleBefore(now time.Time) int64 {
	days := f.StaleDays
	if days <= 0 {
		days = 30
	}
	return now.AddDate(0, 0, -days).UnixMilli()
}

// GroupCompliance is one WSUS group's hosts by state. Each host is
// counted once, in the first that fits: failing, stale (no report for
// StaleDays), unknown (no history), compliant.
type GroupCompliance struct {
	Group                                string // "" for hosts in no group
	Hosts, Failing, Stale, Unknown, Okay int
}

// Compliant is the share of the group's hosts that are compliant, 0 to 1.
func (g GroupCompliance) Compliant() float64 {
	if g.Hosts == 0 {
		return 0
	}
	return float64(g.Okay) / float64(g.Hosts)
}

// ComplianceByGroup counts the inventory's hosts (not gone) by group and
// state, from the hosts table alone: one pass over its rows, no history.
func (s *Store) ComplianceByGroup(ctx context.Context, f ReportFilter) ([]GroupCompliance, error) {
	stale := f.staleBefore(s.now())
	q := `SELECT wsus_group, count(*),
			sum(state = 'failing'),
			sum(state <> 'failing' AND ifnull(last_report_at, 0) < ?1),
			sum(state = 'unknown' AND ifnull(last_report_at, 0) >= ?1)
		FROM hosts WHERE gone_at IS NULL AND (?2 = '' OR ` + inGroup("hosts.id", "wsus_group", "?2") + `)
		GROUP BY wsus_group ORDER BY wsus_group`
	rows, err := s.read.QueryContext(ctx, q, stale, f.Group)
	if err != nil {
		return nil, mapErr("compliance", err)
	}
	defer rows.Close()
	var out []GroupCompliance
	for rows.Next() {
		var g GroupCompliance
		if err := rows.Scan(&g.Group, &g.Hosts, &g.Failing, &g.Stale, &g.Unknown); err != nil {
			return nil, mapErr("compliance", err)
		}
		g.Okay = g.Hosts - g.Failing - g.Stale - g.Unknown
		out = append(out, g)
	}
	return out, mapErr("compliance", rows.Err())
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
func (s *Store) RepairActivity(ctx context.Context, f ReportFilter) ([]WeekActivity, error) {
	join, group := f.hostJoin()
	rows, err := s.read.QueryContext(ctx, `SELECT date(r.created_at / 1000, 'unixepoch', '-6 days', 'weekday 1') AS week,
			r.outcome, count(*)
		FROM runs r`+join+`
		WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running')
			AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)`+group+`
		GROUP BY week, r.outcome ORDER BY week`, f.args()...)
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
	join, group := f.hostJoin()
	// Each host's latest repair, by the bare-column rule of max() (see
	// RepairEvidence), then counted by the host's OS: from repair_latest
	// for a window open to now, from the runs otherwise.
	src := `FROM runs r` + join + `
			WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running')
				AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)` + group
	if f.current(s.now()) {
		src = `FROM repair_latest r` + join + `
			WHERE r.created_at >= ?1 AND (?4 = 0 OR r.code = ?4)` + group
	}
	rows, err := s.read.QueryContext(ctx, `WITH latest AS (
			SELECT r.host_id AS host_id, r.outcome AS outcome, max(r.created_at)
			`+src+`
			GROUP BY r.host_id
		)
		SELECT h.os_caption, l.outcome, count(*) FROM latest l JOIN hosts h ON h.id = l.host_id
		GROUP BY h.os_caption, l.outcome`, f.args()...)
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

// TimeToRepair returns how long verified repairs in the window took from
// the failure their host had when they began to the repair's end: the
// median and how many repairs it is of. Runs from before the store kept a
// run's failure have no start and are left out.
func (s *Store) TimeToRepair(ctx context.Context, f ReportFilter) (median time.Duration, n int, err error) {
	join, group := f.hostJoin()
	rows, err := s.read.QueryContext(ctx, `SELECT r.finished_at - r.fail_at
		FROM runs r`+join+`
		WHERE r.procedure = 'repair' AND r.outcome = 'repaired' AND r.fail_at IS NOT NULL AND r.finished_at IS NOT NULL
			AND r.created_at >= ?1 AND r.created_at < ?2 AND (?4 = 0 OR r.fail_hresult = ?4)`+group+`
		ORDER BY 1`, f.args()...)
	if err != nil {
		return 0, 0, mapErr("time to repair", err)
	}
	defer rows.Close()
	var all []int64
	for rows.Next() {
		var d sql.NullInt64
		if err := rows.Scan(&d); err != nil {
			return 0, 0, mapErr("time to repair", err)
		}
		all = append(all, max(d.Int64, 0))
	}
	if err := rows.Err(); err != nil || len(all) == 0 {
		return 0, 0, mapErr("time to repair", err)
	}
	m := all[len(all)/2]
	if len(all)%2 == 0 {
		m = (all[len(all)/2-1] + all[len(all)/2]) / 2
	}
	return time.Duration(m) * time.Millisecond, len(all), nil
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
// hosts table and its failing index: when today's failures began.
func (s *Store) FailuresByWeek(ctx context.Context, f ReportFilter) ([]WeekFailures, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT date(fail_at / 1000, 'unixepoch', '-6 days', 'weekday 1') AS week,
			fail_hresult, count(*)
		FROM hosts WHERE state = 'failing' AND gone_at IS NULL AND fail_at >= ?1 AND fail_at < ?2
			AND (?3 = '' OR `+inGroup("hosts.id", "wsus_group", "?3")+`) AND (?4 = 0 OR fail_hresult = ?4)
		GROUP BY week, fail_hresult ORDER BY week`, f.args()...)
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

// RecordCompliance stores today's compliance by group (hosts stale after
// staleDays), replacing what an earlier count today stored, and returns
// how many groups it wrote. The dashboard calls it at start and hourly,
// so the trend needs no recount of the past.
func (s *Store) RecordCompliance(ctx context.Context, staleDays int) (int, error) {
	groups, err := s.ComplianceByGroup(ctx, ReportFilter{StaleDays: staleDays})
	if err != nil {
		return 0, err
	}
	day := s.now().UTC().Format("2006-01-02")
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// A group emptied since the last count today must not linger.
		if _, err := tx.ExecContext(ctx, "DELETE FROM compliance_days WHERE day = ?", day); err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO compliance_days (day, grp, hosts, failing, stale, unknown, okay)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, day, g.Group, g.Hosts, g.Failing, g.Stale, g.Unknown, g.Okay); err != nil {
				return err
			}
		}
		return nil
	})
	return len(groups), mapErr("record compliance", err)
}

// WeekCompliance is the inventory's compliance at the end of a week: the
// last day of the week that has a count.
type WeekCompliance struct {
	Week time.Time // the Monday it begins
	Day  time.Time // the day counted
	GroupCompliance
}

// ComplianceTrend returns, for each week in f's window that has a count,
// the compliance of its last counted day (of f's group, or all groups
// summed), oldest first.
func (s *Store) ComplianceTrend(ctx context.Context, f ReportFilter) ([]WeekCompliance, error) {
	rows, err := s.read.QueryContext(ctx, `WITH days AS (
			SELECT day, date(day, '-6 days', 'weekday 1') AS week,
				sum(hosts) AS hosts, sum(failing) AS failing, sum(stale) AS stale, sum(unknown) AS unknown, sum(okay) AS okay
			FROM compliance_days
			WHERE day >= ?1 AND day < ?2 AND (?3 = '' OR grp = ?3)
			GROUP BY day
		), last AS (
			SELECT *, row_number() OVER (PARTITION BY week ORDER BY day DESC) AS rn FROM days
		)
		SELECT week, day, hosts, failing, stale, unknown, okay FROM last WHERE rn = 1 ORDER BY week`,
		dayOr(f.Since, "0000-01-01"), dayOr(f.Until, "9999-12-31"), f.Group)
	if err != nil {
		return nil, mapErr("compliance trend", err)
	}
	defer rows.Close()
	var out []WeekCompliance
	for rows.Next() {
		var week, day string
		var w WeekCompliance
		g := &w.GroupCompliance
		if err := rows.Scan(&week, &day, &g.Hosts, &g.Failing, &g.Stale, &g.Unknown, &g.Okay); err != nil {
			return nil, mapErr("compliance trend", err)
		}
		w.Week, _ = time.Parse("2006-01-02", week)
		w.Day, _ = time.Parse("2006-01-02", day)
		out = append(out, w)
	}
	return out, mapErr("compliance trend", rows.Err())
}

// dayOr is t as YYYY-MM-DD (UTC), or def for a zero time.
func dayOr(t time.Time, def string) string {
	if t.IsZero() {
		return def
	}
	return t.UTC().Format("2006-01-02")
}
