package remote

import (
	"sync"
	"time"
)

// Event is one entry of a run's log, as the executor records and publishes
// it. Seq is assigned by the Recorder when the event is stored. Its fields
// match store.RunEvent's one for one, so the layers that see both convert
// with a plain type conversion; keep them the same.
type Event struct {
	RunID      int64
	Seq        int64
	At         time.Time
	Kind       string // "step_started", "output", "step_finished", "run_finished"
	Step       string
	Stream     string // Stdout or Stderr, for output
	Text       string
	Status     string
	DurationMS int64
	Detail     string // JSON detail of a finished step, or the run's outcome
}

// Event kinds.
const (
	KindStepStarted  = "step_started"
	KindOutput       = "output"
	KindStepFinished = "step_finished"
	KindRunFinished  = "run_finished"
)

// subscriberBuffer is how many events a slow watcher may lag behind before
// it is dropped; it then reconnects and replays from the store.
const subscriberBuffer = 1024

// Hub fans stored events out to live watchers. A watcher that cannot keep
// up is disconnected rather than allowed to slow the run. Safe for
// concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[int64]map[chan Event]struct{}
	closed bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[int64]map[chan Event]struct{}{}} }

// Subscribe returns a channel of the run's events published from now on,
// and a cancel func. The channel closes when the run finishes (after its
// run_finished event), when the watcher falls behind, or when the hub
// closes. Callers replay stored events first, then drop live ones they
// already replayed by Seq.
func (h *Hub) Subscribe(runID int64) (<-chan Event, func()) {
	ch := make(chan Event, subscriberBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	if h.subs[runID] == nil {
		h.subs[runID] = map[chan Event]struct{}{}
	}
	h.subs[runID][ch] = struct{}{}
	return ch, func() { h.drop(runID, ch) }
}

func (h *Hub) drop(runID int64, ch chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[runID][ch]; ok {
		delete(h.subs[runID], ch)
		close(ch)
	}
}

// Publish sends stored events to the run's watchers, in order.
func (h *Hub) Publish(evs ...Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range evs {
		for ch := range h.subs[ev.RunID] {
			select {
			case ch <- ev:
			default: // too slow: cut it loose; it will resume from the store
				delete(h.subs[ev.RunID], ch)
				close(ch)
			}
		}
		if ev.Kind == KindRunFinished {
			for ch := range h.subs[ev.RunID] {
				close(ch)
			}
			delete(h.subs, ev.RunID)
		}
	}
}

// Close disconnects every watcher; later subscriptions get closed channels.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for id, subs := range h.subs {
		for ch := range subs {
			close(ch)
		}
		delete(h.subs, id)
	}
}
