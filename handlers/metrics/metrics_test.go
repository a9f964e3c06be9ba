package metrics_test

import (
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"wsusfix/handlers/metrics"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// TestRegistry ensures a nil registry records nothing without failing,
// and a real one counts a run that could not sign in as a WinRM error of
// its kind, a finished step by step and status, and a request by route.
func TestRegistry(t *testing.T) {
	t.Parallel()
	var none *metrics.Registry
	none.RunFinished(run.ProcedureRepair, run.OutcomeAuth)
	none.Request("/", "GET", 200, 0, false)
	none.Watching()()

	path := filepath.Join(t.TempDir(), "m.db")
	st := storetest.Open(t, path)
	m := metrics.New(st, path)
	m.RunFinished(run.ProcedureRepair, run.OutcomeAuth)
	m.RunFinished(run.ProcedureRepair, run.OutcomeRepaired)
	m.Step(run.Event{Kind: run.EventStepFinished, Step: run.StepRename, Status: "ok", DurationMS: 1500})
	m.Step(run.Event{Kind: run.EventOutput, Step: run.StepRename, Text: "not a step's end"})
	m.Request("", "GET", 404, 0, false)
	stop := m.Watching()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`wsusfix_winrm_errors_total{kind="auth"} 1`,
		`wsusfix_runs_finished_total{outcome="repaired",procedure="repair"} 1`,
		`wsusfix_step_duration_seconds_sum{status="ok",step="rename"} 1.5`,
		`wsusfix_step_duration_seconds_count{status="ok",step="rename"} 1`,
		`wsusfix_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`wsusfix_sse_watchers 1`,
		`wsusfix_runs_active{state="queued"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "wsusfix_winrm_errors_total{kind=\"repaired\"}") {
		t.Error("a repaired run counted as a WinRM error")
	}
	stop()
}
