package runner

import (
	"sync"

	"wsusfix/store/run"
)

// subscriberBuffer is how many events a slow watcher may lag behind before
// it is dropped; it then reconnects and replays from the store.
const subscriberBuffer = 1024

// Hub fans stored events out to live watchers. A watcher that cannot keep
// up is disconnected rather than allowed to slow the run. Safe for
// concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[int64]map[chan run.Event]struct{}
	closed bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[int64]map[chan run.Event]struct{}{}} }

// Subscribe returns a channel of the run's events published from now on,
// and a cancel func. The channel closes when the run finishes (after its
// run_finished event), when the watcher falls behind, or when the hub
// closes. Callers replay stored events first, then drop live ones they
// already replayed by Seq.
func (h *Hub) Subscribe(runID int64) (<-chan run.Event, func()) {
	ch := make(chan run.Event, subscriberBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	if h.subs[runID] == nil {
		h.subs[runID] = map[chan run.Event]struct{}{}
	}
	h.subs[runID][ch] = struct{}{}
	return ch, func() { h.drop(runID, ch) }
}

func (h *Hub) drop(runID int64, ch chan run.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[runID][ch]; ok {
		delete(h.subs[runID], ch)
		close(ch)
	}
}

// Publish sends stored events to the run's watchers, in order.
func (h *Hub) Publish(evs ...run.Event) {
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
		if ev.Kind == run.EventRunFinished {
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
