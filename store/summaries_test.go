package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store/run"
)

// recounts are, for each summary table of migration 0014, its rows and the
// same rows counted afresh from the tables it summarizes.
var recounts = []struct{ table, stored, fresh string }{
	{"failure_days", `SELECT day, grp, code, hosts FROM failure_days`,
		`SELECT fail_at / 86400000, wsus_group, ifnull(fail_hresult, 0), count(*) FROM hosts
		WHERE state = 'failing' AND gone_at IS NULL AND fail_at IS NOT NULL GROUP BY 1, 2, 3`},
	{"compliance_hosts", `SELECT grp, state, day, hosts FROM compliance_hosts`,
		`SELECT wsus_group, state, ifnull(last_report_at, 0) / 86400000, count(*) FROM hosts
		WHERE gone_at IS NULL GROUP BY 1, 2, 3`},
	{"repair_days", `SELECT day, grp, code, outcome, runs FROM repair_days`,
		`SELECT r.created_at / 86400000, h.wsus_group, ifnull(r.fail_hresult, 0), r.outcome, count(*)
		FROM runs r JOIN hosts h ON h.id = r.host_id
		WHERE r.procedure = 'repair' AND r.state NOT IN ('queued', 'running') GROUP BY 1, 2, 3, 4`},
	{"repair_latest_days", `SELECT day, grp, os, code, outcome, hosts FROM repair_latest_days`,
		`SELECT l.created_at / 86400000, h.wsus_group, h.os_caption, l.code, l.outcome, count(*)
		FROM (SELECT host_id, ifnull(fail_hresult, 0) AS code, outcome, max(created_at) AS created_at FROM runs
			WHERE procedure = 'repair' AND finished_at IS NOT NULL GROUP BY host_id, ifnull(fail_hresult, 0)) l
		JOIN hosts h ON h.id = l.host_id GROUP BY 1, 2, 3, 4, 5`},
	{"repair_host_latest", `SELECT host_id, created_at, run_id, outcome FROM repair_host_latest`,
		`SELECT host_id, created_at, id, outcome FROM (
			SELECT host_id, created_at, id, outcome,
				row_number() OVER (PARTITION BY host_id ORDER BY created_at DESC, id DESC) AS rn
			FROM runs WHERE procedure = 'repair' AND finished_at IS NOT NULL)
		WHERE rn = 1`},
	{"repair_host_days", `SELECT day, grp, os, outcome, hosts FROM repair_host_days`,
		`SELECT r.created_at / 86400000, h.wsus_group, h.os_caption, r.outcome, count(*) FROM (
			SELECT host_id, created_at, outcome,
				row_number() OVER (PARTITION BY host_id ORDER BY created_at DESC, id DESC) AS rn
			FROM runs WHERE procedure = 'repair' AND finished_at IS NOT NULL) r
		JOIN hosts h ON h.id = r.host_id WHERE r.rn = 1 GROUP BY 1, 2, 3, 4`},
	{"hosts' newest run", `SELECT id, last_run_id, last_run_procedure, last_run_outcome, last_run_finished_at FROM hosts
		WHERE last_run_id IS NOT NULL`,
		`SELECT r.host_id, r.id, r.procedure, r.outcome, r.finished_at FROM runs r
		WHERE r.id IN (SELECT max(id) FROM runs GROUP BY host_id)`},
}

// tableRows reads a query's rows as text, sorted, to compare row sets.
func tableRows(t *testing.T, s *Store, q string) []string {
	t.Helper()
	return dbRows(t, s.read, q)
}

// dbRows is tableRows through any pool on the file.
func dbRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkSummaries fails the test when a summary differs from a recount of
// what it summarizes, or holds a count of nothing.
func checkSummaries(t *testing.T, s *Store, when string) {
	t.Helper()
	for _, rc := range recounts {
		stored, fresh := tableRows(t, s, rc.stored), tableRows(t, s, rc.fresh)
		if d := cmp.Diff(fresh, stored); d != "" {
			t.Errorf("%s: %s differs from a recount (-recount +stored):\n%s", when, rc.table, d)
		}
		for _, r := range stored {
			if strings.HasSuffix(r, "|0") && rc.table != "repair_host_latest" && rc.table != "hosts' newest run" {
				t.Errorf("%s: %s keeps an empty count: %s", when, rc.table, r)
			}
		}
	}
}

// TestStore_SummariesFollowChanges ensures every summary the reports read
// equals a recount of the hosts and runs after each kind of change: an
// import of hosts and of history, runs that end (and one written already
// finished), runs interrupted, hosts that move group or OS or report
// again, a sync that marks hosts gone and brings one back, and a repair's
// verdict on a host.
func TestStore_SummariesFollowChanges(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	recent, old := fixedNow.Add(-36*time.Hour), fixedNow.AddDate(0, 0, -60)
	addHosts(t, s,
		HostInput{Name: "A1", Group: "Branch", OSCaption: "Windows 11", LastReportAt: recent},
		HostInput{Name: "A2", Group: "Branch", OSCaption: "Windows 10", LastReportAt: old},
		HostInput{Name: "A3", Group: "Branch", OSCaption: "Windows 11"},
		HostInput{Name: "B1", Group: "Servers", OSCaption: "Server 2022", LastReportAt: recent},
		HostInput{Name: "B2", Group: "Servers", OSCaption: "Server 2022", LastReportAt: recent})
	checkSummaries(t, s, "hosts imported")
	addEvents(t, s, ev("A1", 10, "1", run.ResultFailed, 0x80070002), ev("A2", 11, "1", run.ResultFailed, 0x80244022),
		ev("A3", 12, "1", run.ResultSucceeded, 0), ev("B1", 13, "1", run.ResultFailed, 0x80070002),
		ev("B2", 14, "1", run.ResultFailed, 0x80070643))
	checkSummaries(t, s, "history imported")

	repair := func(name string, at time.Time, o run.Outcome) {
		t.Helper()
		s.now = func() time.Time { return at }
		h, err := s.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartRun(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return at.Add(time.Hour) }
		if _, err := s.FinishRun(ctx, r.ID, RunResult{State: run.StateSucceeded, Outcome: o}); err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return fixedNow }
	}
	repair("A1", fixedNow.AddDate(0, 0, -9), run.OutcomeUnreachable)
	repair("A1", fixedNow.AddDate(0, 0, -2), run.OutcomeRepaired)
	repair("A2", fixedNow.AddDate(0, 0, -5), run.OutcomeStillFailing)
	repair("B1", fixedNow.AddDate(0, 0, -1), run.OutcomeRepaired)
	checkSummaries(t, s, "runs ended")

	// A run written already finished, and two left active at a restart.
	a3, _ := s.HostByName(ctx, "A3")
	if _, err := s.write.ExecContext(ctx, `INSERT INTO runs (host_id, procedure, requested_by, state, outcome,
		created_at, started_at, finished_at) VALUES (?, 'repair', 't', 'succeeded', 'repaired', ?, ?, ?)`,
		a3.ID, day(20).UnixMilli(), day(20).UnixMilli(), day(21).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A2", "B2"} {
		h, _ := s.HostByName(ctx, name)
		if _, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	checkSummaries(t, s, "runs queued")
	if n, err := s.InterruptRuns(ctx, "restart"); err != nil || n != 2 {
		t.Fatalf("interrupted %d, %v", n, err)
	}
	checkSummaries(t, s, "runs interrupted")

	// A1 moves to Servers and a new OS; A2 reports again; B2 is unchanged.
	addHosts(t, s,
		HostInput{Name: "A1", Group: "Servers", OSCaption: "Windows 11 24H2", LastReportAt: recent},
		HostInput{Name: "A2", Group: "Branch", OSCaption: "Windows 10", LastReportAt: recent},
		HostInput{Name: "B2", Group: "Servers", OSCaption: "Server 2022", LastReportAt: recent},
		HostInput{Name: "C1", Group: "Lab", LastReportAt: old},
		HostInput{Name: "C1", Group: "Lab", OSCaption: "Windows 11", LastReportAt: recent}) // named twice in one call
	checkSummaries(t, s, "hosts updated")

	// A sync lists B1 and B2; a later full one lists B2 only, so B1 is
	// gone; the one after lists B1 again, in a new group.
	sync := func(at time.Time, names ...string) {
		t.Helper()
		var in []HostInput
		for _, n := range names {
			in = append(in, HostInput{Name: n, Group: "Servers", OSCaption: "Server 2022", LastReportAt: at,
				WSUS: &WSUSFacts{Server: "wsus1", ComputerID: "id-" + n, Failed: 1, SeenAt: at}})
		}
		addHosts(t, s, in...)
	}
	sync(fixedNow.Add(-3*time.Hour), "B1", "B2")
	checkSummaries(t, s, "synced")
	sync(fixedNow.Add(-2*time.Hour), "B2")
	if n, err := s.MarkWSUSGone(ctx, "wsus1", fixedNow.Add(-2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("marked %d gone, %v", n, err)
	}
	checkSummaries(t, s, "marked gone")
	addHosts(t, s, HostInput{Name: "B1", Group: "Branch", OSCaption: "Server 2022", LastReportAt: fixedNow,
		WSUS: &WSUSFacts{Server: "wsus1", ComputerID: "id-B1", Failed: 0, SeenAt: fixedNow}})
	checkSummaries(t, s, "back from gone")
	// Several hosts move in one call, one of them twice, one back from gone
	// too: each leaves the summaries once and comes back once, where it
	// ends.
	addHosts(t, s, HostInput{Name: "A1", Group: "Lab", OSCaption: "Windows 11 24H2", LastReportAt: recent},
		HostInput{Name: "A3", Group: "Servers", OSCaption: "Windows 11 23H2"},
		HostInput{Name: "B1", Group: "Branch", OSCaption: "Server 2025", LastReportAt: fixedNow,
			WSUS: &WSUSFacts{Server: "wsus1", ComputerID: "id-B1", SeenAt: fixedNow}},
		HostInput{Name: "a1", Group: "Branch", OSCaption: "Windows 10", LastReportAt: recent})
	checkSummaries(t, s, "several moved in one call")

	b2, _ := s.HostByName(ctx, "B2")
	if err := s.SetHostState(ctx, b2.ID, "repaired"); err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, s, "host state set")
	if err := s.RefreshFailures(ctx, []int64{a3.ID, b2.ID}); err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, s, "failures refreshed")
	// A host with failures that all got fixed leaves failure_days.
	addEvents(t, s, ev("A2", 15, "1", run.ResultSucceeded, 0))
	checkSummaries(t, s, "failure cleared")
	if rows := tableRows(t, s, "SELECT count(*) FROM failure_days"); len(rows) != 1 || rows[0] == "0" {
		t.Errorf("failure_days empty: the test no longer counts anything")
	}
}

// TestStore_ReportsFromSummariesMatchDirectCounts ensures the report
// figures read from the summaries equal the figures counted from the hosts
// and runs themselves, window by window: the whole-day windows the
// summaries answer and, for the same runs, a window that splits a day and
// so is counted directly.
func TestStore_ReportsFromSummariesMatchDirectCounts(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	var hosts []HostInput
	groups, systems := []string{"Branch", "Servers", ""}, []string{"Windows 10", "Windows 11"}
	for i := range 30 {
		hosts = append(hosts, HostInput{Name: fmt.Sprintf("H%02d", i), Group: groups[i%3], OSCaption: systems[i%2],
			LastReportAt: fixedNow.Add(-time.Duration(i*31) * time.Hour)})
	}
	addHosts(t, s, hosts...)
	codes := []uint32{0x80070002, 0x80244022, 0x80070643}
	var events []EventInput
	for i := range 30 {
		if i%4 != 3 {
			events = append(events, ev(fmt.Sprintf("H%02d", i), 1+i%28, "1", run.ResultFailed, codes[i%3]))
		}
	}
	addEvents(t, s, events...)
	outcomes := []run.Outcome{run.OutcomeRepaired, run.OutcomeStillFailing, run.OutcomeUnreachable, run.OutcomeUnknown}
	for i := range 60 {
		at := fixedNow.Add(-time.Duration(i*29+7)*time.Hour - 13*time.Minute)
		s.now = func() time.Time { return at }
		h, _ := s.HostByName(ctx, fmt.Sprintf("H%02d", i%30))
		r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return at.Add(time.Duration(i) * time.Minute) }
		if _, err := s.FinishRun(ctx, r.ID, RunResult{State: run.StateSucceeded, Outcome: outcomes[i%4]}); err != nil {
			t.Fatal(err)
		}
	}
	s.now = func() time.Time { return fixedNow }
	checkSummaries(t, s, "fixture")

	midnight := fixedNow.Truncate(24 * time.Hour)
	for _, f := range []ReportFilter{
		{},
		{Since: midnight.AddDate(0, 0, -30), Until: midnight.AddDate(0, 0, 1)},
		{Since: midnight.AddDate(0, 0, -30), Until: midnight.AddDate(0, 0, 1), Group: "Branch"},
		{Since: midnight.AddDate(0, 0, -40), Until: midnight.AddDate(0, 0, 1), Code: 0x80070002},
		{Since: midnight.AddDate(0, 0, -40), Until: midnight.AddDate(0, 0, -10)}, // ends in the past
		{Since: midnight.AddDate(0, 0, -60), Group: "Servers", Code: 0x80244022, StaleDays: 3},
	} {
		// The same window, a millisecond later: no run, failure or report
		// falls on that millisecond, so the figures must not change.
		g := f
		g.Since = f.Since.Add(time.Millisecond)
		if _, _, ok := g.days(); ok {
			t.Fatalf("%+v: a split day reads the summaries", g)
		}
		name := fmt.Sprintf("since %s group %q code %#x", f.Since.Format(time.DateOnly), f.Group, f.Code)
		for _, report := range []struct {
			what string
			get  func(ReportFilter) (any, error)
		}{
			{"compliance", func(f ReportFilter) (any, error) { return s.ComplianceByGroup(ctx, f) }},
			{"activity", func(f ReportFilter) (any, error) { return s.RepairActivity(ctx, f) }},
			{"by OS", func(f ReportFilter) (any, error) { return s.RepairByOS(ctx, f) }},
			{"evidence", func(f ReportFilter) (any, error) { return s.repairEvidence(ctx, f) }},
			{"failures by week", func(f ReportFilter) (any, error) { return s.FailuresByWeek(ctx, f) }},
		} {
			fromSummaries, err := report.get(f)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, report.what, err)
			}
			direct, err := report.get(g)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, report.what, err)
			}
			if d := cmp.Diff(direct, fromSummaries); d != "" {
				t.Errorf("%s: %s from the summaries differs from a direct count (-direct +summaries):\n%s", name, report.what, d)
			}
		}
	}
	if ev, _ := s.repairEvidence(ctx, ReportFilter{}); len(ev) != 3 {
		t.Errorf("evidence of %d codes: the fixture no longer covers what it should", len(ev))
	}
}

// TestStore_ComplianceAtTheStaleBoundary ensures compliance counts a host
// that last reported on the stale boundary's own day by the time it
// reported, on either side of the boundary, not by its day.
func TestStore_ComplianceAtTheStaleBoundary(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	boundary := fixedNow.AddDate(0, 0, -30) // 12:00 on the day it falls in
	addHosts(t, s,
		HostInput{Name: "before", Group: "G", LastReportAt: boundary.Add(-time.Minute)},
		HostInput{Name: "at", Group: "G", LastReportAt: boundary},
		HostInput{Name: "after", Group: "G", LastReportAt: boundary.Add(time.Minute)},
		HostInput{Name: "never", Group: "G"},
		HostInput{Name: "ok-before", Group: "G", LastReportAt: boundary.Add(-time.Hour)})
	addEvents(t, s, ev("ok-before", 1, "1", run.ResultSucceeded, 0))
	got, err := s.ComplianceByGroup(t.Context(), ReportFilter{StaleDays: 30})
	want := []GroupCompliance{{Group: "G", Hosts: 5, Stale: 3, Unknown: 2}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("compliance %+v, %v; want %+v", got, err, want)
	}
}

// TestStore_TimeToRepairMedian ensures the median time to a verified
// repair is the middle one of an odd count and the mean of the middle two
// of an even count.
func TestStore_TimeToRepairMedian(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	addHosts(t, s, HostInput{Name: "A"}, HostInput{Name: "B"}, HostInput{Name: "C"}, HostInput{Name: "D"})
	h, _ := s.HostByName(ctx, "A")
	var took []time.Duration
	for i, hours := range []int{5, 1, 9, 3} {
		at := fixedNow.AddDate(0, 0, -10+i)
		if _, err := s.write.ExecContext(ctx, `INSERT INTO runs (host_id, procedure, requested_by, state, outcome,
			created_at, started_at, finished_at, fail_hresult, fail_at) VALUES (?, 'repair', 't', 'succeeded', 'repaired', ?, ?, ?, 2147942402, ?)`,
			h.ID, at.UnixMilli(), at.UnixMilli(), at.Add(time.Duration(hours)*time.Hour).UnixMilli(), at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Duration(hours)*time.Hour)
		sorted := slices.Sorted(slices.Values(took))
		want := sorted[len(sorted)/2]
		if len(sorted)%2 == 0 {
			want = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
		}
		if got, n, err := s.TimeToRepair(ctx, ReportFilter{}); err != nil || n != len(took) || got != want {
			t.Errorf("after %v: median %v of %d, %v; want %v of %d", took, got, n, err, want, len(took))
		}
	}
}
