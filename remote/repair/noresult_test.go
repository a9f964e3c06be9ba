package repair_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"wsusfix/remote"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// silence makes the host answer "hi", exit 0, without a result line, for
// one step or (step "") for every step.
func silence(t *testing.T, f *fleet, h sim.Host, step string) {
	t.Helper()
	f.Srv.SetFault(h.Name, sim.FaultNoResult)
	m, ok := f.Srv.Machine(h.Name)
	if !ok {
		t.Fatalf("no host %s", h.Name)
	}
	m.Update(func(s *sim.HostState) { s.NoResultStep = step })
}

// claims reports the words a summary may only use on evidence.
func claims(summary string) []string {
	var out []string
	for _, w := range []string{"Repaired", "Preflight passed", "history entries were saved", "The folder was reset"} {
		if strings.Contains(summary, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestProcedure_NoResultCheck ensures a Check on a host that answers every
// step with "hi" and exit 0 fails, says the step reported no result, and
// claims neither a passed preflight nor saved history.
func TestProcedure_NoResultCheck(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 60)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	silence(t, f, h, "")
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureCheck, sink)
	if res.State != run.StateFailed || res.Outcome == run.OutcomeChecked {
		t.Fatalf("check on a silent host: %+v", res)
	}
	if c := claims(res.Summary); len(c) > 0 {
		t.Fatalf("summary claims %v without evidence: %q", c, res.Summary)
	}
	if !strings.Contains(res.Summary, "reported no result") || strings.Contains(res.Summary, "refused") {
		t.Fatalf("summary does not say what happened: %q", res.Summary)
	}
	ev, ok := sink.FinishedEvent(run.StepPreflight)
	if !ok || ev.Status != "failed" || !strings.Contains(ev.Text, "the script may not have run") {
		t.Fatalf("preflight finished %+v", ev)
	}
	if slices.Contains(sink.Order(), run.StepSaveHistory) {
		t.Fatal("save-history ran after a preflight without a result")
	}
}

// TestProcedure_NoResultInEachStep ensures that a step without its result
// line fails the run wherever it comes, that nothing after it claims a
// change or a fix it did not prove, and that once stop-services has run the
// update services are running again at the end.
func TestProcedure_NoResultInEachStep(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 200)
	used := map[string]bool{}
	for _, step := range run.ProcedureRepair.Steps()[1:] {
		t.Run(string(step), func(t *testing.T) {
			h := f.FailingHost(t, used, 0x80070002, 0x80070003)
			used[h.Name] = true
			silence(t, f, h, string(step))
			sink := &memSink{}
			res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != run.StateFailed {
				t.Fatalf("run %s/%s (%s) with no result from %s", res.State, res.Outcome, res.Summary, step)
			}
			if ev, ok := sink.FinishedEvent(step); !ok || ev.Status != "failed" || !strings.Contains(ev.Text, "reported no result") {
				t.Fatalf("%s finished %+v", step, ev)
			}
			if !strings.Contains(res.Summary, string(step)+" step") || !strings.Contains(res.Summary, "no result") {
				t.Fatalf("summary does not name the silent step: %q", res.Summary)
			}
			// Only verify's own line can prove a repair; a silent verify or
			// an earlier step never yields one.
			if step != run.StepCleanup {
				if c := claims(res.Summary); len(c) > 0 || res.HostState == "repaired" || res.Outcome == run.OutcomeRepaired {
					t.Fatalf("claims %v, host state %q, outcome %q: %q", c, res.HostState, res.Outcome, res.Summary)
				}
			}
			switch {
			case step == run.StepStartServices:
				// Nothing proves the services started (and in the simulator
				// they did not): the run must say so, in words to act on.
				if !strings.Contains(res.Summary, "Check wuauserv and BITS on the host now") || res.HostState != "unknown" {
					t.Fatalf("silent start-services: host state %q, summary %q", res.HostState, res.Summary)
				}
			case !f.ServicesRunning(t, h.Name):
				t.Fatalf("services stopped after a silent %s", step)
			}
			// The restart after a silent stop-services is the guaranteed one.
			if step == run.StepStopServices {
				if ev, ok := sink.FinishedEvent(run.StepStartServices); !ok || ev.Status != "ok" {
					t.Fatalf("start-services after a silent stop: %+v", ev)
				}
			}
		})
	}
}

// TestProcedure_CheckStoreFails ensures a check whose history the store
// refuses says so and does not claim the entries were saved.
func TestProcedure_CheckStoreFails(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 60)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	sink := &memSink{HistoryErr: errors.New("database or disk is full")}
	res := f.Repair(t, t.Context(), h, run.ProcedureCheck, sink)
	if strings.Contains(res.Summary, "history entries were saved") {
		t.Fatalf("summary claims saved history the store refused: %q", res.Summary)
	}
	if !strings.Contains(res.Summary, "not all of the history read from the host could be stored (database or disk is full)") {
		t.Fatalf("summary does not say the store failed: %q", res.Summary)
	}
	if !slices.ContainsFunc(sink.Events(), func(ev run.Event) bool {
		return ev.Step == run.StepSaveHistory && ev.Stream == remote.Stderr && strings.Contains(ev.Text, "could not store history")
	}) {
		t.Fatal("the run log does not show the store's failure")
	}
	if len(sink.History()) != 0 {
		t.Fatalf("history stored despite the failure: %d entries", len(sink.History()))
	}
}
