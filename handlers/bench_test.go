package handlers_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// benchGet serves GET path through h with cookie, failing on any status
// but 200.
func benchGet(b *testing.B, h http.Handler, cookie *http.Cookie, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(cookie)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: status %d", path, rec.Code)
	}
	return rec
}

// BenchmarkPages measures server time of the triage and host pages over
// 100,000 hosts with 2,000,000 history rows (budget: well under 50 ms).
// Run: go test -run '^$' -bench Pages -benchtime 20x ./handlers/
func BenchmarkPages(b *testing.B) {
	st, err := store.Open(b.Context(), storetest.BigDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	cookie := sessionCookie(b, h, st, "bench", store.RoleViewer)
	pages := []struct{ name, path string }{
		{"triage", "/"},
		{"triage-code", "/?code=0x80070003"},
		{"triage-group-sorted", "/?group=Laptops+-+Remote&sort=name"},
		{"triage-search", "/?q=WS-0012"},
		{"triage-page-700", "/?page=700"},
		{"host", "/hosts/SITE07-WS-012357"},
		{"export-csv", "/export/hosts.csv"},
	}
	get := func(b *testing.B, path string) { benchGet(b, h, cookie, path) }
	// Nothing changes between views: triage and the host page come from
	// the page cache.
	for _, bc := range pages {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				get(b, bc.path)
			}
		})
	}
	// The inventory changes before every view (one history row added,
	// untimed), so every view draws its page again: what the first
	// viewer after an import, a repair or a sync waits for.
	seq := 0
	for _, bc := range pages[:6] {
		b.Run(bc.name+"-after-change", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				seq++
				if _, err := st.AddUpdateEvents(b.Context(), []store.EventInput{{HostName: "SITE40-WS-000090",
					At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second), UpdateID: fmt.Sprintf("bench-%d", seq),
					KB: "KB5099999", Title: "Bench update", Operation: "Installation", Result: run.ResultSucceeded, Source: store.SourceImport}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				get(b, bc.path)
			}
		})
	}
}
