package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// apiRunState is the part of a run the API answers that says how it stands.
type apiRunState struct {
	ID         int64
	State      string
	Outcome    string
	FinishedAt *time.Time `json:"finished_at"`
	Cancelling bool
}

// TestAPI_CancelRun ensures the answer to a cancel is the run after the
// cancel was recorded, not before: a queued run the executor ends at once
// is cancelled, a running one is still running and says it is cancelling,
// one no worker has is interrupted, and one already ended is left as it
// ended without asking the executor. The answer agrees with GET.
func TestAPI_CancelRun(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withHosts("PC-QUEUED", "PC-RUNNING"))
	token := a.apiToken(t, "canceller", store.RoleOperator)
	ctx := context.Background()
	// As the executor does: a queued run is ended by Cancel itself, a
	// running one only told to stop.
	a.runner.onCancel = func(id int64) {
		if rn, err := a.st.Run(ctx, id); err == nil && rn.State == run.StateQueued {
			if _, err := a.st.FinishRun(ctx, id, store.RunResult{State: run.StateCancelled, Outcome: run.OutcomeCancelled,
				Summary: "Cancelled before it started."}); err != nil {
				t.Error(err)
			}
		}
	}
	start := func(host string) int64 {
		var rn apiRunState
		if res := a.api(t, http.MethodPost, "/api/v1/hosts/"+host+"/runs", token, url.Values{"procedure": {"check"}}, &rn); res.StatusCode != http.StatusCreated {
			t.Fatalf("start on %s: %d", host, res.StatusCode)
		}
		return rn.ID
	}
	queued := start("PC-QUEUED")
	running := start("PC-RUNNING")
	if err := a.st.StartRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	orphan := a.newRun(t, "PC-ORPHAN").ID // running in the database only
	ended := a.newRun(t, "PC-ENDED").ID
	a.runner.finish(t, ended)

	tests := []struct {
		name           string
		id             int64
		wantState      string
		wantOutcome    string
		wantFinished   bool
		wantCancelling bool
		wantAsked      bool // the executor is asked to cancel it
	}{
		{"queued", queued, "cancelled", "cancelled", true, false, true},
		{"running", running, "running", "", false, true, true},
		{"no worker", orphan, "interrupted", "interrupted", true, false, true},
		{"already ended", ended, "succeeded", "repaired", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got apiRunState
			res := a.api(t, http.MethodPost, "/api/v1/runs/"+itoa64(tt.id)+"/cancel", token, url.Values{}, &got)
			if res.StatusCode != http.StatusAccepted || got.ID != tt.id || got.State != tt.wantState || got.Outcome != tt.wantOutcome ||
				(got.FinishedAt != nil) != tt.wantFinished || got.Cancelling != tt.wantCancelling {
				t.Errorf("cancel: %d %+v; want 202, state %s, outcome %q, finished %v, cancelling %v", res.StatusCode, got,
					tt.wantState, tt.wantOutcome, tt.wantFinished, tt.wantCancelling)
			}
			a.runner.mu.Lock()
			asked := slices.Contains(a.runner.cancelled, tt.id)
			a.runner.mu.Unlock()
			if asked != tt.wantAsked {
				t.Errorf("executor asked to cancel: %v, want %v", asked, tt.wantAsked)
			}
			var shown struct{ Run apiRunState }
			if res := a.api(t, http.MethodGet, "/api/v1/runs/"+itoa64(tt.id), token, nil, &shown); res.StatusCode != http.StatusOK ||
				shown.Run.State != got.State || shown.Run.Outcome != got.Outcome {
				t.Errorf("GET after the cancel: %d %+v; the cancel answered %+v", res.StatusCode, shown.Run, got)
			}
		})
	}
}

// TestAPI_RunEvents ensures a viewer token reads a run's stored log as
// JSON in order, only what follows ?after=, with active true until the
// run ends and its run_finished event last.
func TestAPI_RunEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner())
	token := a.apiToken(t, "reader", store.RoleViewer)
	rn := a.newRun(t, "PC-LOG")
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventStepStarted, Step: run.StepPreflight})
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stdout", Text: "line one"})
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stderr", Text: "line two"})

	type events struct {
		Events []struct {
			Seq                      int64
			Kind, Step, Stream, Text string
			Status                   string
		}
		Active bool
	}
	path := "/api/v1/runs/" + itoa64(rn.ID) + "/events"
	var all events
	if res := a.api(t, http.MethodGet, path, token, nil, &all); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Type") != "application/json" || !all.Active || len(all.Events) != 3 {
		t.Fatalf("events: %d %q %+v", res.StatusCode, res.Header.Get("Content-Type"), all)
	}
	for i, ev := range all.Events {
		if ev.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d", i, ev.Seq)
		}
	}
	if e := all.Events[0]; e.Kind != "step_started" || e.Step != string(run.StepPreflight) {
		t.Errorf("first event %+v", e)
	}
	if e := all.Events[2]; e.Kind != "output" || e.Stream != "stderr" || e.Text != "line two" {
		t.Errorf("third event %+v", e)
	}

	var after events
	if res := a.api(t, http.MethodGet, path+"?after=2", token, nil, &after); res.StatusCode != http.StatusOK ||
		len(after.Events) != 1 || after.Events[0].Seq != 3 {
		t.Errorf("after=2: %d %+v, want event 3 alone", res.StatusCode, after)
	}

	a.runner.finish(t, rn.ID)
	var ended events
	if res := a.api(t, http.MethodGet, path+"?after=3", token, nil, &ended); res.StatusCode != http.StatusOK || ended.Active ||
		len(ended.Events) != 1 || ended.Events[0].Kind != "run_finished" || ended.Events[0].Status != "succeeded" {
		t.Errorf("after the run ended: %d %+v, want run_finished alone and not active", res.StatusCode, ended)
	}
}

// apiStream opens an API event stream with token, as a script would (a
// plain HTTP client, no cookie), resuming after lastID when it is set.
func (a *app) apiStream(t *testing.T, path, token, lastID string) (*http.Response, <-chan sseMsg, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ch := make(chan sseMsg, 100)
	go readSSE(t, res.Body, ch)
	return res, ch, func() { cancel(); res.Body.Close() }
}

// TestAPI_RunStream ensures a viewer token follows a run's log over
// /api/v1/runs/{id}/stream as Server-Sent Events: stored events, then live
// ones, each with its id, event name and JSON data, then done with the
// final state, and the stream ends; a reconnect with Last-Event-ID resumes
// with nothing repeated; without a token it is a 401 problem, no stream.
func TestAPI_RunStream(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	token := a.apiToken(t, "follower", store.RoleViewer)
	rn := a.newRun(t, "PC-STREAM")
	path := "/api/v1/runs/" + itoa64(rn.ID) + "/stream"
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventStepStarted, Step: run.StepPreflight})
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stdout", Text: "stored line"})

	res, ch, stop := a.apiStream(t, path, token, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" ||
		res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("stream: %d %q, Cache-Control %q, cookie %q", res.StatusCode, res.Header.Get("Content-Type"),
			res.Header.Get("Cache-Control"), res.Header.Get("Set-Cookie"))
	}
	if m := next(t, ch); m.id != "1" || m.event != "step_started" || payload(t, m)["step"] != string(run.StepPreflight) {
		t.Errorf("first message %+v", m)
	}
	if m := next(t, ch); m.id != "2" || m.event != "output" || payload(t, m)["text"] != "stored line" {
		t.Errorf("second message %+v", m)
	}
	a.runner.emit(t, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stderr", Text: "live line"})
	if m := next(t, ch); m.id != "3" || m.event != "output" || payload(t, m)["text"] != "live line" || payload(t, m)["stream"] != "stderr" {
		t.Errorf("live message %+v", m)
	}
	stop()

	res, ch, stop = a.apiStream(t, path, token, "2")
	defer stop()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("resume: %d", res.StatusCode)
	}
	if m := next(t, ch); m.id != "3" || payload(t, m)["text"] != "live line" {
		t.Errorf("resume after 2 gave %+v, want 3", m)
	}
	a.runner.finish(t, rn.ID)
	if m := next(t, ch); m.id != "4" || m.event != "done" || payload(t, m)["status"] != "succeeded" {
		t.Errorf("final message %+v", m)
	}
	select {
	case m, ok := <-ch:
		if ok {
			t.Errorf("stream went on after done with %+v", m)
		}
	case <-time.After(3 * time.Second):
		t.Error("stream still open 3 s after done")
	}

	var p problem
	if res := a.api(t, http.MethodGet, path, "", nil, &p); res.StatusCode != http.StatusUnauthorized ||
		res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("stream without a token: %d %q %+v", res.StatusCode, res.Header.Get("Content-Type"), p)
	}
}
