package store

import (
	"context"
	"database/sql"
	"time"
)

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
// state, from compliance_hosts (hosts by group, state and day of last
// report) and, for the day the stale boundary falls in, from the hosts
// that reported that day before it, through their index: no pass over
// every host, no history.
func (s *Store) ComplianceByGroup(ctx context.Context, f ReportFilter) ([]GroupCompliance, error) {
	stale := f.staleBefore(s.now())
	q := `WITH edge AS (
			SELECT wsus_group AS grp, state, count(*) AS n FROM hosts
			WHERE gone_at IS NULL AND state IN ('ok', 'repaired', 'unknown')
				AND wsus_group IN (SELECT DISTINCT grp FROM compliance_hosts WHERE ?2 = '' OR grp = ?2)
				AND last_report_at >= ?3 * 86400000 AND last_report_at < ?1
			GROUP BY 1, 2
		)
		SELECT c.grp, sum(c.hosts),
			sum(iif(c.state = 'failing', c.hosts, 0)),
			sum(iif(c.state <> 'failing' AND c.day < ?3, c.hosts, 0))
				+ ifnull((SELECT sum(n) FROM edge e WHERE e.grp = c.grp), 0),
			sum(iif(c.state = 'unknown' AND c.day >= ?3, c.hosts, 0))
				- ifnull((SELECT n FROM edge e WHERE e.grp = c.grp AND e.state = 'unknown'), 0)
		FROM compliance_hosts c WHERE ?2 = '' OR c.grp = ?2
		GROUP BY c.grp HAVING sum(c.hosts) > 0 ORDER BY c.grp`
	rows, err := s.read.QueryContext(ctx, q, stale, f.Group, stale/msPerDay)
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
