package runner

import (
	"sync"
	"time"

	"wsusfix/store/run"
)

// outputDelay is how long output lines may wait to be stored together: one
// transaction per burst instead of one per line, with no visible lag.
const outputDelay = 20 * time.Millisecond

// runLog is a run's Sink: it stamps events, stores them (batching bursts
// of output), and publishes them once stored.
type runLog struct {
	e   *Executor
	job Job

	mu      sync.Mutex // guards pending
	pending []run.Event
	flushMu sync.Mutex // one flush at a time keeps the order
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
}

func newRunLog(e *Executor, job Job) *runLog {
	l := &runLog{e: e, job: job, wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go l.flusher()
	return l
}

// Emit records ev: output is flushed shortly, everything else at once.
func (l *runLog) Emit(ev run.Event) {
	ev.RunID = l.job.RunID
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	l.mu.Lock()
	l.pending = append(l.pending, ev)
	l.mu.Unlock()
	if ev.Kind != run.EventOutput {
		l.flush()
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// SaveHistory stores entries read from the host.
func (l *runLog) SaveHistory(entries []HistoryEntry, source string) error {
	ctx, cancel := l.e.storeContext()
	defer cancel()
	return l.e.rec.SaveHistory(ctx, l.job.HostID, entries, source)
}

func (l *runLog) flusher() {
	defer close(l.stopped)
	for {
		select {
		case <-l.wake:
			time.Sleep(outputDelay)
			l.flush()
		case <-l.done:
			return
		}
	}
}

// flush stores what is pending and publishes it.
func (l *runLog) flush() {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	evs := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(evs) == 0 {
		return
	}
	ctx, cancel := l.e.storeContext()
	defer cancel()
	stored, err := l.e.rec.AppendEvents(ctx, evs)
	if err != nil {
		// Unstored events are never shown; the run goes on and its final
		// state still lands.
		l.e.log.Error("run events not stored", "run_id", l.job.RunID, "events", len(evs), "error", err)
		return
	}
	l.e.hub.Publish(stored...)
}

// close flushes the rest and stops the flusher.
func (l *runLog) close() {
	close(l.done)
	<-l.stopped
	l.flush()
}
