package store

import (
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestStore_RepairEvidence ensures each run remembers the failure its host
// had when it began, and the evidence counts each host once, by its latest
// finished repair for the code: checks, runs still going and runs on hosts
// that were not failing are left out.
func TestStore_RepairEvidence(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "A"}, HostInput{Name: "B"}, HostInput{Name: "C"}, HostInput{Name: "D"}, HostInput{Name: "OK"})
	addEvents(t, s, ev("A", 1, "1", run.ResultFailed, 0x80070002), ev("B", 1, "1", run.ResultFailed, 0x80070002),
		ev("C", 1, "1", run.ResultFailed, 0x80070002), ev("D", 1, "1", run.ResultFailed, 0x800F0922),
		ev("OK", 1, "1", run.ResultSucceeded, 0))
	finish := func(name string, p run.Procedure, o run.Outcome) Run {
		t.Helper()
		h, err := s.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: p, RequestedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if o != "" {
			if _, err := s.FinishRun(ctx, r.ID, RunResult{State: run.StateSucceeded, Outcome: o}); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	finish("A", run.ProcedureRepair, run.OutcomeUnreachable)
	s.now = func() time.Time { return fixedNow.Add(time.Minute) }
	finish("A", run.ProcedureRepair, run.OutcomeRepaired) // the latest counts
	finish("B", run.ProcedureRepair, run.OutcomeStillFailing)
	finish("C", run.ProcedureCheck, run.OutcomeChecked) // not a repair
	finish("C", run.ProcedureRepair, "")                // still queued
	finish("D", run.ProcedureRepair, run.OutcomeRefused)
	finish("OK", run.ProcedureRepair, run.OutcomeRepaired) // was not failing

	got, err := s.RepairEvidence(ctx, ReportFilter{Since: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]Evidence{
		0x80070002: {HResult: 0x80070002, Hosts: 2, Repaired: 1, StillFailing: 1},
		0x800F0922: {HResult: 0x800F0922, Hosts: 1, CouldNotRun: 1},
	}
	if len(got) != len(want) || got[0x80070002] != want[0x80070002] || got[0x800F0922] != want[0x800F0922] {
		t.Errorf("evidence %+v\nwant %+v", got, want)
	}
	// C's queued repair ends: the evidence, kept between requests, counts it.
	runs, _, _ := s.Runs(ctx, RunFilter{Host: "C", State: run.StateQueued})
	if len(runs) != 1 {
		t.Fatalf("C's queued runs: %+v", runs)
	}
	if _, err := s.FinishRun(ctx, runs[0].ID, RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}); err != nil {
		t.Fatal(err)
	}
	again, err := s.RepairEvidence(ctx, ReportFilter{Since: fixedNow.Add(-time.Hour)})
	if err != nil || again[0x80070002].Hosts != 3 || again[0x80070002].Repaired != 2 {
		t.Errorf("evidence after another repair ended: %+v, %v", again[0x80070002], err)
	}
	if later, _ := s.RepairEvidence(ctx, ReportFilter{Since: fixedNow.Add(time.Hour)}); len(later) != 0 {
		t.Errorf("evidence after the window: %+v", later)
	}
	runs, _, err = s.Runs(ctx, RunFilter{Code: 0x80070002})
	if err != nil || len(runs) != 4 {
		t.Errorf("repair runs of 0x80070002: %d, %v; want A twice, B and C's queued one", len(runs), err)
	}
}
