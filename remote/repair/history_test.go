package repair_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"wsusfix/sim"
	"wsusfix/store/run"
)

// TestProcedure_RefreshHistory ensures Refresh history reads the host's
// whole history through the real client and changes nothing, even on a
// host a preflight would refuse (a reboot pending), and that a store that
// refuses the entries fails the run saying so.
func TestProcedure_RefreshHistory(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 60)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	f.Srv.SetFault(h.Name, sim.FaultRebootPending)
	before, _ := f.Srv.HostState(h.Name)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureHistory, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeHistoryRead {
		t.Fatalf("refresh history: %+v", res)
	}
	if got := sink.Order(); !slices.Equal(got, run.ProcedureHistory.Steps()) {
		t.Errorf("refresh history ran %s", got)
	}
	got := sink.History()
	if len(got) != len(before.History) || len(got) == 0 {
		t.Errorf("stored %d entries, the host has %d", len(got), len(before.History))
	}
	if !strings.Contains(res.Summary, "Nothing was changed on the host") {
		t.Errorf("summary %q", res.Summary)
	}
	after, _ := f.Srv.HostState(h.Name)
	if len(after.Backups) != len(before.Backups) || after.SoftwareDistribution != before.SoftwareDistribution {
		t.Error("refresh history changed the host")
	}

	refused := &memSink{HistoryErr: errors.New("database is locked")}
	res = f.Repair(t, t.Context(), h, run.ProcedureHistory, refused)
	if res.State != run.StateFailed || !strings.Contains(res.Summary, "not all of it could be stored (database is locked)") {
		t.Errorf("refresh with a failing store: %+v", res)
	}
}

// TestProcedure_RefreshHistoryUnreachable ensures Refresh history on a
// host that cannot be reached fails as unreachable and stores nothing.
func TestProcedure_RefreshHistoryUnreachable(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 20)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	f.Srv.SetFault(h.Name, sim.FaultUnreachable)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureHistory, sink)
	if res.State != run.StateFailed || res.Outcome != run.OutcomeUnreachable || len(sink.History()) != 0 {
		t.Errorf("refresh of an unreachable host: %+v, %d entries stored", res, len(sink.History()))
	}
	if got := sink.Order(); !slices.Equal(got, []run.Step{run.StepConnect}) {
		t.Errorf("ran %s, want the connect step only", got)
	}
}
