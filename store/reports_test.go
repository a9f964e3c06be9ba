package store

import (
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestStore_Reports ensures compliance counts each host once by group
// (failing before stale before unknown), activity groups repairs by their
// Monday, OS success counts each host's latest repair, and the time to a
// verified repair runs from the failure its host had.
func TestStore_Reports(t *testing.T) {
	t.Parallel()
	s := newTestStore(t) // now is Friday 2026-11-20 12:00 UTC
	ctx := t.Context()
	recent, old := fixedNow.Add(-24*time.Hour), fixedNow.AddDate(0, 0, -60)
	addHosts(t, s,
		HostInput{Name: "F1", Group: "Branch", OSCaption: "Windows 11", LastReportAt: recent},
		HostInput{Name: "F2", Group: "Branch", OSCaption: "Windows 10", LastReportAt: old}, // failing, and stale
		HostInput{Name: "S1", Group: "Branch", LastReportAt: old},
		HostInput{Name: "U1", Group: "Branch", LastReportAt: recent},
		HostInput{Name: "K1", Group: "Servers", LastReportAt: recent})
	addEvents(t, s, ev("F1", 10, "1", run.ResultFailed, 0x80070002), ev("F2", 10, "1", run.ResultFailed, 0x80070002),
		ev("S1", 10, "1", run.ResultSucceeded, 0), ev("K1", 10, "1", run.ResultSucceeded, 0))

	got, err := s.ComplianceByGroup(ctx, ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []GroupCompliance{{Group: "Branch", Hosts: 4, Failing: 2, Stale: 1, Unknown: 1}, {Group: "Servers", Hosts: 1, Okay: 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("compliance %+v\nwant %+v", got, want)
	}

	repair := func(name string, at time.Time, o run.Outcome) {
		t.Helper()
		s.now = func() time.Time { return at }
		h, _ := s.HostByName(ctx, name)
		r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return at.Add(time.Hour) }
		if _, err := s.FinishRun(ctx, r.ID, RunResult{State: run.StateSucceeded, Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}
	monday := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	repair("F1", monday.Add(9*time.Hour), run.OutcomeUnreachable)                // Monday
	repair("F1", monday.AddDate(0, 0, 6).Add(20*time.Hour), run.OutcomeRepaired) // Sunday, same week
	repair("F2", monday.AddDate(0, 0, -3), run.OutcomeStillFailing)              // the Friday before
	s.now = func() time.Time { return fixedNow }

	weeks, err := s.RepairActivity(ctx, ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(weeks) != 2 || !weeks[0].Week.Equal(monday.AddDate(0, 0, -7)) || weeks[0].StillFailing != 1 ||
		!weeks[1].Week.Equal(monday) || weeks[1].Repaired != 1 || weeks[1].CouldNotRun != 1 || weeks[1].Runs() != 2 {
		t.Errorf("activity %+v", weeks)
	}
	byOS, err := s.RepairByOS(ctx, ReportFilter{})
	if err != nil || len(byOS) != 2 {
		t.Fatalf("by OS %+v, %v", byOS, err)
	}
	for _, o := range byOS {
		if o.OS == "Windows 11" && (o.Hosts != 1 || o.Repaired != 1) || o.OS == "Windows 10" && o.StillFailing != 1 {
			t.Errorf("by OS %+v: want each host's latest repair", o)
		}
	}
	median, n, err := s.TimeToRepair(ctx, ReportFilter{})
	// F1 failed on day 10 (2026-10-10 10:00); its repair ended on Sunday 22 Nov 21:00.
	if wantD := time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC).Sub(day(10)); err != nil || n != 1 || median != wantD {
		t.Errorf("time to repair %v over %d, %v; want %v over 1", median, n, err, wantD)
	}
	fw, err := s.FailuresByWeek(ctx, ReportFilter{})
	// F1 and F2 both failed on 2026-10-10, a Saturday: the week of Monday 5 October.
	if err != nil || len(fw) != 1 || !fw[0].Week.Equal(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)) || fw[0].ByCode[0x80070002] != 2 {
		t.Errorf("failures by week %+v, %v", fw, err)
	}
	// Two counts on one day keep the last; a day of the next week starts a new week.
	if n, err := s.RecordCompliance(ctx, 30); err != nil || n != 2 {
		t.Fatalf("recorded %d groups, %v", n, err)
	}
	addEvents(t, s, ev("U1", 11, "1", run.ResultSucceeded, 0)) // U1 compliant now
	if _, err := s.RecordCompliance(ctx, 30); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return fixedNow.AddDate(0, 0, 3) } // Monday 23 November
	if _, err := s.RecordCompliance(ctx, 30); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return fixedNow }
	trend, err := s.ComplianceTrend(ctx, ReportFilter{})
	if err != nil || len(trend) != 2 || trend[0].Day.Format("2006-01-02") != "2026-11-20" || trend[0].Okay != 2 ||
		trend[0].Hosts != 5 || trend[1].Week.Format("2006-01-02") != "2026-11-23" {
		t.Errorf("trend %+v, %v", trend, err)
	}
	if branch, _ := s.ComplianceTrend(ctx, ReportFilter{Group: "Branch"}); len(branch) != 2 || branch[0].Hosts != 4 || branch[0].Okay != 1 {
		t.Errorf("Branch trend %+v", branch)
	}
	if only, _ := s.ComplianceByGroup(ctx, ReportFilter{Group: "Servers"}); len(only) != 1 || only[0].Group != "Servers" {
		t.Errorf("group filter: %+v", only)
	}
}
