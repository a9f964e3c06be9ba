package runner_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/runner"
	"wsusfix/store/run"
)

// memRecorder stores runs in memory, checking the executor's contract:
// events are numbered per run and every published event was stored first.
type memRecorder struct {
	mu       sync.Mutex
	events   map[int64][]run.Event
	results  map[int64]runner.Result
	started  map[int64]bool
	refuse   map[int64]bool // StartRun fails, as for a run cancelled meanwhile
	finished chan int64
}

func newMemRecorder() *memRecorder {
	return &memRecorder{events: map[int64][]run.Event{}, results: map[int64]runner.Result{},
		started: map[int64]bool{}, refuse: map[int64]bool{}, finished: make(chan int64, 1000)}
}

func (m *memRecorder) StartRun(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse[id] {
		return fmt.Errorf("run %d not queued", id)
	}
	m.started[id] = true
	return nil
}

func (m *memRecorder) AppendEvents(_ context.Context, evs []run.Event) ([]run.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range evs {
		evs[i].Seq = int64(len(m.events[evs[i].RunID]) + 1)
		m.events[evs[i].RunID] = append(m.events[evs[i].RunID], evs[i])
	}
	return evs, nil
}

func (m *memRecorder) SaveHistory(context.Context, int64, []runner.HistoryEntry, string) error {
	return nil
}

func (m *memRecorder) FinishRun(_ context.Context, job runner.Job, res runner.Result) (run.Event, error) {
	m.mu.Lock()
	ev := run.Event{RunID: job.RunID, Seq: int64(len(m.events[job.RunID]) + 1), Kind: run.EventRunFinished, Status: string(res.State)}
	m.events[job.RunID] = append(m.events[job.RunID], ev)
	m.results[job.RunID] = res
	m.mu.Unlock()
	m.finished <- job.RunID
	return ev, nil
}

func (m *memRecorder) stored(id int64) []run.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]run.Event(nil), m.events[id]...)
}

func (m *memRecorder) result(id int64) runner.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.results[id]
}

func waitFinished(t *testing.T, m *memRecorder, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-m.finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d runs finished", i, n)
		}
	}
}

// TestExecutor_ConcurrencyLimit ensures no more runs execute at once than
// the limit allows, and every queued run is carried out.
func TestExecutor_ConcurrencyLimit(t *testing.T) {
	t.Parallel()
	rec := newMemRecorder()
	var now, peak atomic.Int32
	rn := func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}
	}
	e := runner.NewExecutor(rec, runner.NewHub(), rn, runner.Options{Concurrency: 4})
	defer e.Close(context.Background())
	for i := range 40 {
		if err := e.Submit(runner.Job{RunID: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFinished(t, rec, 40)
	if p := peak.Load(); p > 4 || p < 2 {
		t.Fatalf("peak concurrency %d, want at most 4 (and some overlap)", p)
	}
}

// TestExecutor_EventsStoredBeforePublished ensures a watcher sees every
// event in order, each already stored with its sequence number, and that
// the stream ends with run_finished.
func TestExecutor_EventsStoredBeforePublished(t *testing.T) {
	t.Parallel()
	rec := newMemRecorder()
	hub := runner.NewHub()
	release := make(chan struct{})
	rn := func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		<-release
		sink.Emit(run.Event{Kind: run.EventStepStarted, Step: run.StepPreflight})
		for i := range 100 {
			sink.Emit(run.Event{Kind: run.EventOutput, Step: run.StepPreflight, Stream: remote.Stdout, Text: fmt.Sprint("line ", i)})
		}
		sink.Emit(run.Event{Kind: run.EventStepFinished, Step: run.StepPreflight, Status: "ok"})
		return runner.Result{State: run.StateSucceeded}
	}
	e := runner.NewExecutor(rec, hub, rn, runner.Options{Concurrency: 1})
	defer e.Close(context.Background())
	ch, cancel := hub.Subscribe(7)
	defer cancel()
	e.Submit(runner.Job{RunID: 7})
	close(release)
	var seqs []int64
	for ev := range ch {
		stored := rec.stored(7)
		if int(ev.Seq) > len(stored) || stored[ev.Seq-1].Text != ev.Text {
			t.Fatalf("event %d published before it was stored", ev.Seq)
		}
		seqs = append(seqs, ev.Seq)
	}
	if len(seqs) != 103 {
		t.Fatalf("watcher saw %d events, want 103", len(seqs))
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("event %d has seq %d: out of order or gap", i, s)
		}
	}
}

// TestExecutor_Cancel ensures a queued run is cancelled without starting
// and a running one is told to stop and recorded as cancelled.
func TestExecutor_Cancel(t *testing.T) {
	t.Parallel()
	rec := newMemRecorder()
	started := make(chan struct{})
	var restored atomic.Bool
	rn := func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		close(started)
		<-ctx.Done()
		restored.Store(true) // a real procedure restarts services here
		return runner.Result{State: run.StateFailed, Outcome: run.OutcomeError}
	}
	e := runner.NewExecutor(rec, runner.NewHub(), rn, runner.Options{Concurrency: 1})
	defer e.Close(context.Background())
	e.Submit(runner.Job{RunID: 1})
	<-started
	e.Submit(runner.Job{RunID: 2})
	if !e.Cancel(2) {
		t.Fatal("queued run not found")
	}
	if !e.Cancel(1) {
		t.Fatal("running run not found")
	}
	waitFinished(t, rec, 2)
	if r := rec.result(1); r.State != run.StateCancelled || !restored.Load() {
		t.Fatalf("running run: %+v, restored %v", r, restored.Load())
	}
	if r := rec.result(2); r.State != run.StateCancelled || rec.started[2] {
		t.Fatalf("queued run: %+v, started %v", r, rec.started[2])
	}
	if e.Cancel(99) {
		t.Fatal("cancelled a run that does not exist")
	}
}

// TestExecutor_Close ensures shutdown refuses new runs, cancels queued and
// running ones, and waits for the running ones to restore their hosts.
func TestExecutor_Close(t *testing.T) {
	t.Parallel()
	rec := newMemRecorder()
	started := make(chan struct{}, 2)
	var restored atomic.Int32
	rn := func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		started <- struct{}{}
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // restarting services takes a moment
		restored.Add(1)
		return runner.Result{State: run.StateFailed, Outcome: run.OutcomeInterrupted}
	}
	hub := runner.NewHub()
	e := runner.NewExecutor(rec, hub, rn, runner.Options{Concurrency: 2})
	for i := range 5 {
		e.Submit(runner.Job{RunID: int64(i + 1)})
	}
	<-started
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if restored.Load() != 2 {
		t.Fatalf("Close returned with %d of 2 running runs restored", restored.Load())
	}
	waitFinished(t, rec, 5)
	if err := e.Submit(runner.Job{RunID: 9}); err != runner.ErrClosed {
		t.Fatalf("Submit after Close: %v", err)
	}
}
