// Package runner runs repairs and checks in the background: the executor
// with its concurrency and per-WSUS-server limits, cancel and shutdown, the
// run log that stores every event before anyone hears of it, and the hub
// that fans stored events out to live watchers. What a run does is a RunFunc
// (package repair's); where events are kept is a Recorder (the store).
package runner

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"wsusfix/remote"
	"wsusfix/store/run"
)

// ErrClosed is returned by Submit once the executor is shutting down.
var ErrClosed = errors.New("remote: executor is shutting down")

// Job is one run to carry out on one host.
type Job struct {
	RunID      int64
	HostID     int64
	Target     remote.Target
	Procedure  run.Procedure
	FailingKBs []string // what the host was failing to install, for verification
	// WSUSServer is the WSUS server the host scans against, which bounds
	// how many of its repairs run at once (Options.ScansPerServer).
	// The inventory does not record it today, so it is "" for every host:
	// the estate counts as one WSUS server.
	WSUSServer string
}

// Result is how a run ended, as the RunFunc reports it.
type Result struct {
	State     run.State // a final state: succeeded, failed or cancelled
	Outcome   run.Outcome
	Summary   string // one sentence for people
	Error     string
	HostState string // host state to record ("failing", "repaired", "unknown"); empty leaves it
}

// HistoryEntry is one update history entry read from a host.
type HistoryEntry struct {
	Time      time.Time
	UpdateID  string
	KB        string
	Title     string
	Operation string
	Result    run.UpdateResult
	HResult   uint32
}

// Recorder stores what runs do. The executor never tells a watcher of an
// event the Recorder has not stored.
type Recorder interface {
	StartRun(ctx context.Context, runID int64) error
	AppendEvents(ctx context.Context, evs []run.Event) ([]run.Event, error) // returns them numbered
	SaveHistory(ctx context.Context, hostID int64, entries []HistoryEntry, source string) error
	FinishRun(ctx context.Context, job Job, res Result) (run.Event, error)
}

// Sink is what a RunFunc reports through.
type Sink interface {
	Emit(ev run.Event)
	SaveHistory(entries []HistoryEntry, source string) error
}

// RunFunc carries out a job. It must return soon after ctx ends, having
// restored the host's services first.
type RunFunc func(ctx context.Context, job Job, sink Sink) Result

// Options tunes an Executor.
type Options struct {
	Concurrency int // runs at once across all hosts; default 10
	// ScansPerServer is how many repairs may run at once against one WSUS
	// server (Job.WSUSServer); default DefaultScansPerServer. Each repair
	// ends in a full scan, which KB 4490414 warns can move over 1 GB of
	// metadata per client: a bulk repair at full concurrency would be a
	// scan storm on one server. Checks do not scan and are not counted.
	ScansPerServer int
	RunTimeout     time.Duration // bound on one run; default 20m
	Logger         *slog.Logger
}

// DefaultScansPerServer is Options.ScansPerServer's default.
const DefaultScansPerServer = 3

// Executor queues runs and carries them out with a global concurrency
// limit. It lives as long as the application. Safe for concurrent use.
type Executor struct {
	rec Recorder
	hub *Hub
	run RunFunc
	opt Options
	log *slog.Logger

	ctx    context.Context // cancelled by Close: every run ends
	cancel context.CancelFunc

	mu       sync.Mutex
	queue    []Job
	wake     chan struct{}
	running  map[int64]context.CancelCauseFunc
	scanning map[string]int // repairs running per WSUS server
	closed   bool
	wg       sync.WaitGroup
}

// ErrCancelled is the cause recorded when a person cancels a run.
var ErrCancelled = errors.New("cancelled by a user")

// NewExecutor starts the workers.
func NewExecutor(rec Recorder, hub *Hub, run RunFunc, opt Options) *Executor {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 10
	}
	if opt.ScansPerServer <= 0 {
		opt.ScansPerServer = DefaultScansPerServer
	}
	if opt.RunTimeout <= 0 {
		opt.RunTimeout = 20 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Executor{rec: rec, hub: hub, run: run, opt: opt, log: opt.Logger, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), running: map[int64]context.CancelCauseFunc{}, scanning: map[string]int{}}
	for range opt.Concurrency {
		e.wg.Go(e.worker)
	}
	return e
}

// Submit queues a job whose run row already exists in state queued.
func (e *Executor) Submit(job Job) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.queue = append(e.queue, job)
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

// Cancel stops a queued or running run. It reports whether the run was
// found; a running one ends once its services are restored.
func (e *Executor) Cancel(runID int64) bool {
	e.mu.Lock()
	for i, j := range e.queue {
		if j.RunID == runID {
			e.queue = append(e.queue[:i], e.queue[i+1:]...)
			e.mu.Unlock()
			e.finish(j, Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "Cancelled before it started."})
			return true
		}
	}
	cancel, ok := e.running[runID]
	e.mu.Unlock()
	if ok {
		cancel(ErrCancelled)
	}
	return ok
}

// next takes the oldest queued job that may start, waiting for one; false
// means closing. A repair may start while its WSUS server has fewer than
// ScansPerServer repairs running; the ones behind it wait in the queue
// (still "queued" on their pages) and do not hold back other jobs.
func (e *Executor) next() (Job, bool) {
	for {
		e.mu.Lock()
		i := e.startable()
		if i >= 0 && !e.closed {
			j := e.queue[i]
			e.queue = append(e.queue[:i], e.queue[i+1:]...)
			if scans(j) {
				e.scanning[j.WSUSServer]++
			}
			if len(e.queue) > 0 {
				select { // pass the wake-up on to another idle worker
				case e.wake <- struct{}{}:
				default:
				}
			}
			e.mu.Unlock()
			return j, true
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-e.ctx.Done():
			return Job{}, false
		}
	}
}

// startable is the index of the oldest queued job that may start, or -1.
// The caller holds e.mu.
func (e *Executor) startable() int {
	for i, j := range e.queue {
		if !scans(j) || e.scanning[j.WSUSServer] < e.opt.ScansPerServer {
			return i
		}
	}
	return -1
}

// scans reports whether a job ends in a scan against its WSUS server.
func scans(j Job) bool { return j.Procedure == run.ProcedureRepair }

// release gives back a finished repair's place on its WSUS server and
// wakes a worker for the job that may now start.
func (e *Executor) release(j Job) {
	if !scans(j) {
		return
	}
	e.mu.Lock()
	e.scanning[j.WSUSServer]--
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Executor) worker() {
	for {
		job, ok := e.next()
		if !ok {
			return
		}
		e.execute(job)
		e.release(job)
	}
}

// execute carries out one job from start to its recorded end.
func (e *Executor) execute(job Job) {
	ctx, cancel := context.WithCancelCause(e.ctx)
	ctx, cancelTimeout := context.WithTimeout(ctx, e.opt.RunTimeout)
	defer cancelTimeout()
	e.mu.Lock()
	e.running[job.RunID] = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, job.RunID)
		e.mu.Unlock()
		cancel(nil)
	}()

	sctx, scancel := e.storeContext()
	err := e.rec.StartRun(sctx, job.RunID)
	scancel()
	if err != nil {
		e.log.Warn("run not started", "run_id", job.RunID, "error", err)
		return
	}
	lg := newRunLog(e, job)
	res := e.run(ctx, job, lg)
	lg.close()
	if context.Cause(ctx) == ErrCancelled && res.State != run.StateSucceeded {
		res.State, res.Outcome = run.StateCancelled, run.OutcomeCancelled
	}
	e.finish(job, res)
}

// finish records the end and tells the watchers.
func (e *Executor) finish(job Job, res Result) {
	sctx, scancel := e.storeContext()
	defer scancel()
	ev, err := e.rec.FinishRun(sctx, job, res)
	if err != nil {
		e.log.Error("run result not stored", "run_id", job.RunID, "error", err)
		return
	}
	e.hub.Publish(ev)
}

// storeContext bounds a write that must happen even after the run's own
// context ended (the final events of a cancelled run).
func (e *Executor) storeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Close stops accepting runs, cancels queued ones, cancels running ones
// (each restores its host's services before returning) and waits for them
// until ctx ends. Runs still going then are left for the next start-up to
// mark interrupted.
func (e *Executor) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	queued := e.queue
	e.queue = nil
	e.mu.Unlock()
	for _, j := range queued {
		e.finish(j, Result{State: run.StateCancelled, Outcome: run.OutcomeCancelled, Summary: "The server shut down before the run started."})
	}
	e.cancel()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe follows a run's events live (see Hub.Subscribe).
func (e *Executor) Subscribe(runID int64) (<-chan run.Event, func()) { return e.hub.Subscribe(runID) }
