package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"wsusfix/remote/runner"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// idleRunner accepts runs and never reports on them, so an event stream
// for an active run would stay open forever.
type idleRunner struct{}

func (idleRunner) Submit(runner.Job) error { return nil }
func (idleRunner) Cancel(int64) bool       { return true }
func (idleRunner) Subscribe(int64) (<-chan run.Event, func()) {
	return make(chan run.Event), func() {}
}

// downloadStamp is the time in a download's file name.
var downloadStamp = regexp.MustCompile(`-\d{8}-\d{4}\.`)

// TestHead_EveryGETRoute ensures HEAD works wherever GET does: the same
// status, content type, download name and caching, and no body written,
// even from the CSV export and the event stream of an active rn, which
// would otherwise run on.
func TestHead_EveryGETRoute(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "head.db"))
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	host, err := st.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "x", Description: "1 host"})
	if err != nil {
		t.Fatal(err)
	}
	rn, err := st.CreateRun(ctx, store.RunInput{HostID: host.ID, BatchID: batch.ID, Procedure: run.ProcedureRepair})
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(Deps{Logger: slog.New(slog.DiscardHandler), Store: st, Runner: idleRunner{}})
	mux := h.routes()
	u, err := st.CreateUser(ctx, "head-admin", store.RoleAdmin, "head password 1")
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: h.sessions.Cookie.Name, Value: mintSession(t, h, u)}

	ids := map[string]string{"/runs/{id}": strconv.FormatInt(rn.ID, 10), "/batches/{id}": strconv.FormatInt(batch.ID, 10)}
	serve := func(method, path string, signedIn bool) *httptest.ResponseRecorder {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(c, method, path, nil)
		if signedIn {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		if strings.HasSuffix(path, "/events") && method == http.MethodGet {
			// GET streams until the client leaves: leave after a moment.
			c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			req = req.WithContext(c)
		}
		done := make(chan struct{})
		go func() { mux.ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s still running after 5 s", method, path)
		}
		return rec
	}
	checked, downloads := 0, 0
	err = chi.Walk(mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet {
			return nil
		}
		path := pattern
		for prefix, id := range ids {
			if strings.HasPrefix(pattern, prefix) {
				path = strings.Replace(pattern, "{id}", id, 1)
			}
		}
		path = strings.NewReplacer("{format:csv|xlsx|json}", "xlsx", "{list:compliance|activity|codes}", "codes", "{name}", "PC-1", "{id}", strconv.FormatInt(rn.ID, 10), "*", "nothing").Replace(path)
		for _, signedIn := range []bool{false, true} {
			get, head := serve(http.MethodGet, path, signedIn), serve(http.MethodHead, path, signedIn)
			if head.Code != get.Code {
				t.Errorf("HEAD %s (signed in %v): %d; GET: %d", path, signedIn, head.Code, get.Code)
			}
			for _, key := range []string{"Content-Type", "Content-Disposition", "Cache-Control"} {
				// A download's name carries the minute it was made, which
				// two requests may straddle.
				g := downloadStamp.ReplaceAllString(get.Header().Get(key), "-.")
				if hd := downloadStamp.ReplaceAllString(head.Header().Get(key), "-."); hd != g {
					t.Errorf("HEAD %s (signed in %v): %s %q; GET: %q", path, signedIn, key, hd, g)
				}
			}
			if get.Header().Get("Content-Disposition") != "" {
				downloads++
			}
			if head.Body.Len() != 0 {
				t.Errorf("HEAD %s (signed in %v) wrote %d bytes of body", path, signedIn, head.Body.Len())
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d GET routes", checked/2)
	}
	if downloads != 5 {
		t.Errorf("%d GETs named a download, want 5 (the exports, signed in)", downloads)
	}
	entries, _, err := st.AuditEntries(ctx, store.AuditFilter{Action: store.ActionExport})
	// Five export routes (hosts, runs, a host's history, a report's list,
	// the audit log), each fetched once signed in.
	if err != nil || len(entries) != 5 {
		t.Errorf("%d export audit entries, want 5 (the GETs; a HEAD exports nothing)", len(entries))
	}
}

// TestHead_Refused ensures a HEAD refused before routing (a query over its
// limits) gets GET's status and still no body.
func TestHead_Refused(t *testing.T) {
	t.Parallel()
	_, mux := limitsApp(t)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, "/healthz?q="+strings.Repeat("x", 201), nil))
		if rec.Code != http.StatusBadRequest || (method == http.MethodHead) != (rec.Body.Len() == 0) {
			t.Errorf("%s with a long search: %d, %d bytes of body", method, rec.Code, rec.Body.Len())
		}
	}
}
