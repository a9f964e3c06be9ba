package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// newRun creates a host and a running run on it.
func (a *app) newRun(t testing.TB, name string) store.Run {
	t.Helper()
	ctx := context.Background()
	if _, err := a.st.UpsertHosts(ctx, []store.HostInput{{Name: name}}); err != nil {
		t.Fatal(err)
	}
	h, err := a.st.HostByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.StartRun(ctx, rn.ID); err != nil {
		t.Fatal(err)
	}
	return rn
}

// sseMsg is one parsed event, or a comment.
type sseMsg struct {
	id, event, data, comment string
}

// readSSE parses a stream as the SSE specification says a browser does:
// lines end at CRLF, LF or CR; a blank line dispatches.
func readSSE(t testing.TB, body io.Reader, out chan<- sseMsg) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, c := range data {
			if c == '\n' {
				return i + 1, data[:i], nil
			}
			if c == '\r' {
				if i+1 < len(data) && data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				if i+1 < len(data) || atEOF {
					return i + 1, data[:i], nil
				}
				return 0, nil, nil
			}
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var m sseMsg
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.event != "" || len(data) > 0 {
				m.data = strings.Join(data, "\n")
				out <- m
			}
			m, data = sseMsg{}, nil
		case strings.HasPrefix(line, ":"):
			out <- sseMsg{comment: line}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				m.id = value
			case "event":
				m.event = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// stream opens the run's event stream and returns its parsed messages.
func (a *app) stream(t testing.TB, runID int64, lastID string) (<-chan sseMsg, func()) {
	t.Helper()
	return a.streamPath(t, "/runs/"+itoa64(runID)+"/events", lastID)
}

// streamPath opens the event stream at path as the app's client.
func (a *app) streamPath(t testing.TB, path, lastID string) (<-chan sseMsg, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.URL+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ch := make(chan sseMsg, 100)
	go readSSE(t, res.Body, ch)
	return ch, func() { cancel(); res.Body.Close() }
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// next returns the next event (skipping comments), failing after a while.
func next(t *testing.T, ch <-chan sseMsg) sseMsg {
	t.Helper()
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if m.comment != "" {
				continue
			}
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
	}
}

func payload(t *testing.T, m sseMsg) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(m.data), &v); err != nil {
		t.Fatalf("data %q: %v", m.data, err)
	}
	return v
}

// TestHandleRunEvents ensures a watcher gets stored events, then live
// ones, each with its id, and a final done; that host text which looks like
// SSE stays one line of output; and that a reconnect with Last-Event-ID
// resumes with no gap and no duplicate.
func TestHandleRunEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	rn := a.newRun(t, "PC1")
	forged := "ok\n\nevent: done\ndata: {\"kind\":\"run_finished\"}\r\rid: 99"
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventStepStarted, Step: run.StepPreflight})
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stdout", Text: forged})

	ch, stop := a.stream(t, rn.ID, "")
	m := next(t, ch)
	if m.id != "1" || m.event != "step_started" {
		t.Fatalf("first message %+v", m)
	}
	m = next(t, ch)
	if m.id != "2" || m.event != "output" || payload(t, m)["text"] != forged {
		t.Fatalf("forged output arrived as %+v", m)
	}
	// Live.
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stderr", Text: "live line"})
	if m = next(t, ch); m.id != "3" || payload(t, m)["stream"] != "stderr" {
		t.Fatalf("live message %+v", m)
	}
	stop()

	// Resume after id 2: exactly 3, then whatever comes next.
	ch, stop = a.stream(t, rn.ID, "2")
	defer stop()
	if m = next(t, ch); m.id != "3" {
		t.Fatalf("resume after 2 gave %+v", m)
	}
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventStepFinished, Step: run.StepPreflight, Status: "ok"})
	if m = next(t, ch); m.id != "4" || m.event != "step_finished" {
		t.Fatalf("after resume %+v", m)
	}
	a.runner.finish(t, rn.ID)
	if m = next(t, ch); m.event != "done" || payload(t, m)["status"] != "succeeded" {
		t.Fatalf("final %+v", m)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("stream continued after done")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("stream not closed after done")
	}
}

// TestHandleRunEvents_Finished ensures a finished run's stream replays the
// stored log and ends at once, without a runner.
func TestHandleRunEvents_Finished(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	rn := a.newRun(t, "PC2")
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventStepStarted, Step: run.StepPreflight})
	a.runner.finish(t, rn.ID)
	ch, stop := a.stream(t, rn.ID, "")
	defer stop()
	if m := next(t, ch); m.event != "step_started" {
		t.Fatalf("%+v", m)
	}
	if m := next(t, ch); m.event != "done" {
		t.Fatalf("%+v", m)
	}
	if _, ok := <-ch; ok {
		t.Fatal("finished run's stream stayed open")
	}
}

// TestHandleRunEvents_HeartbeatAndShutdown ensures an idle stream sends
// keepalive comments and ends when the server starts shutting down.
func TestHandleRunEvents_HeartbeatAndShutdown(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	rn := a.newRun(t, "PC3")
	ch, stop := a.stream(t, rn.ID, "")
	defer stop()
	select {
	case m := <-ch:
		if m.comment != ": keepalive" {
			t.Fatalf("first message on an idle stream %+v, want a keepalive comment", m)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no heartbeat")
	}
	close(a.shutdown)
	deadline := time.After(3 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("stream still open after shutdown began")
		}
	}
}
