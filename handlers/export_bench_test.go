package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// countingWriter is a ResponseWriter that keeps nothing of the body but
// its size and lines, so a benchmark's heap is the export's own.
type countingWriter struct {
	h            http.Header
	status       int
	bytes, lines int
}

func (w *countingWriter) Header() http.Header { return w.h }
func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.bytes += len(p)
	w.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// BenchmarkExportLists measures the runs export over 50,000 runs and one
// host's history export over 20,000 entries, in each format, with the
// live heap's growth (budgets: memory flat in rows; the CSVs at least 0.5
// times the speed of the sqlite3 CLI selecting the same rows, measured
// side by side when sqlite3 is installed).
// Run: go test -run '^$' -bench ExportLists -benchtime 3x ./handlers/
func BenchmarkExportLists(b *testing.B) {
	const runs, entries = 50_000, 20_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "lists.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { st.Close() }()
	start := time.Now()
	var hosts []store.HostInput
	for i := range 1000 {
		hosts = append(hosts, store.HostInput{Name: fmt.Sprintf("PC-%04d", i), OSCaption: "Microsoft Windows 11 Enterprise"})
	}
	if _, err := st.UpsertHosts(ctx, hosts); err != nil {
		b.Fatal(err)
	}
	ev := historyEntries("PC-0000", "u-", entries, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	for lo := 0; lo < len(ev); lo += 5000 {
		if _, err := st.AddUpdateEvents(ctx, ev[lo:min(lo+5000, len(ev))]); err != nil {
			b.Fatal(err)
		}
	}
	var ids []int64 // a new database numbers the hosts from 1
	for i := range 1000 {
		ids = append(ids, int64(i+1))
	}
	batch, err := st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "bench", Description: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	insertRuns(b, path, ids, []int64{batch.ID}, runs)
	fmt.Fprintf(os.Stderr, "built %d runs and %d history entries in %v\n", runs, entries, time.Since(start).Round(time.Millisecond))
	// Reopened, as after an import, so the planner has statistics.
	st.Close()
	if st, err = store.Open(ctx, path); err != nil {
		b.Fatal(err)
	}
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	cookie := sessionCookie(b, h, st, "bench", store.RoleViewer)
	cases := []struct {
		name, path string
		rows       int
		sqlite     string // the same rows for sqlite3 -csv
	}{
		{"runs.csv", "/export/runs.csv", runs, `SELECT r.id, h.name, r.procedure, ifnull(r.batch_id, 0), r.state, r.outcome, r.summary,
			r.requested_by, r.created_at, r.started_at, r.finished_at, (r.finished_at - r.started_at) / 1000
			FROM runs r JOIN hosts h ON h.id = r.host_id ORDER BY r.created_at DESC, r.id DESC`},
		{"runs.json", "/export/runs.json", runs, ""},
		{"runs.xlsx", "/export/runs.xlsx", runs, ""},
		{"history.csv", "/hosts/PC-0000/history.csv", entries, `SELECT 'PC-0000', at, kb, title, operation, result,
			printf('0x%08X', hresult), '', source, update_id FROM update_events
			WHERE host_id = (SELECT id FROM hosts WHERE name = 'PC-0000') ORDER BY at DESC, id DESC`},
		{"history.json", "/hosts/PC-0000/history.json", entries, ""},
		{"history.xlsx", "/hosts/PC-0000/history.xlsx", entries, ""},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			var live uint64
			var lines int
			for b.Loop() {
				heap, stop := storetest.SampleHeap()
				w := &countingWriter{h: http.Header{}}
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.AddCookie(cookie)
				h.ServeHTTP(w, req)
				peak := stop()
				if w.status != http.StatusOK || w.bytes == 0 {
					b.Fatalf("%s: status %d, %d bytes", bc.path, w.status, w.bytes)
				}
				live, lines = max(live, peak.Live-heap.Live), w.lines
			}
			ours := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(bc.rows)/ours.Seconds(), "rows/s")
			b.ReportMetric(float64(live)/(1<<20), "MB-live-heap-growth")
			if bc.sqlite == "" {
				return
			}
			if lines < bc.rows {
				b.Fatalf("%s: %d lines, want at least %d rows", bc.path, lines, bc.rows)
			}
			sqlite, err := exec.LookPath("sqlite3")
			if err != nil {
				b.Log("sqlite3 not installed: no side-by-side figure")
				return
			}
			const reps = 3
			t0 := time.Now()
			for range reps {
				if err := exec.CommandContext(ctx, sqlite, "-csv", "-readonly", path, bc.sqlite).Run(); err != nil {
					b.Fatal(err)
				}
			}
			theirs := time.Since(t0) / reps
			b.ReportMetric(float64(theirs)/float64(ours), "x-sqlite3-speed")
		})
	}
}
