package remote

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"wsusfix/store/run"
)

// ErrClosed is returned by Submit once the executor is shutting down.
var ErrClosed = errors.New("remote: executor is shutting down")

// Job is one run to carry out on one host.
type Job struct {
	RunID      int64
	HostID     int64
	Target     Target
	Procedure  run.Procedure
	FailingKBs []string // what the host was failing to install, for verification
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

// ExecutorOptions tunes an Executor.
type ExecutorOptions struct {
	Concurrency int           // runs at once across all hosts; default 10
	RunTimeout  time.Duration // bound on one run; default 20m
	Logger      *slog.Logger
}

// Executor queues runs and carries them out with a global concurrency
// limit. It lives as long as the application. Safe for concurrent use.
type Executor struct {
	rec Recorder
	hub *Hub
	run RunFunc
	opt ExecutorOptions
	log *slog.Logger

	ctx    context.Context // cancelled by Close: every run ends
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []Job
	wake    chan struct{}
	running map[int64]context.CancelCauseFunc
	closed  bool
	wg      sync.WaitGroup
}

// errCancelled is the cause recorded when a person cancels a run.
var errCancelled = errors.New("cancelled by a user")

// NewExecutor starts the workers.
func NewExecutor(rec Recorder, hub *Hub, run RunFunc, opt ExecutorOptions) *Executor {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 10
	}
	if opt.RunTimeout <= 0 {
		opt.RunTimeout = 20 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Executor{rec: rec, hub: hub, run: run, opt: opt, log: opt.Logger, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), running: map[int64]context.CancelCauseFunc{}}
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
		cancel(errCancelled)
	}
	return ok
}

// next takes the oldest queued job, waiting for one; false means closing.
func (e *Executor) next() (Job, bool) {
	for {
		e.mu.Lock()
		if len(e.queue) > 0 && !e.closed {
			j := e.queue[0]
			e.queue = e.queue[1:]
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

func (e *Executor) worker() {
	for {
		job, ok := e.next()
		if !ok {
			return
		}
		e.execute(job)
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
	if context.Cause(ctx) == errCancelled && res.State != run.StateSucceeded {
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
