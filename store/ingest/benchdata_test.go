package ingest

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchScale is the share of the sizes (100,000 hosts, 2,000,000
// history rows) the benchmarks use: WSUSFIX_BENCH_SCALE, or 0.1 when unset
// so a plain -bench run stays short. WSUSFIX_BENCH_SCALE=1 runs the full
// sizes.
func benchScale(tb testing.TB) float64 {
	v := os.Getenv("WSUSFIX_BENCH_SCALE")
	if v == "" {
		return 0.1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 10 {
		tb.Fatalf("WSUSFIX_BENCH_SCALE=%q: want a number in (0, 10]", v)
	}
	return f
}

// benchHostName is the name of the i-th generated host.
func benchHostName(i int) string { return fmt.Sprintf("BENCH-%06d", i) }

// writeHostsCSV writes n hosts to a file under dir and returns its path.
// Every value is valid, as an inventory export would be.
func writeHostsCSV(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("hosts-%d.csv", n))
	writeCSV(tb, path, func(w *bufio.Writer) {
		w.WriteString(hostsHeader)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		groups := []string{"Workstations - Broad", "Workstations - Pilot", "Laptops - Remote", "Servers - Tier 1"}
		for i := range n {
			name := benchHostName(i)
			fmt.Fprintf(w, "%s,%s.corp.example,10.%d.%d.%d,Microsoft Windows 11 Enterprise,10.0.26100.%d,%s,%s\n",
				name, strings.ToLower(name), i>>16&255, i>>8&255, i&255, 1000+i%6000, groups[i%len(groups)],
				base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		}
	})
	return path
}

// writeHistoryCSV writes perHost history rows for each of hosts hosts,
// host by host as a per-host export would, one in ten of them a failure.
func writeHistoryCSV(tb testing.TB, dir string, hosts, perHost int) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("history-%d.csv", hosts*perHost))
	writeCSV(tb, path, func(w *bufio.Writer) {
		w.WriteString("host,time,kb,title,operation,result,hresult\n")
		base := time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC)
		for i := range hosts {
			name := benchHostName(i)
			for j := range perHost {
				at := base.Add(time.Duration(j)*7*24*time.Hour + time.Duration(i%86400)*time.Second)
				kb := 5040000 + j*37
				result, code := "Succeeded", ""
				if (i+j)%10 == 0 {
					result, code = "Failed", "0x80070002"
				}
				fmt.Fprintf(w, "%s,%s,KB%d,%s Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB%d),Installation,%s,%s\n",
					name, at.Format(time.RFC3339), kb, at.Format("2006-01"), kb, result, code)
			}
		}
	})
	return path
}

func writeCSV(tb testing.TB, path string, fill func(*bufio.Writer)) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// The sqlite3 CLI's tables for the same files: the CSV's columns, with the
// unique keys the real schema has (hosts by name without case; history by
// host, time, update and operation, the update being the KB here since the
// file has no update_id).
const (
	sqliteHostsTable = `CREATE TABLE hosts (name TEXT NOT NULL COLLATE NOCASE UNIQUE, fqdn TEXT, address TEXT,
		os TEXT, os_build TEXT, "group" TEXT, last_report TEXT);`
	sqliteHistoryTable = `CREATE TABLE history (host TEXT NOT NULL, time TEXT NOT NULL, kb TEXT, title TEXT,
		operation TEXT NOT NULL, result TEXT, hresult TEXT, UNIQUE (host, time, kb, operation));`
)

// benchRounds is WSUSFIX_BENCH_ROUNDS, how many times each side of a
// comparison runs (alternately) so the best of each can be taken on a
// shared machine; 1 when unset.
func benchRounds(tb testing.TB) int {
	v := os.Getenv("WSUSFIX_BENCH_ROUNDS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 20 {
		tb.Fatalf("WSUSFIX_BENCH_ROUNDS=%q: want 1 to 20", v)
	}
	return n
}

// cost is what one side of a comparison took: wall time and the CPU time
// (user and system) of the process doing the work, which other load on
// the machine disturbs less.
type cost struct{ wall, cpu time.Duration }

// best keeps the lower of each.
func (c cost) best(o cost) cost {
	if c.wall == 0 || (o.wall > 0 && o.wall < c.wall) {
		c.wall = o.wall
	}
	if c.cpu == 0 || (o.cpu > 0 && o.cpu < c.cpu) {
		c.cpu = o.cpu
	}
	return c
}

// processCPU returns the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sqliteImport times the sqlite3 CLI's `.import --csv --skip 1` of csvPath
// into a fresh database holding create's table, WAL and synchronous FULL
// as the store's; it skips the benchmark when sqlite3 is not installed.
func sqliteImport(tb testing.TB, dir, create, table, csvPath string) cost {
	tb.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		tb.Skip("sqlite3 is not installed: no comparison")
	}
	db := filepath.Join(dir, "cli-"+table+".db")
	os.Remove(db)
	script := "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n" + create + "\n.import --csv --skip 1 " + csvPath + " " + table + "\n"
	cmd := exec.Command(bin, db)
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("sqlite3: %v\n%s", err, out)
	}
	return cost{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// driverImport is the floor under any import through the product's
// driver: it times csvPath read with encoding/csv and inserted through
// modernc.org/sqlite, the transpiled SQLite the store uses, into a fresh
// database holding create's table (the CLI's, so the same work as
// sqlite3's .import and nothing of the store's: no validation, indexes
// but the unique key, search index or summaries), WAL and synchronous FULL,
// in one transaction, rows per INSERT (1 is .import's own way). Its ratio
// to the CLI is as fast as an import can be with this driver.
func driverImport(tb testing.TB, dir, create, table, csvPath string, rows int) cost {
	tb.Helper()
	path := filepath.Join(dir, "driver-"+table+".db")
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(f)
	}
	db := openDriver(tb, path)
	defer db.Close()
	if _, err := db.Exec(create); err != nil {
		tb.Fatal(err)
	}
	return insertCSV(tb, db, table, csvPath, rows, nil, "")
}

// schemaImport is driverImport into the store's own hosts table, as the
// migrations make it (its indexes and search index), with nothing of the
// store's Go: the floor under a hosts import with this schema.
func schemaImport(tb *testing.B, dir, csvPath string, rows int) cost {
	tb.Helper()
	st := openBenchStore(tb, dir)
	st.Close()
	db := openDriver(tb, filepath.Join(dir, "wsusfix.db"))
	defer db.Close()
	now := time.Now().UnixMilli()
	return insertCSV(tb, db, "hosts (name, fqdn, address, os_caption, os_build, wsus_group, last_report_at, created_at, updated_at)",
		csvPath, rows, []any{now, now}, "INSERT INTO hosts_search (rowid, name) SELECT id, name FROM hosts")
}

// openDriver opens path through the driver alone, as the store's writer
// is opened: WAL, synchronous FULL, a 32 MiB page cache.
func openDriver(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-32768)")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// insertCSV times csvPath's rows inserted into target (a table and its
// columns), rows per INSERT, each row's cells followed by extra, then
// after (when not empty), in one transaction.
func insertCSV(tb testing.TB, db *sql.DB, target, csvPath string, rows int, extra []any, after string) cost {
	tb.Helper()
	start, cpu := time.Now(), processCPU()
	f, err := os.Open(csvPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		tb.Fatal(err)
	}
	cols := len(header) + len(extra)
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	stmts := map[int]*sql.Stmt{}
	insert := func(args []any) {
		n := len(args) / cols
		st := stmts[n]
		if st == nil {
			one := "(?" + strings.Repeat(",?", cols-1) + ")"
			if st, err = tx.Prepare("INSERT INTO " + target + " VALUES " + one + strings.Repeat(","+one, n-1)); err != nil {
				tb.Fatal(err)
			}
			stmts[n] = st
		}
		if _, err := st.Exec(args...); err != nil {
			tb.Fatal(err)
		}
	}
	args := make([]any, 0, rows*cols)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		for _, v := range rec {
			args = append(args, strings.Clone(v))
		}
		if args = append(args, extra...); len(args) == rows*cols {
			insert(args)
			args = args[:0]
		}
	}
	if len(args) > 0 {
		insert(args)
	}
	if after != "" {
		if _, err := tx.Exec(after); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return cost{wall: time.Since(start), cpu: processCPU() - cpu}
}
