package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// noRedirect is c without following redirects, so tests see the 303s.
func noRedirect(c *http.Client) *http.Client {
	n := *c
	n.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &n
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	return page(t)(c.PostForm(u, v))
}

// TestHandleHostRepair ensures a repair answers 303 to its run and hands
// the executor a job for the host, reached by its FQDN and inventory
// address; a second repair of the same host answers 409 naming the run
// already active; and GET on the run's event stream starts nothing.
func TestHandleHostRepair(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	ctx := context.Background()
	if _, err := a.st.UpsertHosts(ctx, []store.HostInput{{Name: "PC-1", FQDN: "pc-1.corp.test", Address: "192.0.2.7:5986"}}); err != nil {
		t.Fatal(err)
	}
	c := noRedirect(a.client)

	res, _ := postForm(t, c, a.srv.URL+"/hosts/PC-1/repair", url.Values{"procedure": {"check"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/runs/") {
		t.Fatalf("repair: %d to %q", res.StatusCode, loc)
	}
	if len(a.runner.got) != 1 {
		t.Fatalf("%d jobs submitted, want 1", len(a.runner.got))
	}
	j := a.runner.got[0]
	if j.Procedure != run.ProcedureCheck || j.Target.Name != "pc-1.corp.test" || j.Target.Address != "192.0.2.7:5986" {
		t.Fatalf("job %+v", j)
	}

	res, doc := postForm(t, c, a.srv.URL+"/hosts/PC-1/repair", url.Values{})
	if res.StatusCode != http.StatusConflict || doc.Find(`[data-testid="error-link"]`).AttrOr("href", "") != loc {
		t.Fatalf("second repair: %d, link %q; want 409 linking %s", res.StatusCode, doc.Find(`[data-testid="error-link"]`).AttrOr("href", ""), loc)
	}
	res, _ = postForm(t, c, a.srv.URL+"/hosts/PC-1/repair", url.Values{"procedure": {"format-c"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown procedure: %d, want 400", res.StatusCode)
	}

	ch, stop := a.stream(t, j.RunID, "")
	stop()
	for range ch {
	}
	if len(a.runner.got) != 1 {
		t.Fatalf("GET on the event stream submitted work: %d jobs", len(a.runner.got))
	}
}

// TestHandleRunCancel ensures Cancel reaches the executor for a run it
// knows, and that a run active in the database but unknown to it (left
// by a crash) is closed as interrupted rather than shown as running.
func TestHandleRunCancel(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
	ctx := context.Background()
	if _, err := a.st.UpsertHosts(ctx, []store.HostInput{{Name: "PC-1"}, {Name: "PC-2"}}); err != nil {
		t.Fatal(err)
	}
	c := noRedirect(a.client)
	res, _ := postForm(t, c, a.srv.URL+"/hosts/PC-1/repair", url.Values{})
	known := a.runner.got[0].RunID
	if res, _ = postForm(t, c, a.srv.URL+"/runs/"+itoa64(known)+"/cancel", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	if len(a.runner.cancelled) != 1 || a.runner.cancelled[0] != known {
		t.Fatalf("executor cancels %v, want [%d]", a.runner.cancelled, known)
	}

	orphan := a.newRun(t, "PC-2") // running in the database only
	if res, _ = postForm(t, c, a.srv.URL+"/runs/"+itoa64(orphan.ID)+"/cancel", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel orphan: %d", res.StatusCode)
	}
	got, err := a.st.Run(ctx, orphan.ID)
	if err != nil || got.State != run.StateInterrupted {
		t.Fatalf("orphan run after cancel: %+v (%v), want interrupted", got, err)
	}
	if res, _ = postForm(t, c, a.srv.URL+"/runs/999/cancel", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("cancel of no run: %d, want 404", res.StatusCode)
	}
}

// TestHandleHostRepair_NoRunner ensures that without WinRM wired in, a
// repair is refused with 503 and a reason, and nothing is recorded.
func TestHandleHostRepair_NoRunner(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "norun.db"))
	srv := httptest.NewServer(handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st}))
	t.Cleanup(srv.Close)
	c := noRedirect(signIn(t, srv.URL, st, "op", store.RoleOperator))
	if _, err := st.UpsertHosts(t.Context(), []store.HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	res, doc := postForm(t, c, srv.URL+"/hosts/PC-1/repair", url.Values{})
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(doc.Find(`[data-testid="error-message"]`).Text(), "WinRM") {
		t.Fatalf("no runner: %d %q", res.StatusCode, doc.Find(`[data-testid="error-message"]`).Text())
	}
	if runs, total, _ := st.Runs(t.Context(), store.RunFilter{}); total != 0 {
		t.Fatalf("a refused repair left runs: %+v", runs)
	}
}

// TestHandleRunShow_Next ensures a finished run's page offers, one click
// away, to repair again, to check, and the next host failing with the same
// code, to operators; viewers and runs still going get none of it.
func TestHandleRunShow_Next(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner())
	hosts, fails := fleet(12)
	a.seed(t, hosts, fails)
	ctx := t.Context()
	h, err := a.st.HostByName(ctx, "PC-001")
	if err != nil {
		t.Fatal(err)
	}
	rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	_, doc := a.get(t, "/runs/"+strconv.FormatInt(rn.ID, 10))
	if doc.Find(`[data-testid="run-next"]`).Length() != 0 {
		t.Fatal("a queued run offers what to do next")
	}
	a.runner.finish(t, rn.ID)
	_, doc = a.get(t, "/runs/"+strconv.FormatInt(rn.ID, 10))
	next := doc.Find(`[data-testid="next-host"]`)
	href := next.AttrOr("href", "")
	if next.Length() != 1 || href == "/hosts/PC-001" || !strings.HasPrefix(href, "/hosts/PC-") {
		t.Fatalf("next host link %q", href)
	}
	if other := strings.TrimPrefix(href, "/hosts/"); fails[other] != fails["PC-001"] {
		t.Fatalf("next host %s fails with %#x, not %#x", other, fails[other], fails["PC-001"])
	}
	for _, id := range []string{"run-again", "run-check"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("no %s", id)
		}
	}
	viewer := signIn(t, a.srv.URL, a.st, "viewer", store.RoleViewer)
	if _, doc := get(t, viewer, a.srv.URL+"/runs/"+strconv.FormatInt(rn.ID, 10)); doc.Find(`[data-testid="run-next"]`).Length() != 0 {
		t.Error("a viewer is offered runs")
	}
}

// TestHandleHostRefresh ensures Refresh history is offered to operators on
// the host page, starts a history run of its own (303 to its page), is
// audited with the host's name, and is not offered to viewers.
func TestHandleHostRefresh(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("olga", store.RoleOperator), withRunner(), withHosts("PC-1"))
	_, doc := a.get(t, "/hosts/PC-1")
	if doc.Find(`[data-testid="refresh-history"]`).Length() != 1 {
		t.Fatal("no Refresh history for an operator")
	}
	res, _ := postForm(t, noRedirect(a.client), a.srv.URL+"/hosts/PC-1/refresh", nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/runs/") {
		t.Fatalf("refresh: %d to %q", res.StatusCode, loc)
	}
	if len(a.runner.got) != 1 || a.runner.got[0].Procedure != run.ProcedureHistory {
		t.Fatalf("jobs %+v, want one history run", a.runner.got)
	}
	_, doc = a.get(t, loc)
	if got := doc.Find("h1").First().Text(); got != "History refresh of PC-1" {
		t.Errorf("run page title %q", got)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionHistoryReload})
	if err != nil || len(entries) != 1 || entries[0].Target != "PC-1" || entries[0].Actor != "olga" {
		t.Errorf("audit %+v, %v", entries, err)
	}

	v := newApp(t, signedInAs("vera", store.RoleViewer), withRunner(), withHosts("PC-1"))
	if _, doc := v.get(t, "/hosts/PC-1"); doc.Find(`[data-testid="refresh-history"]`).Length() != 0 {
		t.Error("Refresh history offered to a viewer")
	}
}
