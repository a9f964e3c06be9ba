package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// seed adds hosts and history; each failing host gets one failed event.
func (a *app) seed(t testing.TB, hosts []store.HostInput, failures map[string]uint32) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.st.UpsertHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	var ev []store.EventInput
	for i, h := range hosts {
		code, failing := failures[h.Name]
		result := run.ResultSucceeded
		if failing {
			result = run.ResultFailed
		}
		ev = append(ev, store.EventInput{HostName: h.Name, At: time.Date(2026, 10, 1+i%28, 9, 0, 0, 0, time.UTC),
			UpdateID: "u1", KB: "KB5066835", Title: "2026-10 Cumulative Update", Operation: "Installation",
			Result: result, HResult: code, Source: store.SourceImport})
	}
	if _, err := a.st.AddUpdateEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}
}

// get fetches path and parses the body as HTML.
func (a *app) get(t *testing.T, path string) (*http.Response, *goquery.Document) {
	t.Helper()
	return page(t)(a.client.Get(a.srv.URL + path))
}

// page returns a function that takes a request's result, fails the test
// on its error, and returns the response with its body parsed as HTML:
// page(t)(client.Get(u)).
func page(t testing.TB) func(*http.Response, error) (*http.Response, *goquery.Document) {
	return func(res *http.Response, err error) (*http.Response, *goquery.Document) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		doc, err := goquery.NewDocumentFromReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, doc
	}
}

func texts(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// TestNotFound_SignedIn ensures a page that does not exist answers 404
// still showing who is signed in, without the renamed-host hint that only
// fits a host page.
func TestNotFound_SignedIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("admin", store.RoleAdmin))
	res, doc := a.get(t, "/no/such/page")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := doc.Find(`[data-testid="user-name"]`).Text(); got != "admin" {
		t.Errorf("signed-in user shown as %q on the 404 page", got)
	}
	if body := doc.Text(); strings.Contains(body, "renamed") {
		t.Error("the 404 page of an unknown address talks of renamed hosts")
	}
	res, doc = a.get(t, "/hosts/NO-SUCH-HOST")
	if res.StatusCode != http.StatusNotFound || !strings.Contains(doc.Text(), "renamed") {
		t.Errorf("an unknown host: %d, hint missing", res.StatusCode)
	}
}

// TestAccessLogLevel ensures the line per request is logged at the level
// asked for: at Info by default, and out of an Info log when Debug is asked
// (the demo's choice).
func TestAccessLogLevel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		level slog.Level
		want  bool
	}{{slog.LevelInfo, true}, {slog.LevelDebug, false}} {
		var buf bytes.Buffer
		h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), Store: openStore(t, filepath.Join(t.TempDir(), "log.db")),
			AccessLogLevel: tt.level})
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if got := strings.Contains(buf.String(), `"msg":"request"`); got != tt.want {
			t.Errorf("level %v: request line logged = %v, want %v:\n%s", tt.level, got, tt.want, buf.String())
		}
	}
}
