package store

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store/run"
)

// summaryWrites are triggers, added to a test's database file, that log
// every row written to the host summaries (failure_days, compliance_hosts)
// with the group it counts: a write that takes a count out and puts it
// back leaves the tables as they were, but not this log.
var summaryWrites = []string{
	`CREATE TABLE summary_writes (tbl TEXT NOT NULL, grp TEXT NOT NULL)`,
	`CREATE TRIGGER failure_days_log_insert AFTER INSERT ON failure_days
		BEGIN INSERT INTO summary_writes VALUES ('failure_days', NEW.grp); END`,
	`CREATE TRIGGER failure_days_log_update AFTER UPDATE ON failure_days
		BEGIN INSERT INTO summary_writes VALUES ('failure_days', NEW.grp); END`,
	`CREATE TRIGGER failure_days_log_delete AFTER DELETE ON failure_days
		BEGIN INSERT INTO summary_writes VALUES ('failure_days', OLD.grp); END`,
	`CREATE TRIGGER compliance_hosts_log_insert AFTER INSERT ON compliance_hosts
		BEGIN INSERT INTO summary_writes VALUES ('compliance_hosts', NEW.grp); END`,
	`CREATE TRIGGER compliance_hosts_log_update AFTER UPDATE ON compliance_hosts
		BEGIN INSERT INTO summary_writes VALUES ('compliance_hosts', NEW.grp); END`,
	`CREATE TRIGGER compliance_hosts_log_delete AFTER DELETE ON compliance_hosts
		BEGIN INSERT INTO summary_writes VALUES ('compliance_hosts', OLD.grp); END`,
}

// TestRefreshFailures_writesChangedHostsOnly ensures a refresh of failure
// summaries writes the report summaries of the hosts whose summary or
// state changes, and of no other host, whichever way it is reached: an
// explicit refresh, history added, a sync's WSUS counts. Each host is
// alone in its group, so the groups written name the hosts; the log and
// the summaries are read from the database file itself.
func TestRefreshFailures_writesChangedHostsOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.now = func() time.Time { return fixedNow }
	file, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })

	names := []string{"same-failing", "same-ok", "fixed", "worse", "new", "cleared", "still-failing"}
	var hosts []HostInput
	for _, n := range names {
		hosts = append(hosts, HostInput{Name: n, Group: n, LastReportAt: day(4)})
	}
	addHosts(t, s, hosts...)
	addEvents(t, s, ev("same-failing", 3, "1", run.ResultFailed, 0x80070002),
		ev("same-ok", 3, "1", run.ResultSucceeded, 0), ev("fixed", 3, "1", run.ResultFailed, 0x80070002),
		ev("worse", 3, "1", run.ResultFailed, 0x80070002), ev("cleared", 3, "1", run.ResultFailed, 0x80070002),
		ev("still-failing", 3, "1", run.ResultFailed, 0x80070002))
	for _, q := range summaryWrites {
		if _, err := file.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// written returns the summaries written since it was last called, as
	// "table group", and empties the log.
	written := func() []string {
		t.Helper()
		rows, err := file.QueryContext(ctx, "SELECT DISTINCT tbl || ' ' || grp FROM summary_writes")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				t.Fatal(err)
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := file.ExecContext(ctx, "DELETE FROM summary_writes"); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	id := func(name string) int64 {
		t.Helper()
		h, err := s.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	// check compares the summaries written with want, and the summaries,
	// as the file holds them, with a recount.
	check := func(when string, want ...string) {
		t.Helper()
		if d := cmp.Diff(want, written()); d != "" {
			t.Errorf("%s: summaries written (-want +got):\n%s", when, d)
		}
		for _, rc := range recounts[:2] { // failure_days, compliance_hosts
			stored, fresh := dbRows(t, file, rc.stored), dbRows(t, file, rc.fresh)
			if d := cmp.Diff(fresh, stored); d != "" {
				t.Errorf("%s: %s differs from a recount (-recount +stored):\n%s", when, rc.table, d)
			}
		}
	}

	if err := s.RefreshFailures(ctx, []int64{id("same-failing"), id("same-ok"), id("fixed")}); err != nil {
		t.Fatal(err)
	}
	check("nothing changed")

	// same-failing and same-ok gain entries that leave their summaries as
	// they are; fixed's failure is over, worse fails anew on a later day
	// (a new day and code, the same state), new fails for the first time.
	addEvents(t, s, ev("same-failing", 1, "2", run.ResultSucceeded, 0), ev("same-ok", 5, "1", run.ResultSucceeded, 0),
		ev("fixed", 5, "1", run.ResultSucceeded, 0), ev("worse", 6, "2", run.ResultFailed, 0x80244022),
		ev("new", 6, "1", run.ResultFailed, 0x80070643))
	check("history added", "compliance_hosts fixed", "compliance_hosts new",
		"failure_days fixed", "failure_days new", "failure_days worse")

	// A sync's counts: cleared's WSUS reports no failure after it, so it is
	// over; still-failing's still counts one. Both reported when they had.
	sync := func(name string, failed int) HostInput {
		return HostInput{Name: name, Group: name, LastReportAt: day(4),
			WSUS: &WSUSFacts{Server: "wsus1", ComputerID: "id-" + name, Failed: failed, SeenAt: fixedNow}}
	}
	addHosts(t, s, sync("cleared", 0), sync("still-failing", 1))
	check("synced", "compliance_hosts cleared", "failure_days cleared")
	for name, want := range map[string]string{"same-failing": StateFailing, "fixed": StateOK, "new": StateFailing,
		"cleared": StateOK, "still-failing": StateFailing} {
		if h, err := s.HostByName(ctx, name); err != nil || h.State != want {
			t.Errorf("%s: state %q, %v; want %q", name, h.State, err, want)
		}
	}
}
