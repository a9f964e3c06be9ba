package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
)

// sseEvent is the JSON each event's data carries. Text is data, never
// markup: the page inserts it with textContent.
type sseEvent struct {
	Seq        int64         `json:"seq"`
	Kind       run.EventKind `json:"kind"`
	Step       run.Step      `json:"step,omitempty"`
	Stream     string        `json:"stream,omitempty"`
	Text       string        `json:"text,omitempty"`
	Status     string        `json:"status,omitempty"`
	DurationMS int64         `json:"duration_ms,omitempty"`
	Detail     string        `json:"detail,omitempty"`
	At         string        `json:"at"`
}

// writeSSE writes one event. Every line of data becomes its own "data:"
// line, splitting on CR, LF and CRLF as the SSE parser does, so no text
// can end the event early or start a forged one.
func writeSSE(w io.Writer, id int64, event, data string) error {
	var b strings.Builder
	if id > 0 {
		fmt.Fprintf(&b, "id: %d\n", id)
	}
	fmt.Fprintf(&b, "event: %s\n", event)
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRunEvent sends a stored event; run_finished is sent as "done".
func writeRunEvent(w io.Writer, ev run.Event) error {
	payload, _ := json.Marshal(sseEvent{Seq: ev.Seq, Kind: ev.Kind, Step: ev.Step, Stream: ev.Stream, Text: ev.Text,
		Status: ev.Status, DurationMS: ev.DurationMS, Detail: ev.Detail, At: ev.At.UTC().Format(time.RFC3339Nano)})
	name := string(ev.Kind)
	if ev.Kind == run.EventRunFinished {
		name = "done"
	}
	return writeSSE(w, ev.Seq, name, string(payload))
}

// lastEventID reads where a reconnecting client left off: the
// Last-Event-ID header, or ?after= on the first connection.
func lastEventID(r *http.Request) int64 {
	for _, s := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// handleRunEvents streams GET /runs/{id}/events: stored events after
// Last-Event-ID, then live ones, then "done". GET never starts work.
func (h *handler) handleRunEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := rn.ID
	rc := startStream(w)
	if r.Method == http.MethodHead {
		return // the headers say what GET would stream
	}
	defer h.metrics.Watching()()

	// Subscribe before replaying so nothing falls between the two; live
	// events already replayed are skipped by seq.
	var live <-chan run.Event
	if rn.Active() && h.runner != nil {
		ch, cancel := h.runner.Subscribe(id)
		defer cancel()
		live = ch
	}
	last := lastEventID(r)
	replay := func() (finished bool, err error) {
		evs, err := h.store.RunEvents(ctx, id, last, 0)
		if err != nil {
			return false, err
		}
		for _, ev := range evs {
			if err := writeRunEvent(w, ev); err != nil {
				return false, err
			}
			last = ev.Seq
			finished = finished || ev.Kind == run.EventRunFinished
		}
		return finished, rc.Flush()
	}
	if done, err := replay(); done || err != nil || live == nil {
		return
	}
	tick := time.NewTicker(h.heartbeat) // keeps proxies from timing out an idle stream
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-live:
			if !ok {
				// The run ended, this watcher fell behind, or the hub closed:
				// whatever is stored is the truth. A client still waiting
				// reconnects with Last-Event-ID.
				_, _ = replay()
				return
			}
			if ev.Seq <= last {
				continue
			}
			if err := writeRunEvent(w, run.Event(ev)); err != nil {
				return
			}
			last = ev.Seq
			if err := rc.Flush(); err != nil || ev.Kind == run.EventRunFinished {
				return
			}
		case <-tick.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-h.shutdown:
			return
		}
	}
}

// pathID reads a positive integer path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad %s %q: %w", name, r.PathValue(name), store.ErrNotFound)
	}
	return id, nil
}

// batchEventGap is the least time between two "changed" events of a batch
// stream: a batch of hundreds of hosts changes many times a second, and
// the page only needs to redraw at a pace a person can read.
const batchEventGap = 500 * time.Millisecond

// handleBatchEvents streams GET /batches/{id}/events: "changed" when a run
// of the batch starts or ends a step, or ends (at most every 500 ms), and
// "done" once none is queued or running. The events carry nothing of
// their own: the page fetches its fresh batch section, so counts, steps
// and the estimate are written in one place (the views).
func (h *handler) handleBatchEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, runs, err := h.batchRuns(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	active := slices.ContainsFunc(runs, store.Run.Active)
	rc := startStream(w)
	if r.Method == http.MethodHead {
		return
	}
	defer h.metrics.Watching()()
	done := func() { _ = writeSSE(w, 0, "done", "{}"); _ = rc.Flush() }
	if !active || h.runner == nil {
		done()
		return
	}
	// One subscription per active run, all feeding one signal: output
	// lines do not change the batch page, so they are not forwarded.
	changed := make(chan struct{}, 1)
	signal := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	for _, rn := range runs {
		if !rn.Active() {
			continue
		}
		ch, cancel := h.runner.Subscribe(rn.ID)
		defer cancel()
		go func() {
			for ev := range ch {
				if ev.Kind != run.EventOutput {
					signal()
				}
			}
			signal() // the run ended, or this watcher fell behind
		}()
	}
	tick := time.NewTicker(h.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-changed:
			states, _, err := h.store.BatchCounts(ctx, b.ID)
			if err != nil {
				return
			}
			if states[run.StateQueued]+states[run.StateRunning] == 0 {
				done()
				return
			}
			if writeSSE(w, 0, "changed", "{}") != nil || rc.Flush() != nil {
				return
			}
			// Let changes gather before the next redraw.
			select {
			case <-time.After(batchEventGap):
			case <-ctx.Done():
				return
			case <-h.shutdown:
				return
			}
		case <-tick.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-h.shutdown:
			return
		}
	}
}

// startStream answers 200 as an event stream that outlives the server's
// WriteTimeout and that no proxy buffers, and returns its controller.
func startStream(w http.ResponseWriter) *http.ResponseController {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return rc
}
