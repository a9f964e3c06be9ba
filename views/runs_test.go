package views_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/views"
)

// repairSteps and checkSteps are each procedure's steps.
var (
	repairSteps = run.ProcedureRepair.Steps()
	checkSteps  = run.ProcedureCheck.Steps()
)

// evs numbers events from 1 as the store does.
func evs(in ...run.Event) []run.Event {
	for i := range in {
		in[i].RunID, in[i].Seq = 42, int64(i+1)
	}
	return in
}

func started(step run.Step) run.Event {
	return run.Event{Kind: run.EventStepStarted, Step: step}
}

func finished(step run.Step, status string, ms int64, text string) run.Event {
	return run.Event{Kind: run.EventStepFinished, Step: step, Status: status, DurationMS: ms, Text: text}
}

func output(step run.Step, stream, text string) run.Event {
	return run.Event{Kind: run.EventOutput, Step: step, Stream: stream, Text: text}
}

// pending is order as steps nothing has happened to yet.
func pending(order ...run.Step) []views.StepView {
	out := make([]views.StepView, 0, len(order))
	for _, n := range order {
		out = append(out, views.StepView{Name: string(n), State: "pending"})
	}
	return out
}

// TestBuildSteps ensures every step of the procedure is shown in order,
// with the state, duration, detail and output its events give it.
func TestBuildSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		order  []run.Step
		events []run.Event
		want   []views.StepView
	}{
		{
			name:  "no events: every step pending, in order",
			order: checkSteps,
			want:  pending(checkSteps...),
		},
		{
			name:   "started: running",
			order:  checkSteps,
			events: evs(started(run.StepConnect)),
			want: []views.StepView{
				{Name: "connect", State: "running"},
				{Name: "preflight", State: "pending"},
				{Name: "save-history", State: "pending"},
			},
		},
		{
			name:  "finished ok and failed, with duration and detail",
			order: checkSteps,
			events: evs(
				started(run.StepConnect),
				finished(run.StepConnect, "ok", 840, "Connected to PC-001."),
				started(run.StepPreflight),
				finished(run.StepPreflight, "failed", 2350, "Only 512 MB free on C:; the repair needs 2 GB."),
			),
			want: []views.StepView{
				{Name: "connect", State: "ok", Duration: "840 ms", Detail: "Connected to PC-001."},
				{Name: "preflight", State: "failed", Duration: "2.4 s", Detail: "Only 512 MB free on C:; the repair needs 2 GB."},
				{Name: "save-history", State: "pending"},
			},
		},
		{
			name:  "output lines attach to their own step, in order, stderr kept",
			order: checkSteps,
			events: evs(
				started(run.StepConnect),
				finished(run.StepConnect, "ok", 120, "Connected to PC-001."),
				started(run.StepPreflight),
				output(run.StepPreflight, "stdout", "Administrator: yes"),
				output(run.StepPreflight, "stderr", "WinRM fault 5 from the host: Access is denied."),
				output(run.StepPreflight, "stdout", "Free on C: 41 GB"),
				finished(run.StepPreflight, "ok", 61_500, ""),
			),
			want: []views.StepView{
				{Name: "connect", State: "ok", Duration: "120 ms", Detail: "Connected to PC-001."},
				{Name: "preflight", State: "ok", Duration: "1m2s", Lines: []views.OutputLine{
					{Seq: 4, Stream: "stdout", Text: "Administrator: yes"},
					{Seq: 5, Stream: "stderr", Text: "WinRM fault 5 from the host: Access is denied."},
					{Seq: 6, Stream: "stdout", Text: "Free on C: 41 GB"},
				}},
				{Name: "save-history", State: "pending"},
			},
		},
		{
			name:   "output before the step starts leaves it pending",
			order:  checkSteps,
			events: evs(output(run.StepSaveHistory, "stderr", "could not store history: disk full")),
			want: []views.StepView{
				{Name: "connect", State: "pending"},
				{Name: "preflight", State: "pending"},
				{Name: "save-history", State: "pending", Lines: []views.OutputLine{
					{Seq: 1, Stream: "stderr", Text: "could not store history: disk full"},
				}},
			},
		},
		{
			name:  "an unknown step is kept, after the known ones",
			order: checkSteps,
			events: evs(
				started(run.StepConnect),
				started("reboot"),
				output("reboot", "stdout", "Restarting"),
				finished("reboot", "skipped", 0, "Not needed."),
				finished(run.StepConnect, "ok", 10, ""),
			),
			want: []views.StepView{
				{Name: "connect", State: "ok", Duration: "10 ms"},
				{Name: "preflight", State: "pending"},
				{Name: "save-history", State: "pending"},
				{Name: "reboot", State: "skipped", Detail: "Not needed.", Lines: []views.OutputLine{
					{Seq: 3, Stream: "stdout", Text: "Restarting"},
				}},
			},
		},
		{
			name:  "a step finished twice shows the last finish and every line",
			order: checkSteps,
			events: evs(
				started(run.StepPreflight),
				output(run.StepPreflight, "stdout", "first try"),
				finished(run.StepPreflight, "failed", 1000, "Install in progress."),
				started(run.StepPreflight),
				output(run.StepPreflight, "stdout", "second try"),
				finished(run.StepPreflight, "ok", 3000, "Ready."),
			),
			want: []views.StepView{
				{Name: "connect", State: "pending"},
				{Name: "preflight", State: "ok", Duration: "3.0 s", Detail: "Ready.", Lines: []views.OutputLine{
					{Seq: 2, Stream: "stdout", Text: "first try"},
					{Seq: 5, Stream: "stdout", Text: "second try"},
				}},
				{Name: "save-history", State: "pending"},
			},
		},
		{
			name:  "a step finished twice without a new start: the later finish wins",
			order: checkSteps,
			events: evs(
				started(run.StepConnect),
				finished(run.StepConnect, "failed", 900, "Could not reach the host."),
				finished(run.StepConnect, "cancelled", 0, "Cancelled by alice."),
			),
			want: []views.StepView{
				{Name: "connect", State: "cancelled", Detail: "Cancelled by alice."},
				{Name: "preflight", State: "pending"},
				{Name: "save-history", State: "pending"},
			},
		},
		{
			name:   "run_finished adds no step",
			order:  checkSteps,
			events: evs(run.Event{Kind: run.EventRunFinished, Status: "succeeded", Detail: "checked"}),
			want:   pending(checkSteps...),
		},
		{
			name:  "cancelled step",
			order: repairSteps,
			events: evs(
				started(run.StepConnect), finished(run.StepConnect, "ok", 5, ""),
				started(run.StepPreflight), finished(run.StepPreflight, "cancelled", 7, "Cancelled by alice."),
			),
			want: append([]views.StepView{
				{Name: "connect", State: "ok", Duration: "5 ms"},
				{Name: "preflight", State: "cancelled", Duration: "7 ms", Detail: "Cancelled by alice."},
			}, pending(repairSteps[2:]...)...),
		},
		{
			name:   "no order: steps in the order events name them",
			events: evs(started("b"), started("a")),
			want:   []views.StepView{{Name: "b", State: "running"}, {Name: "a", State: "running"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := views.BuildSteps(tt.order, tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BuildSteps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFormatDuration ensures durations read at a precision that fits
// their size, and that no duration reads as blank unless there is none.
func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, ""},
		{"negative", -time.Second, ""},
		{"one millisecond", time.Millisecond, "1 ms"},
		{"just under a second", 999 * time.Millisecond, "999 ms"},
		{"one second", time.Second, "1.0 s"},
		{"tenths", 1260 * time.Millisecond, "1.3 s"},
		{"under a minute", 59*time.Second + 400*time.Millisecond, "59.4 s"},
		{"one minute", time.Minute, "1m0s"},
		{"minutes rounded to the second", 90*time.Second + 600*time.Millisecond, "1m31s"},
		{"hours", time.Hour + 2*time.Minute + 3*time.Second, "1h2m3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := views.FormatDuration(tt.d); got != tt.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// TestStepLabel ensures every procedure step has a human name and an
// unknown step shows its own name rather than nothing.
func TestStepLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step string
		want string
	}{
		{"connect", "connect", "Connect"},
		{"preflight", "preflight", "Preflight checks"},
		{"save-history", "save-history", "Save update history"},
		{"stop-services", "stop-services", "Stop update services"},
		{"rename", "rename", "Rename SoftwareDistribution"},
		{"start-services", "start-services", "Start update services"},
		{"detect", "detect", "Detect updates"},
		{"verify", "verify", "Verify"},
		{"cleanup", "cleanup", "Clean up old backups"},
		{"unknown step", "reboot", "reboot"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := views.StepLabel(tt.step); got != tt.want {
				t.Errorf("StepLabel(%q) = %q, want %q", tt.step, got, tt.want)
			}
		})
	}
	for _, s := range repairSteps {
		if views.StepLabel(string(s)) == string(s) {
			t.Errorf("step %q of the repair has no label", s)
		}
	}
}

// TestStateClass ensures run and step states get the colour of what they
// mean: good green, bad red, in progress blue, the rest amber.
func TestStateClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state string
		want  string
	}{
		{"step ok", "ok", "tag ok"},
		{"run succeeded", string(run.StateSucceeded), "tag ok"},
		{"failed", string(run.StateFailed), "tag bad"},
		{"refused", "refused", "tag bad"},
		{"interrupted", string(run.StateInterrupted), "tag bad"},
		{"running", string(run.StateRunning), "tag info"},
		{"queued", string(run.StateQueued), "tag info"},
		{"cancelled", string(run.StateCancelled), "tag warn"},
		{"pending", "pending", "tag warn"},
		{"skipped", "skipped", "tag warn"},
		{"unknown", "", "tag warn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := views.StateClass(tt.state); got != tt.want {
				t.Errorf("stateClass(%q) = %q, want %q", tt.state, got, tt.want)
			}
		})
	}
}

// TestRunsQuery ensures the runs list's URL carries every filter set,
// escaped, leaves defaults out, and that WithPage keeps the filters.
func TestRunsQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.RunsQuery
		want string
	}{
		{"zero", views.RunsQuery{}, "/runs"},
		{"page 1 is the default", views.RunsQuery{Page: 1}, "/runs"},
		{"page 3", views.RunsQuery{Page: 3}, "/runs?page=3"},
		{"host escaped", views.RunsQuery{Host: "PC 01&x=1#top"}, "/runs?host=PC+01%26x%3D1%23top"},
		{"every filter", views.RunsQuery{Host: "PC-001", State: "failed", Who: `CORP\alice`, From: "2026-11-01", To: "2026-11-24", Page: 2},
			"/runs?from=2026-11-01&host=PC-001&page=2&state=failed&to=2026-11-24&who=CORP%5Calice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.q.Href()); got != tt.want {
				t.Errorf("Href() = %q, want %q", got, tt.want)
			}
			// Parsed back, the URL names the same filters.
			u, err := url.Parse(string(tt.q.Href()))
			if err != nil {
				t.Fatal(err)
			}
			v := u.Query()
			back := views.RunsQuery{Host: v.Get("host"), State: v.Get("state"), Who: v.Get("who"), From: v.Get("from"), To: v.Get("to")}
			want := tt.q
			want.Page = 0
			if diff := cmp.Diff(want, back); diff != "" {
				t.Errorf("filters parsed back (-want +got):\n%s", diff)
			}
		})
	}

	q := views.RunsQuery{Host: "PC-001", State: "failed", Page: 4}
	if got, want := q.WithPage(5), (views.RunsQuery{Host: "PC-001", State: "failed", Page: 5}); got != want {
		t.Errorf("WithPage(5) = %+v, want %+v", got, want)
	}
	if q.Page != 4 {
		t.Errorf("WithPage changed its receiver: page %d", q.Page)
	}
}

// TestRunHref ensures run and batch pages are addressed by their id.
func TestRunHref(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"run", string(views.RunHref(42)), "/runs/42"},
		{"big run id", string(views.RunHref(9_007_199_254_740_993)), "/runs/9007199254740993"},
		{"batch", string(views.BatchHref(7)), "/batches/7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// repairRun is a repair of PC-001 that failed at stop-services: what a
// run page shows most often when someone opens it.
func repairRun() (store.Run, []run.Event) {
	rn := store.Run{ID: 42, HostID: 1, HostName: "PC-001", Procedure: run.ProcedureRepair, RequestedBy: "alice",
		State: run.StateFailed, Outcome: run.OutcomeError, Summary: "Stopping wuauserv timed out; the services were started again.",
		Error: "stop-services: timeout after 60s", CreatedAt: at, StartedAt: at.Add(time.Second), FinishedAt: at.Add(95 * time.Second)}
	return rn, evs(
		started(run.StepConnect),
		finished(run.StepConnect, "ok", 840, "Connected to PC-001."),
		started(run.StepPreflight),
		output(run.StepPreflight, "stdout", "Administrator: yes"),
		output(run.StepPreflight, "stdout", "Free on C: 41 GB"),
		finished(run.StepPreflight, "ok", 2100, "Ready to repair."),
		started(run.StepSaveHistory),
		finished(run.StepSaveHistory, "ok", 3300, "Saved 212 entries."),
		started(run.StepStopServices),
		output(run.StepStopServices, "stdout", "Stopping wuauserv"),
		output(run.StepStopServices, "stderr", "wuauserv did not stop within 60 s"),
		finished(run.StepStopServices, "failed", 60_000, "Stopping wuauserv timed out."),
	)
}

// TestRunPage ensures the run page shows the run's state and outcome, each
// step by name with its state, and each step's own output with stderr
// marked, and offers cancel only while the run is active and allowed.
func TestRunPage(t *testing.T) {
	t.Parallel()
	rn, events := repairRun()
	steps := views.BuildSteps(repairSteps, events)

	doc := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: steps, LastSeq: 12, Admin: true}))
	root := one(t, doc, "run")
	if got := root.AttrOr("data-run-id", ""); got != "42" {
		t.Errorf("data-run-id = %q, want 42", got)
	}
	if got := root.AttrOr("data-last-seq", ""); got != "12" {
		t.Errorf("data-last-seq = %q, want 12", got)
	}
	if _, ok := root.Attr("data-active"); ok {
		t.Error("a finished run is marked data-active")
	}
	if got := root.AttrOr("data-events-url", ""); got != "/runs/42/events" {
		t.Errorf("data-events-url = %q", got)
	}
	state := one(t, doc, "run-state")
	if got := text(state); got != "failed" {
		t.Errorf("run-state = %q, want failed", got)
	}
	if !state.HasClass("bad") {
		t.Errorf("run-state class %q, want tag bad", state.AttrOr("class", ""))
	}
	if got := text(one(t, doc, "run-summary")); got != rn.Summary {
		t.Errorf("run-summary = %q, want %q", got, rn.Summary)
	}
	if got := text(one(t, doc, "run-error")); got != rn.Error {
		t.Errorf("run-error = %q, want %q", got, rn.Error)
	}
	none(t, doc, "cancel")

	stepEls := byID(doc, "step")
	var wantNames []string
	for _, s := range repairSteps {
		wantNames = append(wantNames, string(s))
	}
	if diff := cmp.Diff(wantNames, attrs(stepEls, "data-step")); diff != "" {
		t.Errorf("steps in order (-want +got):\n%s", diff)
	}
	wantStates := []string{"ok", "ok", "ok", "failed", "not run", "not run", "not run", "not run", "not run"}
	if diff := cmp.Diff(wantStates, attrs(stepEls, "data-state")); diff != "" {
		t.Errorf("data-state (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantStates, texts(byID(stepEls, "step-state"))); diff != "" {
		t.Errorf("step-state text (-want +got):\n%s", diff)
	}

	tests := []struct {
		name       string
		step       string
		wantLabel  string
		wantClass  string
		wantDetail string
		wantLines  []string
		wantStderr []string
	}{
		{name: "connect", step: "connect", wantLabel: "Connect", wantClass: "ok", wantDetail: "Connected to PC-001."},
		{name: "preflight with output", step: "preflight", wantLabel: "Preflight checks", wantClass: "ok",
			wantDetail: "Ready to repair.", wantLines: []string{"Administrator: yes", "Free on C: 41 GB"}},
		{name: "failed step with stderr", step: "stop-services", wantLabel: "Stop update services", wantClass: "bad",
			wantDetail: "Stopping wuauserv timed out.",
			wantLines:  []string{"Stopping wuauserv", "wuauserv did not stop within 60 s"},
			wantStderr: []string{"wuauserv did not stop within 60 s"}},
		{name: "pending step", step: "rename", wantLabel: "Rename SoftwareDistribution", wantClass: "warn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stepEls.Filter(`[data-step="` + tt.step + `"]`)
			if s.Length() != 1 {
				t.Fatalf("step %q: %d elements, want 1", tt.step, s.Length())
			}
			if got := text(s.Find(".step-name")); got != tt.wantLabel {
				t.Errorf("label = %q, want %q", got, tt.wantLabel)
			}
			if st := byID(s, "step-state"); !st.HasClass(tt.wantClass) {
				t.Errorf("step-state class %q, want %q", st.AttrOr("class", ""), tt.wantClass)
			}
			if got := text(s.Find(".step-detail")); got != tt.wantDetail {
				t.Errorf("detail = %q, want %q", got, tt.wantDetail)
			}
			if diff := cmp.Diff(tt.wantLines, texts(s.Find("pre.output .line"))); diff != "" {
				t.Errorf("output lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStderr, texts(s.Find("pre.output .line.stderr"))); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunPage_Active ensures an active run is marked live and offers cancel
// exactly when the viewer may cancel, and a finished one never does.
func TestRunPage_Active(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		state      run.State
		canCancel  bool
		wantActive bool
		wantCancel bool
	}{
		{"running, operator", run.StateRunning, true, true, true},
		{"queued, operator", run.StateQueued, true, true, true},
		{"running, viewer", run.StateRunning, false, true, false},
		{"succeeded, operator", run.StateSucceeded, true, false, false},
		{"cancelled, operator", run.StateCancelled, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rn := store.Run{ID: 7, HostName: "PC-001", Procedure: run.ProcedureCheck, RequestedBy: "bob", State: tt.state, CreatedAt: at}
			doc := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: views.BuildSteps(checkSteps, nil), CanCancel: tt.canCancel}))
			if _, ok := one(t, doc, "run").Attr("data-active"); ok != tt.wantActive {
				t.Errorf("data-active present = %v, want %v", ok, tt.wantActive)
			}
			if got := byID(doc, "cancel").Length() == 1; got != tt.wantCancel {
				t.Errorf("cancel shown = %v, want %v", got, tt.wantCancel)
			}
			if tt.wantCancel {
				if got := doc.Find("#cancel-form").AttrOr("action", ""); got != "/runs/7/cancel" {
					t.Errorf("cancel posts to %q", got)
				}
			}
			if got := text(doc.Find("h1")); got != "Check of PC-001" {
				t.Errorf("title = %q", got)
			}
			if got := len(attrs(byID(doc, "step"), "data-step")); got != len(checkSteps) {
				t.Errorf("%d steps, want %d", got, len(checkSteps))
			}
		})
	}
}

// TestRunPage_Escaping ensures what a host printed, and its name, reach the
// run page as text: a script or tag in output is never markup.
func TestRunPage_Escaping(t *testing.T) {
	t.Parallel()
	for _, bad := range hostile {
		t.Run(bad, func(t *testing.T) {
			rn := store.Run{ID: 9, HostName: "PC-" + bad, Procedure: run.ProcedureRepair, State: run.StateFailed,
				Summary: bad, Error: bad, RequestedBy: bad, CreatedAt: at}
			steps := views.BuildSteps(checkSteps, evs(
				started(run.StepConnect),
				output(run.StepConnect, "stderr", bad),
				finished(run.StepConnect, "failed", 10, bad),
			))
			doc := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: steps, Admin: true}))
			noInjectedMarkup(t, doc)
			if got := text(one(t, doc, "run-summary")); got != bad {
				t.Errorf("summary = %q, want %q", got, bad)
			}
			if got := text(one(t, doc, "run-error")); got != bad {
				t.Errorf("error = %q, want %q", got, bad)
			}
			line := doc.Find(`[data-step="connect"] pre.output .line.stderr`)
			if got := text(line); got != bad {
				t.Errorf("output line = %q, want %q", got, bad)
			}
			if got := doc.Find("main p a").First().AttrOr("href", ""); got != "/hosts/"+url.PathEscape(rn.HostName) {
				t.Errorf("host link = %q", got)
			}
		})
	}
}

// TestRunsPage ensures the runs list shows one row per run linking to the
// run and its host, an empty state when none match, and pager links that
// keep the filters.
func TestRunsPage(t *testing.T) {
	t.Parallel()
	runs := []store.Run{
		{ID: 12, HostName: "PC 002 & co", Procedure: run.ProcedureRepair, RequestedBy: "alice", State: run.StateRunning, CreatedAt: at},
		{ID: 11, HostName: "PC-001", Procedure: run.ProcedureCheck, RequestedBy: "bob", State: run.StateSucceeded, Summary: "checked", CreatedAt: at.Add(-time.Hour)},
	}
	filter := views.RunsQuery{Host: "PC", State: "failed", Page: 2}
	tests := []struct {
		name      string
		props     views.RunsProps
		wantRuns  []string
		wantEmpty bool
		wantPrev  string
		wantNext  string
	}{
		{name: "rows", props: views.RunsProps{Runs: runs, Total: 2, Page: 1, Pages: 1}, wantRuns: []string{"12", "11"}},
		{name: "empty", props: views.RunsProps{Filter: views.RunsQuery{Host: "nothing"}, Page: 1, Pages: 1}, wantEmpty: true},
		{name: "middle page keeps filters", props: views.RunsProps{Runs: runs, Total: 120, Filter: filter, Page: 2, Pages: 3},
			wantRuns: []string{"12", "11"},
			wantPrev: "/runs?host=PC&state=failed", wantNext: "/runs?host=PC&page=3&state=failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.RunsPage(tt.props))
			one(t, doc, "runs-filters")
			if got := byID(doc, "runs-empty").Length() == 1; got != tt.wantEmpty {
				t.Errorf("empty state shown = %v, want %v", got, tt.wantEmpty)
			}
			rows := byID(doc, "run-row")
			if diff := cmp.Diff(tt.wantRuns, attrs(rows, "data-run")); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			rows.Each(func(i int, r *goquery.Selection) {
				if got, want := r.Find("th a").AttrOr("href", ""), string(views.RunHref(runs[i].ID)); got != want {
					t.Errorf("row %d run link %q, want %q", i, got, want)
				}
				if got, want := r.Find("td.host a").AttrOr("href", ""), "/hosts/"+url.PathEscape(runs[i].HostName); got != want {
					t.Errorf("row %d host link %q, want %q", i, got, want)
				}
			})
			if got := doc.Find(`nav.pager a[rel="prev"]`).AttrOr("href", ""); got != tt.wantPrev {
				t.Errorf("prev = %q, want %q", got, tt.wantPrev)
			}
			if got := doc.Find(`nav.pager a[rel="next"]`).AttrOr("href", ""); got != tt.wantNext {
				t.Errorf("next = %q, want %q", got, tt.wantNext)
			}
			if tt.props.Filter.State != "" {
				sel := doc.Find(`select[name="state"] option[selected]`)
				if got := sel.AttrOr("value", ""); got != tt.props.Filter.State {
					t.Errorf("selected state %q, want %q", got, tt.props.Filter.State)
				}
			}
			if len(tt.wantRuns) > 0 {
				if got := text(rows.First().Find("td").Eq(2)); got != string(runs[0].State) {
					t.Errorf("first row's state %q, want %q", got, runs[0].State)
				}
			}
		})
	}
}

// TestRunBanner ensures a finished run opens with a banner that says in
// helpdesk words which kind of ending it was, telling a host left alone
// from one the repair changed, and that a run still going has none.
func TestRunBanner(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	reached := evs(started(run.StepConnect), finished(run.StepConnect, "ok", 10, ""),
		started(run.StepStopServices), finished(run.StepStopServices, "ok", 10, ""))
	untouched := evs(started(run.StepConnect), finished(run.StepConnect, "failed", 10, "unreachable"))
	tests := []struct {
		name      string
		state     run.State
		outcome   run.Outcome
		events    []run.Event
		wantKind  string
		wantTitle string
	}{
		{"repaired", run.StateSucceeded, run.OutcomeRepaired, reached, "ok", "Repaired (verified)"},
		{"did not help", run.StateFailed, run.OutcomeStillFailing, reached, "bad", "Ran, and did not help"},
		{"refused", run.StateFailed, run.OutcomeRefused, untouched, "warn", "Refused safely"},
		{"unreachable, nothing changed", run.StateFailed, run.OutcomeUnreachable, untouched, "warn", "Could not reach or sign in to the host"},
		{"lost mid-repair", run.StateFailed, run.OutcomeUnreachable, reached, "bad", "The host stopped answering during the repair"},
		{"cancelled after the stop", run.StateCancelled, run.OutcomeCancelled, reached, "warn", "Cancelled"},
		{"interrupted", run.StateInterrupted, run.OutcomeInterrupted, reached, "bad", "Interrupted"},
		{"no proof yet", run.StateSucceeded, run.OutcomeDownloaded, reached, "warn", "Ran; no proof yet"},
		{"error before any change", run.StateFailed, run.OutcomeError, untouched, "bad", "Could not run"},
		{"error after a change", run.StateFailed, run.OutcomeError, reached, "bad", "Stopped on an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rn := store.Run{ID: 9, HostName: "PC-001", Procedure: run.ProcedureRepair, State: tt.state, Outcome: tt.outcome, CreatedAt: at}
			doc := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: views.BuildSteps(repairSteps, tt.events)}))
			b := one(t, doc, "run-banner")
			if got := b.AttrOr("data-kind", ""); got != tt.wantKind {
				t.Errorf("banner kind %q, want %q", got, tt.wantKind)
			}
			if got := text(one(t, doc, "run-banner-title")); got != tt.wantTitle {
				t.Errorf("banner title %q, want %q", got, tt.wantTitle)
			}
			if b.AttrOr("role", "") != "status" {
				t.Error("the banner is not announced (role=status)")
			}
		})
	}
	rn := store.Run{ID: 9, HostName: "PC-001", Procedure: run.ProcedureRepair, State: run.StateRunning, CreatedAt: at}
	doc := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: views.BuildSteps(repairSteps, reached)}))
	none(t, doc, "run-banner")
	for _, st := range byID(doc, "step-state").EachIter() {
		if got := text(st); got == "not run" {
			t.Fatal("a step of a run still going says it did not run")
		}
	}
}

// TestRunPage_AdminDetails ensures a connection failure's advice, written
// for whoever runs wsusfix, is behind "Technical details" for admins, and
// that other roles read what to do instead, with no client error shown.
func TestRunPage_AdminDetails(t *testing.T) {
	t.Parallel()
	rn := store.Run{ID: 5, HostName: "PC-1", Procedure: run.ProcedureRepair, State: run.StateFailed, Outcome: run.OutcomeAuth,
		Summary: "The host refused Basic authentication: use -winrm-auth ntlm.", Error: "winrm: http 401", RequestedBy: "x", CreatedAt: at}
	steps := views.BuildSteps(repairSteps, nil)
	helpdesk := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: steps}))
	if got := text(one(t, helpdesk, "run-summary")); strings.Contains(got, "-winrm-auth") || !strings.Contains(got, "needs an administrator") {
		t.Errorf("helpdesk summary %q", got)
	}
	none(t, helpdesk, "run-error")
	none(t, helpdesk, "admin-details")

	admin := render(t, t.Context(), views.RunPage(views.RunProps{Run: rn, Steps: steps, Admin: true}))
	details := one(t, admin, "admin-details")
	if got := text(details); !strings.Contains(got, "-winrm-auth ntlm") || !strings.Contains(got, "winrm: http 401") {
		t.Errorf("admin details %q", got)
	}
	if got := text(one(t, admin, "run-summary")); got != rn.Summary {
		t.Errorf("admin summary %q", got)
	}
}
