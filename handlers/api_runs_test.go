package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

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
