// Package remotetest is what the tests of remote and its subpackages share:
// a simulated fleet served over HTTPS on loopback with a client configured
// for it, and a Sink that records what a procedure reports. It is imported
// by tests only.
package remotetest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// Password is the fleet's Administrator password.
const Password = "S3cret-for-tests"

// FastProcedure is the repair's options with waits short enough for tests.
var FastProcedure = repair.Options{ServiceTimeout: 2 * time.Second, RenameDelay: time.Second,
	StepTimeout: 20 * time.Second, RestoreTimeout: 20 * time.Second, MinFreeGB: 1}

// Fleet is a simulated fleet served over HTTPS on loopback, and the client
// settings that reach it.
type Fleet struct {
	Srv *sim.Server
	Sim *sim.Fleet
	Cfg remote.Config
}

// NewFleet starts a fleet of n hosts without faults; it stops with the test.
func NewFleet(tb testing.TB, n int) *Fleet {
	tb.Helper()
	return NewFleetWith(tb, n, nil)
}

// NewFleetWith is NewFleet with a chance to change the simulator's options
// once the fleet is known.
func NewFleetWith(tb testing.TB, n int, mod func(*sim.Fleet, *sim.Options)) *Fleet {
	tb.Helper()
	return NewFleetOf(tb, sim.FleetConfig{Seed: 3, Hosts: n}, mod)
}

// NewFleetOf is NewFleetWith for the fleet cfg describes; a zero End is
// the tests' fixed 2026-11-20.
func NewFleetOf(tb testing.TB, cfg sim.FleetConfig, mod func(*sim.Fleet, *sim.Options)) *Fleet {
	tb.Helper()
	if cfg.End.IsZero() {
		cfg.End = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	}
	f := sim.NewFleet(cfg)
	// Tests choose their faults; the seed's own are cleared.
	for i := range f.Hosts {
		f.Hosts[i].Fault, f.Hosts[i].RebootPending = sim.FaultNone, false
	}
	opt := sim.Options{Password: Password, TLS: true, MaxOperationTimeout: 300 * time.Millisecond, ScriptTimeScale: 0.05,
		ReceiveTimeouts: 2, SlowLatency: 80 * time.Millisecond, SlowJitter: time.Millisecond}
	if mod != nil {
		mod(f, &opt)
	}
	srv := sim.StartTest(tb, f, opt)
	return &Fleet{Srv: srv, Sim: f, Cfg: remote.Config{HTTPS: true, CAPEM: srv.CACertPEM(), Auth: remote.AuthBasic,
		User: "Administrator", Password: Password, OperationTimeout: 300 * time.Millisecond,
		DialTimeout: 2 * time.Second, DialContext: srv.DialContext}}
}

// Host is the name of the fleet's i-th host.
func (f *Fleet) Host(i int) string { return f.Sim.Hosts[i].Name }

// Client returns a client for the fleet, its settings changed by mod.
func (f *Fleet) Client(tb testing.TB, mod func(*remote.Config)) *remote.Client {
	tb.Helper()
	cfg := f.Cfg
	if mod != nil {
		mod(&cfg)
	}
	c, err := remote.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// FailingHost picks a host failing with one of codes, without fault and
// not in skip.
func (f *Fleet) FailingHost(tb testing.TB, skip map[string]bool, codes ...uint32) sim.Host {
	tb.Helper()
	for _, h := range f.Sim.Hosts {
		for _, want := range codes {
			if h.Failure() == want && !skip[h.Name] && h.Fault == sim.FaultNone {
				return h
			}
		}
	}
	tb.Fatalf("no host failing with %x", codes)
	return sim.Host{}
}

// Repair runs procedure on h with FastProcedure, naming the KB the host
// fails on as the job would, and reports to sink.
func (f *Fleet) Repair(tb testing.TB, ctx context.Context, h sim.Host, procedure run.Procedure, sink *Sink) runner.Result {
	tb.Helper()
	job := runner.Job{RunID: 1, HostID: 1, Procedure: procedure, Target: remote.Target{Name: h.FQDN}}
	if fl := h.Failure(); fl != 0 {
		for _, e := range h.History {
			if e.HResult == fl {
				job.FailingKBs = []string{e.KB}
				break
			}
		}
	}
	return repair.RunFunc(f.Client(tb, nil), FastProcedure)(ctx, job, sink)
}

// ServicesRunning reports whether wuauserv and BITS run on the host.
func (f *Fleet) ServicesRunning(tb testing.TB, name string) bool {
	tb.Helper()
	st, ok := f.Srv.HostState(name)
	if !ok {
		tb.Fatalf("no host %s", name)
	}
	for _, s := range st.Services {
		if (s.Name == "wuauserv" || s.Name == "BITS") && s.Status != sim.StatusRunning {
			return false
		}
	}
	return true
}

// CancelDuringLockedRename picks a failing host whose folder stays locked,
// and returns a context cancelled 200 ms into the rename step, with the
// sink that watches for it: a cancel while the services are stopped.
func (f *Fleet) CancelDuringLockedRename(tb testing.TB) (sim.Host, context.Context, *Sink) {
	tb.Helper()
	h := f.FailingHost(tb, nil, 0x80070002, 0x80070003)
	f.Srv.SetFault(h.Name, sim.FaultFolderLocked)
	m, _ := f.Srv.Machine(h.Name)
	m.Update(func(s *sim.HostState) { s.LockedRenames = 1000 })
	ctx, cancel := context.WithCancel(tb.Context())
	tb.Cleanup(cancel)
	sink := &Sink{OnEvent: func(ev run.Event) {
		if ev.Kind == run.EventStepStarted && ev.Step == run.StepRename {
			go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		}
	}}
	return h, ctx, sink
}

// Sink records what a procedure reports (a runner.Sink). OnEvent, when
// set, sees every event as it comes. Safe for concurrent use.
type Sink struct {
	OnEvent func(run.Event)
	// HistoryErr, when set, is what SaveHistory returns, storing nothing:
	// the store failing under a run (disk full, database locked).
	HistoryErr error

	mu      sync.Mutex
	events  []run.Event
	history []runner.HistoryEntry
}

// Emit records ev and passes it to OnEvent.
func (m *Sink) Emit(ev run.Event) {
	m.mu.Lock()
	m.events = append(m.events, ev)
	f := m.OnEvent
	m.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

// SaveHistory records the history entries, or returns HistoryErr.
func (m *Sink) SaveHistory(entries []runner.HistoryEntry, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.HistoryErr != nil {
		return m.HistoryErr
	}
	m.history = append(m.history, entries...)
	return nil
}

// Events returns the events so far; the caller owns the slice.
func (m *Sink) Events() []run.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// History returns the history entries saved so far.
func (m *Sink) History() []runner.HistoryEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.history)
}

// Printed reports whether step's output holds the line text.
func (m *Sink) Printed(step run.Step, text string) bool {
	for _, ev := range m.Events() {
		if ev.Kind == run.EventOutput && ev.Step == step && ev.Text == text {
			return true
		}
	}
	return false
}

// Finished maps each finished step to its status.
func (m *Sink) Finished() map[run.Step]string {
	out := map[run.Step]string{}
	for _, ev := range m.Events() {
		if ev.Kind == run.EventStepFinished {
			out[ev.Step] = ev.Status
		}
	}
	return out
}

// Order lists the steps in the order they started.
func (m *Sink) Order() []run.Step {
	var out []run.Step
	for _, ev := range m.Events() {
		if ev.Kind == run.EventStepStarted {
			out = append(out, ev.Step)
		}
	}
	return out
}

// FinishedEvent returns the step's last finished event.
func (m *Sink) FinishedEvent(step run.Step) (run.Event, bool) {
	evs := m.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == run.EventStepFinished && evs[i].Step == step {
			return evs[i], true
		}
	}
	return run.Event{}, false
}

// Output is everything a step printed for people, one line each.
func (m *Sink) Output(step run.Step) string {
	var b strings.Builder
	for _, ev := range m.Events() {
		if ev.Kind == run.EventOutput && ev.Step == step {
			b.WriteString(ev.Text + "\n")
		}
	}
	return b.String()
}
