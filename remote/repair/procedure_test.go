package repair_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// fleet and memSink are remotetest's fleet and recording sink.
type (
	fleet   = remotetest.Fleet
	memSink = remotetest.Sink
)

var fastProcedure = remotetest.FastProcedure

func newFleet(t *testing.T, n int) *fleet { t.Helper(); return remotetest.NewFleet(t, n) }

func newFleetWith(t *testing.T, n int, mod func(*sim.Fleet, *sim.Options)) *fleet {
	t.Helper()
	return remotetest.NewFleetWith(t, n, mod)
}

// TestProcedure_RepairAcrossOSGenerations ensures the full procedure repairs
// a 0x80070002/3 host on each OS generation of the fleet, in order, saving
// history first, leaving the services running and a dated backup.
func TestProcedure_RepairAcrossOSGenerations(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 250)
	seen := map[string]bool{}
	tried := 0
	for _, h := range f.Sim.Hosts {
		gen := strings.Join(strings.Fields(h.OSCaption)[:min(4, len(strings.Fields(h.OSCaption)))], " ")
		c := h.Failure()
		if seen[gen] || h.Fault != sim.FaultNone || (c != 0x80070002 && c != 0x80070003) || h.FreeDiskGB < 12 {
			continue
		}
		seen[gen] = true
		tried++
		t.Run(gen, func(t *testing.T) {
			sink := &memSink{}
			res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != run.StateSucceeded || res.Outcome != run.OutcomeRepaired || res.HostState != "repaired" {
				t.Fatalf("result %+v\nsteps %v", res, sink.Finished())
			}
			want := run.ProcedureRepair.Steps()
			if got := sink.Order(); !slices.Equal(got, want) {
				t.Fatalf("steps ran %v, want %v", got, want)
			}
			if len(sink.History()) == 0 {
				t.Fatal("no history saved before the rename")
			}
			st, _ := f.Srv.HostState(h.Name)
			if !f.ServicesRunning(t, h.Name) || len(st.Backups) != 1 || !strings.Contains(st.Backups[0], "SDTemp-") {
				t.Fatalf("host after repair: services running %v, backups %v", f.ServicesRunning(t, h.Name), st.Backups)
			}
		})
	}
	if tried < 3 {
		t.Fatalf("only %d OS generations among failing hosts", tried)
	}
}

// TestProcedure_SecondRepair ensures a second repair of the same host
// works although the first one's backup exists, and cleanup keeps one.
func TestProcedure_SecondRepair(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.FailingHost(t, nil, 0x80070002)
	// The procedure's clock names the backup: the second repair runs an
	// hour later, as it would in life, instead of the test sleeping.
	opt := fastProcedure
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	opt.Now = func() time.Time { return at }
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureRepair, Target: remote.Target{Name: h.FQDN}}
	for i := range 2 {
		res := repair.RunFunc(f.Client(t, nil), opt)(t.Context(), job, &memSink{})
		if res.State != run.StateSucceeded {
			t.Fatalf("repair %d: %+v", i+1, res)
		}
		at = at.Add(time.Hour)
	}
	st, _ := f.Srv.HostState(h.Name)
	if len(st.Backups) != 1 {
		t.Fatalf("backups after two repairs and cleanup: %v, want the newest only", st.Backups)
	}
}

// TestProcedure_CheckChangesNothing ensures check mode runs only the
// read-only steps and leaves the host as it was.
func TestProcedure_CheckChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	before, _ := f.Srv.HostState(h.Name)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureCheck, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeChecked {
		t.Fatalf("check: %+v", res)
	}
	after, _ := f.Srv.HostState(h.Name)
	if len(after.Backups) != len(before.Backups) || after.SoftwareDistribution != before.SoftwareDistribution {
		t.Fatal("check mode changed the host")
	}
	if got := sink.Order(); !slices.Equal(got, run.ProcedureCheck.Steps()) {
		t.Fatalf("check ran %s", got)
	}
}

// TestProcedure_Faults ensures each fault of the simulator's catalogue
// ends the run with the right outcome and leaves the services running.
func TestProcedure_Faults(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 200)
	used := map[string]bool{}
	tests := []struct {
		fault   sim.Fault
		state   run.State
		outcome run.Outcome
	}{
		{sim.FaultUnreachable, run.StateFailed, run.OutcomeUnreachable},
		{sim.FaultAuthRefused, run.StateFailed, run.OutcomeAuth},
		{sim.FaultAccessDenied, run.StateFailed, run.OutcomeAuth},
		{sim.FaultQuota, run.StateFailed, run.OutcomeQuota},
		{sim.FaultRebootPending, run.StateFailed, run.OutcomeRefused},
		{sim.FaultServiceStuck, run.StateFailed, run.OutcomeError},
		{sim.FaultFolderLocked, run.StateSucceeded, run.OutcomeRepaired},
		{sim.FaultNotFixable, run.StateFailed, run.OutcomeStillFailing},
		{sim.FaultReceiveTimeout, run.StateSucceeded, run.OutcomeRepaired},
		{sim.FaultSlow, run.StateSucceeded, run.OutcomeRepaired},
	}
	for _, tt := range tests {
		h := f.FailingHost(t, used, 0x80070002, 0x80070003)
		used[h.Name] = true
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel() // each on its own host; the slow and timing-out ones wait, not compute
			f.Srv.SetFault(h.Name, tt.fault)
			sink := &memSink{}
			res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != tt.state || res.Outcome != tt.outcome {
				t.Fatalf("got %s/%s (%s), want %s/%s; steps %v", res.State, res.Outcome, res.Summary, tt.state, tt.outcome, sink.Finished())
			}
			if res.Summary == "" {
				t.Fatal("no summary for people")
			}
			if tt.fault != sim.FaultUnreachable && !f.ServicesRunning(t, h.Name) {
				t.Fatalf("services left stopped after %s", tt.fault)
			}
		})
	}
}

// TestProcedure_CancelInEachStep ensures that whatever step a cancel lands
// in, the run ends cancelled and the host's update services run.
func TestProcedure_CancelInEachStep(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 200)
	used := map[string]bool{}
	for _, step := range run.ProcedureRepair.Steps()[1:] {
		t.Run(string(step), func(t *testing.T) {
			h := f.FailingHost(t, used, 0x80070002, 0x80070003)
			used[h.Name] = true
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sink := &memSink{OnEvent: func(ev run.Event) {
				if ev.Kind == run.EventStepStarted && ev.Step == step {
					go func() { time.Sleep(30 * time.Millisecond); cancel() }()
				}
			}}
			res := f.Repair(t, ctx, h, run.ProcedureRepair, sink)
			if res.State != run.StateCancelled && !(step == run.StepCleanup && res.State == run.StateSucceeded) {
				t.Fatalf("cancel in %s: %+v; steps %v", step, res, sink.Finished())
			}
			if !f.ServicesRunning(t, h.Name) {
				t.Fatalf("cancel in %s left the update services stopped", step)
			}
		})
	}
}

// TestProcedure_RoundTrips ensures a repair uses one shell and few HTTP
// round trips.
func TestProcedure_RoundTrips(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.FailingHost(t, nil, 0x80070002)
	if res := f.Repair(t, t.Context(), h, run.ProcedureRepair, &memSink{}); res.State != run.StateSucceeded {
		t.Fatalf("%+v", res)
	}
	c := f.Srv.Counters(h.Name)
	var total int64
	for _, n := range c.Requests {
		total += n
	}
	t.Logf("round trips per repair: %d (%v)", total, c.Requests)
	if c.ShellsCreated != 1 || c.ShellsOpen != 0 {
		t.Fatalf("%d shells created, %d left open; want 1 and 0", c.ShellsCreated, c.ShellsOpen)
	}
	if total > 80 {
		t.Fatalf("%d round trips for one repair; want few", total)
	}
	// Each step is one Command with one Send (its whole payload, End on
	// it), terminated by one Signal once Done.
	steps := int64(len(run.ProcedureRepair.Steps()) - 1)
	if c.Requests[sim.ActionCommand] != steps || c.Requests[sim.ActionSend] != steps || c.Requests[sim.ActionSignal] != steps {
		t.Fatalf("%d steps: %d Commands, %d Sends, %d Signals; want one each per step", steps,
			c.Requests[sim.ActionCommand], c.Requests[sim.ActionSend], c.Requests[sim.ActionSignal])
	}
}

// TestProcedure_DeadlineRestoresServices ensures that when the run's
// deadline expires after the services were stopped (here, while the rename
// retries a locked folder), the services are started again on a fresh
// context and the run says it timed out.
func TestProcedure_DeadlineRestoresServices(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h, ctx, sink := f.CancelDuringLockedRename(t)
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	res := f.Repair(t, dctx, h, run.ProcedureRepair, sink)
	if res.State == run.StateSucceeded {
		t.Fatalf("run with a locked folder and an expired context succeeded: %+v", res)
	}
	if !f.ServicesRunning(t, h.Name) {
		t.Fatalf("services left stopped after the deadline; steps %v", sink.Finished())
	}
	if sink.Finished()[run.StepStartServices] != "ok" {
		t.Fatalf("start-services did not run to ok after the deadline: %v", sink.Finished())
	}
}

// TestProcedure_DroppedConnection ensures a host that drops the connection
// mid-command ends the run as unreachable with a reason, without hanging.
func TestProcedure_DroppedConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	f.Srv.SetFault(h.Name, sim.FaultDropConnection)
	start := time.Now()
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateFailed || res.Outcome != run.OutcomeUnreachable || !strings.Contains(res.Summary, "closed the connection") {
		t.Fatalf("got %+v; steps %v", res, sink.Finished())
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("a dropped connection took %v to report", time.Since(start))
	}
	t.Logf("dropped connection: %s (services running: %v)", res.Summary, f.ServicesRunning(t, h.Name))
}
