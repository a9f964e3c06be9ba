package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// TestBulkRepair ensures the bulk flow works as a person uses it: the
// confirmation page states how many hosts the filter selects; posting its
// form queues one run per host in one batch (skipping a host already being
// repaired) and answers 303 to the batch page, which counts them; hosts
// can also be chosen one by one; and an unfiltered "repair everything" is
// refused.
func TestBulkRepair(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	ctx := context.Background()
	var hosts []store.HostInput
	var ev []store.EventInput
	for i := range 30 {
		name := fmt.Sprintf("PC-%02d", i)
		hosts = append(hosts, store.HostInput{Name: name, FQDN: strings.ToLower(name) + ".corp.test"})
		code, result := uint32(0x80244022), run.ResultFailed
		if i < 12 {
			code = 0x80070002
		}
		ev = append(ev, store.EventInput{HostName: name, At: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), UpdateID: "u",
			KB: "KB5066835", Operation: "Installation", Result: result, HResult: code, Source: store.SourceImport})
	}
	if _, err := a.st.UpsertHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.AddUpdateEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}
	busy, err := a.st.HostByName(ctx, "PC-03")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.CreateRun(ctx, store.RunInput{HostID: busy.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"}); err != nil {
		t.Fatal(err)
	}

	res, err := a.client.Get(a.srv.URL + "/repairs/new?code=0x80070002")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if got := doc.Find(`[data-testid="bulk-title"]`).Text(); got != "Repair 12 hosts?" {
		t.Fatalf("confirmation says %q", got)
	}
	form := url.Values{}
	doc.Find(`[data-testid="bulk-form"] input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		form.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	form.Set("procedure", "repair")

	noFollow := *a.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(v url.Values) *http.Response {
		t.Helper()
		res, err := noFollow.PostForm(a.srv.URL+"/repairs", v)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res = post(form)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/batches/") {
		t.Fatalf("bulk POST: %d to %q", res.StatusCode, loc)
	}
	if n := len(a.runner.got); n != 11 {
		t.Fatalf("%d runs queued, want 11 (12 hosts, one already being repaired)", n)
	}
	for _, j := range a.runner.got {
		if j.Procedure != run.ProcedureRepair || !strings.HasSuffix(j.Target.Name, ".corp.test") || j.Target.Name == "pc-03.corp.test" {
			t.Fatalf("job %+v", j)
		}
	}
	res, err = a.client.Get(a.srv.URL + loc)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if got := doc.Find(`[data-testid="count-queued"]`).Text(); got != "11" {
		t.Fatalf("batch page counts %q queued, want 11", got)
	}

	// Two runs of the batch fail; re-running the failed ones queues exactly
	// those two hosts in a new batch.
	var failedHosts []string
	for _, j := range a.runner.got[:2] {
		if _, err := a.st.FinishRun(ctx, j.RunID, store.RunResult{State: run.StateFailed, Outcome: run.OutcomeUnreachable}); err != nil {
			t.Fatal(err)
		}
		failedHosts = append(failedHosts, j.Target.Name)
	}
	res, err = noFollow.PostForm(a.srv.URL+loc+"/rerun", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == loc {
		t.Fatalf("re-run: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var again []string
	for _, j := range a.runner.got[11:] {
		again = append(again, j.Target.Name)
	}
	slices.Sort(again)
	if !slices.Equal(again, failedHosts) {
		t.Fatalf("re-run queued %v; want the failed hosts %v again", again, failedHosts)
	}
	a.runner.got = a.runner.got[:11]

	if res := post(url.Values{"host": {"PC-20", "PC-21"}, "procedure": {"check"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("explicit hosts: %d", res.StatusCode)
	}
	if n := len(a.runner.got); n != 13 || a.runner.got[12].Procedure != run.ProcedureCheck {
		t.Fatalf("after choosing two hosts: %d jobs, last %+v", n, a.runner.got[n-1])
	}
	if res := post(url.Values{"procedure": {"repair"}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unfiltered bulk: %d, want 400", res.StatusCode)
	}
}

// TestHandleBatchList ensures bulk repairs can be found again: the list
// shows each batch newest first with its progress and outcomes, and a run
// of a batch links to it.
func TestHandleBatchList(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner())
	hosts, fails := fleet(8)
	a.seed(t, hosts, fails)
	ctx := t.Context()
	var runIDs []int64
	for i, name := range []string{"PC-000", "PC-001"} {
		b, err := a.st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "operator", Description: fmt.Sprintf("batch %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		h, err := a.st.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, BatchID: b.ID, Procedure: run.ProcedureRepair, RequestedBy: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, rn.ID)
	}
	a.runner.finish(t, runIDs[0])
	res, doc := a.get(t, "/batches")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := texts(doc, `[data-testid="batch-link"]`); len(got) != 2 || !strings.HasSuffix(got[0], "batch 1") || !strings.HasSuffix(got[1], "batch 0") {
		t.Fatalf("batches %q, want newest first", got)
	}
	if got := texts(doc, `[data-testid="batch-progress"]`); got[0] != "0 of 1 ended" || got[1] != "1 of 1 ended" {
		t.Errorf("progress %q", got)
	}
	if got := texts(doc, `[data-testid="batch-outcomes"]`); got[1] != "Repaired 1" {
		t.Errorf("outcomes %q", got)
	}
	_, doc = a.get(t, "/runs/"+strconv.FormatInt(runIDs[0], 10))
	if doc.Find(`[data-testid="run-batch"]`).AttrOr("href", "") == "" {
		t.Error("the run does not link to its batch")
	}
}

// TestBatchPage_StepsProgressCancelAll ensures the batch page says where
// each running host is, how many runs have ended with an estimate of the
// rest, and that cancel-all cancels every run still going (and only
// those), offered to operators and not to viewers.
func TestBatchPage_StepsProgressCancelAll(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner())
	hosts, fails := fleet(6)
	a.seed(t, hosts, fails)
	res := a.post(t, noRedirect(a.client), "/repairs", url.Values{"host": {"PC-000", "PC-001", "PC-002"}}, http.StatusSeeOther)
	batchURL := res.Header.Get("Location")
	jobs := a.runner.got
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs))
	}
	a.runner.emit(t, run.Event{RunID: jobs[0].RunID, Kind: run.EventStepStarted, Step: run.StepStopServices})
	a.runner.finish(t, jobs[2].RunID)

	_, doc := a.get(t, batchURL)
	if got := texts(doc, `[data-testid="run-step"]`); len(got) != 1 || got[0] != "Stop update services" {
		t.Errorf("current steps %q, want the one run that started a step", got)
	}
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="batch-progress"]`).Text()), " "); !strings.HasPrefix(got, "1 of 3 ended; about ") {
		t.Errorf("progress %q", got)
	}
	if got := doc.Find(`[data-testid="cancel-all"]`).Text(); got != "Cancel the 2 runs still going" {
		t.Errorf("cancel-all button %q", got)
	}
	a.post(t, noRedirect(a.client), batchURL+"/cancel", url.Values{}, http.StatusSeeOther)
	if got := a.runner.cancelled; len(got) != 2 || !slices.Contains(got, jobs[0].RunID) || !slices.Contains(got, jobs[1].RunID) {
		t.Errorf("cancelled %v, want runs %d and %d", got, jobs[0].RunID, jobs[1].RunID)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionRepairCancel})
	if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Target, "batch ") {
		t.Errorf("audit %+v, %v", entries, err)
	}

	v := newApp(t, signedInAs("vera", store.RoleViewer), withRunner())
	v.seed(t, hosts, fails)
	b, err := v.st.CreateBatch(t.Context(), store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "x", Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v.st.HostByName(t.Context(), "PC-000")
	if _, err := v.st.CreateRun(t.Context(), store.RunInput{HostID: h.ID, BatchID: b.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, doc := v.get(t, "/batches/"+strconv.FormatInt(b.ID, 10)); doc.Find(`[data-testid="cancel-all"]`).Length() != 0 {
		t.Error("cancel-all offered to a viewer")
	}
}

// TestBatchEvents ensures the batch stream says "changed" when a run of
// the batch starts a step (not for its output), and "done" once every run
// has ended; a finished batch's stream says "done" at once.
func TestBatchEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	hosts, fails := fleet(4)
	a.seed(t, hosts, fails)
	res := a.post(t, noRedirect(a.client), "/repairs", url.Values{"host": {"PC-000", "PC-001"}}, http.StatusSeeOther)
	batchURL := res.Header.Get("Location")
	jobs := a.runner.got
	ch, stop := a.streamPath(t, batchURL+"/events", "")
	defer stop()
	// A keep-alive comment comes from the stream's loop, after it has
	// subscribed: the events below cannot fall before it.
	for m := range ch {
		if m.comment != "" {
			break
		}
	}
	a.runner.emit(t, run.Event{RunID: jobs[0].RunID, Kind: run.EventStepStarted, Step: run.StepConnect})
	if m := next(t, ch); m.event != "changed" {
		t.Fatalf("first event %q, want changed", m.event)
	}
	a.runner.finish(t, jobs[0].RunID)
	a.runner.finish(t, jobs[1].RunID)
	for {
		m := next(t, ch)
		if m.event == "done" {
			break
		}
		if m.event != "changed" {
			t.Fatalf("event %q", m.event)
		}
	}
	ch2, stop2 := a.streamPath(t, batchURL+"/events", "")
	defer stop2()
	if m := next(t, ch2); m.event != "done" {
		t.Errorf("a finished batch's stream began with %q", m.event)
	}
}
