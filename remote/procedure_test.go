package remote_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// memSink records what a procedure reports.
type memSink struct {
	mu      sync.Mutex
	events  []run.Event
	history []remote.HistoryEntry
	onEvent func(run.Event)
}

func (m *memSink) Emit(ev run.Event) {
	m.mu.Lock()
	m.events = append(m.events, ev)
	f := m.onEvent
	m.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

func (m *memSink) SaveHistory(entries []remote.HistoryEntry, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.history = append(m.history, entries...)
	return nil
}

// finished maps each finished step to its status.
func (m *memSink) finished() map[run.Step]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[run.Step]string{}
	for _, ev := range m.events {
		if ev.Kind == run.EventStepFinished {
			out[ev.Step] = ev.Status
		}
	}
	return out
}

// order lists the steps in the order they started.
func (m *memSink) order() []run.Step {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []run.Step
	for _, ev := range m.events {
		if ev.Kind == run.EventStepStarted {
			out = append(out, ev.Step)
		}
	}
	return out
}

var fastProcedure = remote.ProcedureOptions{ServiceTimeout: 2 * time.Second, RenameDelay: time.Second,
	StepTimeout: 20 * time.Second, RestoreTimeout: 20 * time.Second, MinFreeGB: 1}

// failingHost picks a fleet host failing with one of codes, without fault.
func (f *fleet) failingHost(t *testing.T, skip map[string]bool, codes ...uint32) sim.Host {
	t.Helper()
	for _, h := range f.fleet.Hosts {
		c := h.Failure()
		for _, want := range codes {
			if c == want && !skip[h.Name] && h.Fault == sim.FaultNone {
				return h
			}
		}
	}
	t.Fatalf("no host failing with %x", codes)
	return sim.Host{}
}

func (f *fleet) repair(t *testing.T, ctx context.Context, h sim.Host, procedure run.Procedure, sink *memSink) remote.Result {
	t.Helper()
	c := f.client(t, nil)
	job := remote.Job{RunID: 1, HostID: 1, Procedure: procedure, Target: remote.Target{Name: h.FQDN}}
	if fl := h.Failure(); fl != 0 && len(h.History) > 0 {
		for _, e := range h.History {
			if e.HResult == fl {
				job.FailingKBs = []string{e.KB}
				break
			}
		}
	}
	return c.RunFunc(fastProcedure)(ctx, job, sink)
}

// servicesRunning reports whether the update services run on the host.
func (f *fleet) servicesRunning(t *testing.T, name string) bool {
	t.Helper()
	st, ok := f.srv.HostState(name)
	if !ok {
		t.Fatalf("no host %s", name)
	}
	for _, s := range st.Services {
		if (s.Name == "wuauserv" || s.Name == "BITS") && s.Status != "Running" {
			return false
		}
	}
	return true
}

// TestProcedure_RepairAcrossOSGenerations ensures the full procedure repairs
// a 0x80070002/3 host on each OS generation of the fleet, in order, saving
// history first, leaving the services running and a dated backup.
func TestProcedure_RepairAcrossOSGenerations(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 250)
	seen := map[string]bool{}
	tried := 0
	for _, h := range f.fleet.Hosts {
		gen := strings.Join(strings.Fields(h.OSCaption)[:min(4, len(strings.Fields(h.OSCaption)))], " ")
		c := h.Failure()
		if seen[gen] || h.Fault != sim.FaultNone || (c != 0x80070002 && c != 0x80070003) || h.FreeDiskGB < 12 {
			continue
		}
		seen[gen] = true
		tried++
		t.Run(gen, func(t *testing.T) {
			sink := &memSink{}
			res := f.repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != run.StateSucceeded || res.Outcome != run.OutcomeRepaired || res.HostState != "repaired" {
				t.Fatalf("result %+v\nsteps %v", res, sink.finished())
			}
			want := run.ProcedureRepair.Steps()
			if got := sink.order(); !slices.Equal(got, want) {
				t.Fatalf("steps ran %v, want %v", got, want)
			}
			if len(sink.history) == 0 {
				t.Fatal("no history saved before the rename")
			}
			st, _ := f.srv.HostState(h.Name)
			if !f.servicesRunning(t, h.Name) || len(st.Backups) != 1 || !strings.Contains(st.Backups[0], "SDTemp-") {
				t.Fatalf("host after repair: services running %v, backups %v", f.servicesRunning(t, h.Name), st.Backups)
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
	h := f.failingHost(t, nil, 0x80070002)
	// The procedure's clock names the backup: the second repair runs an
	// hour later, as it would in life, instead of the test sleeping.
	opt := fastProcedure
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	opt.Now = func() time.Time { return at }
	job := remote.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureRepair, Target: remote.Target{Name: h.FQDN}}
	for i := range 2 {
		res := f.client(t, nil).RunFunc(opt)(t.Context(), job, &memSink{})
		if res.State != run.StateSucceeded {
			t.Fatalf("repair %d: %+v", i+1, res)
		}
		at = at.Add(time.Hour)
	}
	st, _ := f.srv.HostState(h.Name)
	if len(st.Backups) != 1 {
		t.Fatalf("backups after two repairs and cleanup: %v, want the newest only", st.Backups)
	}
}

// TestProcedure_CheckChangesNothing ensures check mode runs only the
// read-only steps and leaves the host as it was.
func TestProcedure_CheckChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.failingHost(t, nil, 0x80070002, 0x80070003)
	before, _ := f.srv.HostState(h.Name)
	sink := &memSink{}
	res := f.repair(t, t.Context(), h, run.ProcedureCheck, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeChecked {
		t.Fatalf("check: %+v", res)
	}
	after, _ := f.srv.HostState(h.Name)
	if len(after.Backups) != len(before.Backups) || after.SoftwareDistribution != before.SoftwareDistribution {
		t.Fatal("check mode changed the host")
	}
	if got := sink.order(); !slices.Equal(got, run.ProcedureCheck.Steps()) {
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
		h := f.failingHost(t, used, 0x80070002, 0x80070003)
		used[h.Name] = true
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel() // each on its own host; the slow and timing-out ones wait, not compute
			f.srv.SetFault(h.Name, tt.fault)
			sink := &memSink{}
			res := f.repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != tt.state || res.Outcome != tt.outcome {
				t.Fatalf("got %s/%s (%s), want %s/%s; steps %v", res.State, res.Outcome, res.Summary, tt.state, tt.outcome, sink.finished())
			}
			if res.Summary == "" {
				t.Fatal("no summary for people")
			}
			if tt.fault != sim.FaultUnreachable && !f.servicesRunning(t, h.Name) {
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
			h := f.failingHost(t, used, 0x80070002, 0x80070003)
			used[h.Name] = true
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sink := &memSink{onEvent: func(ev run.Event) {
				if ev.Kind == run.EventStepStarted && ev.Step == step {
					go func() { time.Sleep(30 * time.Millisecond); cancel() }()
				}
			}}
			res := f.repair(t, ctx, h, run.ProcedureRepair, sink)
			if res.State != run.StateCancelled && !(step == run.StepCleanup && res.State == run.StateSucceeded) {
				t.Fatalf("cancel in %s: %+v; steps %v", step, res, sink.finished())
			}
			if !f.servicesRunning(t, h.Name) {
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
	h := f.failingHost(t, nil, 0x80070002)
	if res := f.repair(t, t.Context(), h, run.ProcedureRepair, &memSink{}); res.State != run.StateSucceeded {
		t.Fatalf("%+v", res)
	}
	c := f.srv.Counters(h.Name)
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

// cancelDuringLockedRename picks a failing host whose folder stays locked,
// and returns a context that is cancelled 200 ms into the rename step, with
// the sink that watches for it.
func (f *fleet) cancelDuringLockedRename(t *testing.T) (sim.Host, context.Context, *memSink) {
	t.Helper()
	h := f.failingHost(t, nil, 0x80070002, 0x80070003)
	f.srv.SetFault(h.Name, sim.FaultFolderLocked)
	m, _ := f.srv.Machine(h.Name)
	m.Update(func(s *sim.HostState) { s.LockedRenames = 1000 })
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	sink := &memSink{onEvent: func(ev run.Event) {
		if ev.Kind == run.EventStepStarted && ev.Step == run.StepRename {
			go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		}
	}}
	return h, ctx, sink
}

// TestProcedure_DeadlineRestoresServices ensures that when the run's
// deadline expires after the services were stopped (here, while the rename
// retries a locked folder), the services are started again on a fresh
// context and the run says it timed out.
func TestProcedure_DeadlineRestoresServices(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h, ctx, sink := f.cancelDuringLockedRename(t)
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	res := f.repair(t, dctx, h, run.ProcedureRepair, sink)
	if res.State == run.StateSucceeded {
		t.Fatalf("run with a locked folder and an expired context succeeded: %+v", res)
	}
	if !f.servicesRunning(t, h.Name) {
		t.Fatalf("services left stopped after the deadline; steps %v", sink.finished())
	}
	if sink.finished()[run.StepStartServices] != "ok" {
		t.Fatalf("start-services did not run to ok after the deadline: %v", sink.finished())
	}
}

// TestProcedure_DroppedConnection ensures a host that drops the connection
// mid-command ends the run as unreachable with a reason, without hanging.
func TestProcedure_DroppedConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := f.failingHost(t, nil, 0x80070002, 0x80070003)
	f.srv.SetFault(h.Name, sim.FaultDropConnection)
	start := time.Now()
	sink := &memSink{}
	res := f.repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateFailed || res.Outcome != run.OutcomeUnreachable || !strings.Contains(res.Summary, "closed the connection") {
		t.Fatalf("got %+v; steps %v", res, sink.finished())
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("a dropped connection took %v to report", time.Since(start))
	}
	t.Logf("dropped connection: %s (services running: %v)", res.Summary, f.servicesRunning(t, h.Name))
}
