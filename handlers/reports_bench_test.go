package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/storetest"
)

// addBenchRuns writes n finished repair runs straight into the database
// file at path, spread over the last 90 days and the hosts, with the
// failure each host had: a fixture for the reports benchmark (creating
// 50,000 runs through the store, a transaction each, would take minutes).
func addBenchRuns(b *testing.B, path string, n int) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var have int
	if err := db.QueryRow("SELECT count(*) FROM runs").Scan(&have); err != nil || have >= n {
		return
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	outcomes := []string{"repaired", "repaired", "repaired", "still_failing", "unreachable", "refused", "unknown"}
	now := time.Now().UnixMilli()
	_, err = tx.Exec(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
		INSERT INTO runs (host_id, procedure, requested_by, state, outcome, created_at, started_at, finished_at, fail_hresult, fail_at)
		SELECT h.id, 'repair', 'bench', 'succeeded', json_extract(?2, '$[' || (k.i % 7) || ']'),
			?3 - (k.i * 155000), ?3 - (k.i * 155000) + 1000, ?3 - (k.i * 155000) + 240000,
			ifnull(h.fail_hresult, 2147942402), ?3 - (k.i * 155000) - 86400000 * (k.i % 9)
		FROM k JOIN hosts h ON h.id = 1 + (k.i * 7919) % (SELECT count(*) FROM hosts)`, n, jsonList(outcomes), now)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func jsonList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += `"` + v + `"`
	}
	return out + "]"
}

// BenchmarkReports measures the reports page and the large exports over
// 100,000 hosts, 2,000,000 history rows and 50,000 runs (budgets: the
// page at most 100 ms; the XLSX of every failing host with heap growth
// under 50 MB; the CSV of the failing hosts at least 0.5 times the speed
// of the sqlite3 CLI selecting the same rows, measured side by side when
// sqlite3 is installed).
// Run: go test -run '^$' -bench Reports -benchtime 10x ./handlers/
func BenchmarkReports(b *testing.B) {
	path := storetest.BigDB(b)
	addBenchRuns(b, path, 50_000)
	st, err := store.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	// An admin, so a database kept between runs (WSUSFIX_BENCH_DB) always
	// keeps the one enabled admin the store insists on.
	cookie := sessionCookie(b, h, st, "bench-admin", store.RoleAdmin)
	get := func(b *testing.B, path string) *httptest.ResponseRecorder { return benchGet(b, h, cookie, path) }
	for _, path := range []string{"/reports", "/reports?group=Servers+-+Tier+1&code=0x80070002", "/reports/codes.xlsx"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				get(b, path)
			}
		})
	}
	b.Run("export-hosts.xlsx", func(b *testing.B) {
		var inUse, live uint64
		for b.Loop() {
			start, stop := storetest.SampleHeap()
			get(b, "/export/hosts.xlsx")
			peak := stop()
			inUse, live = max(inUse, peak.InUse-start.InUse), max(live, peak.Live-start.Live)
		}
		// In use counts garbage awaiting collection; live does not.
		b.ReportMetric(float64(inUse)/(1<<20), "MB-heap-growth")
		b.ReportMetric(float64(live)/(1<<20), "MB-live-heap-growth")
	})
	b.Run("export-hosts.csv-vs-sqlite3", func(b *testing.B) {
		var rows int
		start := time.Now()
		for b.Loop() {
			rec := get(b, "/export/hosts.csv")
			rows = countLines(rec.Body.Bytes()) - 1
		}
		ours := time.Since(start) / time.Duration(b.N)
		b.ReportMetric(float64(rows), "rows")
		sqlite, err := exec.LookPath("sqlite3")
		if err != nil {
			b.Log("sqlite3 not installed: no side-by-side figure")
			return
		}
		q := `SELECT h.name, h.fqdn, h.address, h.os_caption, h.os_build, h.wsus_group,
			(SELECT group_concat(name, ';') FROM host_groups WHERE host_id = h.id), h.fail_kb, h.fail_title,
			printf('0x%08X', h.fail_hresult), h.fail_at FROM hosts h WHERE state = 'failing' AND gone_at IS NULL ORDER BY fail_at DESC`
		t0 := time.Now()
		const reps = 3
		for range reps {
			if out, err := exec.CommandContext(context.Background(), sqlite, "-csv", "-readonly", path, q).Output(); err != nil {
				b.Fatal(err)
			} else if got := countLines(out); got != rows {
				b.Logf("sqlite3 selected %d rows, the export %d", got, rows)
			}
		}
		theirs := time.Since(t0) / reps
		b.ReportMetric(float64(theirs)/float64(ours), "x-sqlite3-speed")
		fmt.Fprintf(os.Stderr, "CSV of %d failing hosts: wsusfix %v, sqlite3 -csv %v (%.2fx)\n", rows, ours, theirs, float64(theirs)/float64(ours))
	})
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
