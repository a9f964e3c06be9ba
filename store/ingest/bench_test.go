package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/storetest"
)

// The import benchmarks time ImportCSV of a generated file into a fresh
// store and the sqlite3 CLI's .import of the same file, one after the
// other in the same run, and report both, their ratio (the CLI's time
// over ours: 0.5 means half its speed), the CPU time of each and the peak
// live heap of ours. Beside them runs the floor under any import through
// this driver (driverImport: the CLI's work alone, through
// modernc.org/sqlite), so the two costs can be told apart: what the
// transpiled engine costs against native SQLite, and what the store's own
// work (validation, indexes, search, summaries) adds; for hosts also the
// floor with the store's own table (schemaImport), which parts what the
// schema costs from what the store's Go does. Each runs at two sizes, the second ten times the
// first, so the heap can be compared. The sizes are the times
// WSUSFIX_BENCH_SCALE (0.1 when unset); WSUSFIX_BENCH_ROUNDS runs each side
// that many times, alternately, and keeps the best of each, since the
// machine is shared:
//
//	WSUSFIX_BENCH_SCALE=1 WSUSFIX_BENCH_ROUNDS=3 go test -run '^$' -bench Import -benchtime 1x ./store/ingest/

// BenchmarkImportHosts imports hosts: 10,000 and 100,000 at scale 1.
func BenchmarkImportHosts(b *testing.B) {
	full := int(100_000 * benchScale(b))
	for _, n := range []int{max(1, full/10), full} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			csvPath := writeHostsCSV(b, dir, n)
			for b.Loop() {
				var ours, cli, floor1, floor100, schema cost
				var peak uint64
				for range benchRounds(b) {
					schema = schema.best(schemaImport(b, dir, csvPath, 100))
					st := openBenchStore(b, dir)
					c, p := timeImport(b, st, Hosts, csvPath, n, 0)
					st.Close()
					ours, peak = ours.best(c), max(peak, p)
					cli = cli.best(sqliteImport(b, dir, sqliteHostsTable, "hosts", csvPath))
					floor1 = floor1.best(driverImport(b, dir, sqliteHostsTable, "hosts", csvPath, 1))
					floor100 = floor100.best(driverImport(b, dir, sqliteHostsTable, "hosts", csvPath, 100))
				}
				reportImport(b, n, ours, cli, peak)
				reportFloor(b, cli, floor1, floor100)
				b.ReportMetric(schema.wall.Seconds(), "schema-100-s")
				b.ReportMetric(cli.wall.Seconds()/schema.wall.Seconds(), "x-sqlite3-schema-100")
			}
		})
	}
}

// BenchmarkImportHistory imports history into a store that holds its
// hosts: 200,000 and 2,000,000 rows over 10,000 and 100,000 hosts at
// scale 1, twenty a host.
func BenchmarkImportHistory(b *testing.B) {
	const perHost = 20
	full := int(100_000 * benchScale(b))
	for _, hosts := range []int{max(1, full/10), full} {
		n := hosts * perHost
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			hostsPath := writeHostsCSV(b, dir, hosts)
			csvPath := writeHistoryCSV(b, dir, hosts, perHost)
			for b.Loop() {
				var ours, cli, floor1, floor100 cost
				var peak uint64
				for range benchRounds(b) {
					st := openBenchStore(b, dir)
					if _, err := importFile(b.Context(), st, Hosts, hostsPath); err != nil {
						b.Fatal(err)
					}
					c, p := timeImport(b, st, History, csvPath, n, hosts)
					st.Close()
					ours, peak = ours.best(c), max(peak, p)
					cli = cli.best(sqliteImport(b, dir, sqliteHistoryTable, "history", csvPath))
					floor1 = floor1.best(driverImport(b, dir, sqliteHistoryTable, "history", csvPath, 1))
					floor100 = floor100.best(driverImport(b, dir, sqliteHistoryTable, "history", csvPath, 100))
				}
				reportImport(b, n, ours, cli, peak)
				reportFloor(b, cli, floor1, floor100)
			}
		})
	}
}

// openBenchStore opens a fresh store under dir.
func openBenchStore(b *testing.B, dir string) *store.Store {
	b.Helper()
	path := filepath.Join(dir, "wsusfix.db")
	for _, f := range store.Files(path) {
		os.Remove(f)
	}
	st, err := store.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// timeImport imports csvPath and checks every row was stored; it returns
// what the import cost and the peak live heap.
func timeImport(b *testing.B, st *store.Store, kind Kind, csvPath string, rows, hosts int) (cost, uint64) {
	b.Helper()
	_, stop := storetest.SampleHeap()
	start, cpu := time.Now(), processCPU()
	c, err := importFile(b.Context(), st, kind, csvPath)
	d := cost{wall: time.Since(start), cpu: processCPU() - cpu}
	peak := stop().Live
	if err != nil {
		b.Fatal(err)
	}
	if c.Read != rows || c.Imported != rows || c.Rejected != 0 {
		b.Fatalf("counts %+v, want %d rows imported", c, rows)
	}
	if kind == History {
		// Every host's failure summary was refreshed: one in ten rows
		// failed, and the newest of each host decides.
		n, err := st.CountHosts(b.Context())
		if err != nil || n != hosts {
			b.Fatalf("%d hosts, %v", n, err)
		}
	}
	return d, peak
}

func importFile(ctx context.Context, st *store.Store, kind Kind, path string) (Counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return Counts{}, err
	}
	defer f.Close()
	return ImportCSV(ctx, st, kind, f, CSVOptions{Name: filepath.Base(path)})
}

// reportImport reports the best wall and CPU times of each side, the
// ratios (the CLI's time over ours) and our peak live heap.
func reportImport(b *testing.B, rows int, ours, cli cost, peak uint64) {
	b.ReportMetric(ours.wall.Seconds(), "wsusfix-s")
	b.ReportMetric(cli.wall.Seconds(), "sqlite3-s")
	b.ReportMetric(float64(rows)/ours.wall.Seconds(), "rows/s")
	b.ReportMetric(cli.wall.Seconds()/ours.wall.Seconds(), "x-sqlite3")
	b.ReportMetric(ours.cpu.Seconds(), "wsusfix-cpu-s")
	b.ReportMetric(cli.cpu.Seconds(), "sqlite3-cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
}

// reportFloor reports the driver's floor (driverImport) against the CLI:
// one row an INSERT, as .import does, and a hundred.
func reportFloor(b *testing.B, cli, floor1, floor100 cost) {
	b.ReportMetric(floor1.wall.Seconds(), "driver-1-s")
	b.ReportMetric(floor100.wall.Seconds(), "driver-100-s")
	b.ReportMetric(cli.wall.Seconds()/floor1.wall.Seconds(), "x-sqlite3-driver-1")
	b.ReportMetric(cli.wall.Seconds()/floor100.wall.Seconds(), "x-sqlite3-driver-100")
}
