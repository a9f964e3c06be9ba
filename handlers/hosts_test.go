package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
)

// TestHandleHostShow ensures a host page shows its facts and full history
// newest first with decoded codes, and an unknown host is a 404 page.
func TestHandleHostShow(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	ctx := context.Background()
	a.st.UpsertHosts(ctx, []store.HostInput{{Name: "FIN-LT-0042", FQDN: "fin-lt-0042.corp.test",
		OSCaption: "Microsoft Windows 11 Enterprise", OSBuild: "10.0.26100.4351", Group: "Laptops"}})
	var ev []store.EventInput
	for d := 1; d <= 5; d++ {
		r, code := run.ResultSucceeded, uint32(0)
		if d == 5 {
			r, code = run.ResultFailed, 0x80070003
		}
		ev = append(ev, store.EventInput{HostName: "FIN-LT-0042", At: time.Date(2026, 10, d, 9, 0, 0, 0, time.UTC),
			UpdateID: string(rune('a' + d)), KB: "KB500000" + string(rune('0'+d)), Title: "Update",
			Operation: "Installation", Result: r, HResult: code, Source: store.SourceImport})
	}
	if _, err := a.st.AddUpdateEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}

	res, doc := a.get(t, "/hosts/fin-lt-0042")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := doc.Find(`[data-testid="host-name"]`).Text(); got != "FIN-LT-0042" {
		t.Errorf("name %q", got)
	}
	facts := doc.Find(`[data-testid="host-facts"]`).Text()
	for _, want := range []string{"fin-lt-0042.corp.test", "10.0.26100.4351", "Laptops", "Failing"} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts lack %q: %s", want, facts)
		}
	}
	if got := doc.Find(`[data-testid="failure-code"]`).Text(); got != "0x80070003" {
		t.Errorf("failure code %q", got)
	}
	codes := texts(doc, `[data-testid="history-code"]`)
	results := texts(doc, `[data-testid="history-result"]`)
	if len(codes) != 5 || codes[0] != "0x80070003" || results[0] != "Failed" || results[4] != "Succeeded" {
		t.Errorf("history codes %v results %v, want 5 rows newest (failed) first", codes, results)
	}
	if !strings.Contains(doc.Find(`[data-testid="history-row"]`).First().Text(), "ERROR_PATH_NOT_FOUND") {
		t.Error("failed row lacks the decoded symbol")
	}

	res, doc = a.get(t, "/hosts/NO-SUCH-HOST")
	if res.StatusCode != http.StatusNotFound || doc.Find(`[data-testid="error-title"]`).Text() != "Not found" {
		t.Fatalf("unknown host: status %d, title %q", res.StatusCode, doc.Find(`[data-testid="error-title"]`).Text())
	}
}

// TestHandleHealthz ensures the health check answers ok while the database does.
func TestHandleHealthz(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	res, err := http.Get(a.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	a.st.Close()
	res, err = http.Get(a.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("closed store: status %d, want 503", res.StatusCode)
	}
}

// TestHandleHostRepairConfirm ensures GET /hosts/{name}/repair asks
// before repairing, says so when the host's failure is not one the repair
// fixes, starts nothing, and answers 404 for an unknown host.
func TestHandleHostRepairConfirm(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner())
	hosts, fails := fleet(12)
	a.seed(t, hosts, fails)
	res, doc := a.get(t, "/hosts/PC-001/repair")
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="confirm-form"]`).Length() != 1 {
		t.Fatalf("status %d, confirm form %d", res.StatusCode, doc.Find(`[data-testid="confirm-form"]`).Length())
	}
	if want := fails["PC-001"] == 0x80070002; (doc.Find(`[data-testid="confirm-unexpected"]`).Length() == 0) != want {
		t.Errorf("not-expected warning shown for %#x", fails["PC-001"])
	}
	if _, doc := a.get(t, "/hosts/PC-002/repair"); doc.Find(`[data-testid="confirm-unexpected"]`).Length() != 1 {
		t.Errorf("no warning for %#x, which the repair does not fix", fails["PC-002"])
	}
	if n := len(a.runner.got); n != 0 {
		t.Fatalf("GET started %d runs", n)
	}
	if res, _ := a.get(t, "/hosts/NOPE/repair"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown host: %d", res.StatusCode)
	}
}

// TestHandleHostList ensures the host search finds every host whose name
// matches, healthy ones too (which triage does not list), pages through
// them, and is offered in every page's header.
func TestHandleHostList(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("viewer", store.RoleViewer))
	hosts, fails := fleet(12)
	a.seed(t, hosts, fails)
	var healthy string
	for _, h := range hosts {
		if fails[h.Name] == 0 {
			healthy = h.Name
			break
		}
	}
	res, doc := a.get(t, "/hosts?q="+healthy)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	rows := doc.Find(`[data-testid="hosts-link"]`)
	if rows.Length() != 1 || rows.Text() != healthy || doc.Find(`[data-testid="hosts-state"]`).Text() != "Up to date" {
		t.Fatalf("search for %s: %d rows %q, state %q", healthy, rows.Length(), rows.Text(), doc.Find(`[data-testid="hosts-state"]`).Text())
	}
	if _, doc := a.get(t, "/?q="+healthy); doc.Find(`[data-testid="host-row"]`).Length() != 0 {
		t.Fatal("triage lists a healthy host: the test no longer tells the two apart")
	}
	_, doc = a.get(t, "/hosts?q=PC-")
	if got := doc.Find(`[data-testid="hosts-total"]`).Text(); got != "12 hosts match." {
		t.Errorf("total %q", got)
	}
	if doc.Find(`[data-testid="host-search"]`).AttrOr("action", "") != "/hosts" {
		t.Error("no host search in the header")
	}
}

// TestHandleHostShow_BackKeepsFilter ensures a host page opened from a
// filtered triage view links back to that view, that only triage filters
// come back (a hostile back= is read through the triage parser), and
// that without one the link is the plain triage page.
func TestHandleHostShow_BackKeepsFilter(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("viewer", store.RoleViewer))
	hosts, fails := fleet(12)
	a.seed(t, hosts, fails)
	for _, tt := range []struct{ back, want string }{
		{"code=0x80070002&group=Pilot&page=2", "/?code=0x80070002&group=Pilot&page=2"},
		{"", "/"},
		{"q=PC&evil=https%3A%2F%2Fexample.com", "/?q=PC"},
		{"%zz", "/"},
	} {
		_, doc := a.get(t, "/hosts/PC-001?back="+url.QueryEscape(tt.back))
		if got := doc.Find(`[data-testid="back-to-triage"]`).AttrOr("href", ""); got != tt.want {
			t.Errorf("back=%q: link %q, want %q", tt.back, got, tt.want)
		}
	}
}
