package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// buildBig fills st with hosts hosts and perHost history rows each, 38% of
// hosts failing with a mix of codes, in batches as an import would.
func buildBig(b *testing.B, st *store.Store, hosts, perHost int) {
	ctx := context.Background()
	codes := []uint32{0x80070002, 0x80070002, 0x80070002, 0x80070003, 0x80244022, 0x80073712, 0x80070643, 0x8024402C}
	groups := []string{"Workstations - Broad", "Workstations - Pilot", "Laptops - Remote", "Servers - Tier 1", "Servers - Tier 2"}
	const batch = 2000
	start := time.Now()
	for lo := 0; lo < hosts; lo += batch {
		var hs []store.HostInput
		var ev []store.EventInput
		for i := lo; i < min(lo+batch, hosts); i++ {
			name := fmt.Sprintf("SITE%02d-WS-%06d", i%50, i)
			hs = append(hs, store.HostInput{Name: name, FQDN: name + ".corp.test", OSCaption: "Microsoft Windows 11 Enterprise",
				OSBuild: "10.0.26100.4351", Group: groups[i%len(groups)]})
			for j := range perHost {
				e := store.EventInput{HostName: name, At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(j*7*24+i%97) * time.Hour),
					UpdateID: fmt.Sprintf("u-%d", j), KB: fmt.Sprintf("KB50%05d", j), Title: fmt.Sprintf("Update %d", j),
					Operation: "Installation", Result: run.ResultSucceeded, Source: store.SourceImport}
				if j == perHost-1 && i%100 < 38 {
					e.Result, e.HResult = run.ResultFailed, codes[i%len(codes)]
				}
				ev = append(ev, e)
			}
		}
		if _, err := st.UpsertHosts(ctx, hs); err != nil {
			b.Fatal(err)
		}
		if _, err := st.AddUpdateEvents(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "built %d hosts and %d history rows in %v\n", hosts, hosts*perHost, time.Since(start).Round(time.Millisecond))

}

// BenchmarkPages measures server time of the triage and host pages over
// 100,000 hosts with 2,000,000 history rows (budget: well under 50 ms).
// Run: go test -run '^$' -bench Pages -benchtime 20x ./handlers/
func BenchmarkPages(b *testing.B) {
	// WSUSFIX_BENCH_DB keeps the 100k-host database between runs, since
	// building it takes longer than measuring it.
	path := os.Getenv("WSUSFIX_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "big.db")
	}
	_, statErr := os.Stat(path)
	st, err := store.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { st.Close() }()
	if statErr != nil {
		buildBig(b, st, 100_000, 20)
		// Reopen as serve would after an import, so the planner has statistics.
		st.Close()
		if st, err = store.Open(b.Context(), path); err != nil {
			b.Fatal(err)
		}
	}
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	cookie := sessionCookie(b, h, st, "bench", store.RoleViewer)
	for _, bc := range []struct{ name, path string }{
		{"triage", "/"},
		{"triage-code", "/?code=0x80070003"},
		{"triage-group-sorted", "/?group=Laptops+-+Remote&sort=name"},
		{"triage-search", "/?q=WS-0012"},
		{"triage-page-700", "/?page=700"},
		{"host", "/hosts/SITE07-WS-012357"},
		{"export-csv", "/export/hosts.csv"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.AddCookie(cookie)
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", bc.path, rec.Code)
				}
			}
		})
	}
}
