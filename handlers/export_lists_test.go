package handlers_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/store"
	"wsusfix/store/hresult"
	"wsusfix/store/run"
)

// awkward are texts an export must carry cell for cell: formulas a
// spreadsheet would run, quotes, commas, line breaks, leading spaces and
// letters beyond ASCII.
var awkward = []string{"", "ok", `=HYPERLINK("http://x")`, "a, \"quoted\"\nsecond line", "+1", "Ünïcode ✓", " -2"}

// insertRuns writes n runs of hosts straight into the database file at
// path, in one transaction, as the store would have recorded them: every
// state (a host's queued or running run among its first), runs of the
// batches and alone, repairs and checks, several moments shared by three
// runs (the id orders them), durations to round, awkward summaries and
// requesters. Created through the store, a transaction or three each,
// thousands of runs would take a long while.
func insertRuns(tb testing.TB, path string, hosts, batches []int64, n int) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO runs (host_id, batch_id, procedure, requested_by, state, outcome, summary,
		created_at, started_at, finished_at, fail_hresult, fail_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	defer stmt.Close()
	ended := []struct{ state, outcome string }{{"succeeded", "repaired"}, {"failed", "still_failing"},
		{"cancelled", "cancelled"}, {"interrupted", "interrupted"}, {"succeeded", "checked"}, {"failed", "unreachable"}}
	who := []string{"olga", "bob, jr", "=cmd|' /C calc'!A0", "Ünïcode"}
	codes := []any{int64(0x80070002), int64(0x80070003), nil, int64(0x8BADF00D)}
	base := time.Date(2026, 10, 20, 17, 0, 0, 0, time.UTC)
	for i := range n {
		created := base.Add(-time.Duration(i/3) * 37 * time.Minute)
		var started, finished, batch any
		e := ended[i%len(ended)]
		state, outcome := e.state, e.outcome
		switch {
		case i < len(hosts) && i%5 == 0:
			state, outcome = "queued", ""
		case i < len(hosts) && i%5 == 1:
			state, outcome = "running", ""
			started = created.Add(3 * time.Second).UnixMilli()
		case state == "cancelled" && i%2 == 0: // cancelled while queued
			finished = created.Add(time.Minute).UnixMilli()
		default:
			start := created.Add(3 * time.Second)
			started, finished = start.UnixMilli(), start.Add(time.Duration(i%600)*time.Second+499*time.Millisecond).UnixMilli()
		}
		if i%4 == 0 {
			batch = batches[i/4%len(batches)]
		}
		proc := "repair"
		if i%3 == 0 {
			proc = "check"
		}
		if _, err := stmt.Exec(hosts[i%len(hosts)], batch, proc, who[i%len(who)], state, outcome, awkward[i%len(awkward)],
			created.UnixMilli(), started, finished, codes[i%len(codes)], created.Add(-time.Hour).UnixMilli()); err != nil {
			tb.Fatalf("run %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// historyEntries are n entries of host's update history: every result,
// source and operation, codes known and not, entries without a KB, three
// entries at each moment (the id orders them) and awkward titles. Entry i
// has update id prefix-i.
func historyEntries(host, prefix string, n int, newest time.Time) []store.EventInput {
	results := []run.UpdateResult{run.ResultSucceeded, run.ResultFailed, run.ResultSucceededWithErrors, run.ResultAborted, run.ResultInProgress}
	codes := []uint32{0, 0x80070002, 0x8024402C, 0x8BADF00D}
	sources := []string{store.SourceWSUS, store.SourceHost, store.SourceImport, store.SourceRepair}
	out := make([]store.EventInput, n)
	for i := range out {
		e := store.EventInput{HostName: host, At: newest.Add(-time.Duration(i/3) * 5 * time.Hour), UpdateID: prefix + strconv.Itoa(i),
			KB: fmt.Sprintf("KB50%05d", i), Title: awkward[i%len(awkward)], Operation: "Installation",
			Result: results[i%len(results)], HResult: codes[i%len(codes)], Source: sources[i%len(sources)]}
		if i%9 == 0 {
			e.KB = ""
		}
		if i%11 == 0 {
			e.Operation = "Uninstallation"
		}
		out[i] = e
	}
	return out
}

// runCols and historyCols are the columns the runs and history exports
// have always had, written out again here so a change to them shows.
var (
	runCols = []sheet.Column{sheet.Col("run", sheet.Int), sheet.Col("host", sheet.Text), sheet.Col("procedure", sheet.Text),
		sheet.Col("batch", sheet.Int), sheet.Col("state", sheet.Text), sheet.Col("outcome", sheet.Text), sheet.Col("summary", sheet.Text),
		sheet.Col("requested_by", sheet.Text), sheet.Col("created_at", sheet.Time), sheet.Col("started_at", sheet.Time),
		sheet.Col("finished_at", sheet.Time), sheet.Col("duration_s", sheet.Int)}
	historyCols = []sheet.Column{sheet.Col("host", sheet.Text), sheet.Col("time", sheet.Time), sheet.Col("kb", sheet.Text),
		sheet.Col("title", sheet.Text), sheet.Col("operation", sheet.Text), sheet.Col("result", sheet.Text), sheet.Col("hresult", sheet.Text),
		sheet.Col("symbol", sheet.Text), sheet.Col("source", sheet.Text), sheet.Col("update_id", sheet.Text)}
)

// referenceRuns are the rows of the runs export as the runs page's own
// read gives them: every run the filter selects, newest first.
func referenceRuns(t *testing.T, st *store.Store, f store.RunFilter) [][]sheet.Value {
	t.Helper()
	runs, total, err := st.Runs(context.Background(), f)
	if err != nil || len(runs) != total {
		t.Fatalf("runs: %d of %d, %v", len(runs), total, err)
	}
	// The order is checked here too, since the export and this read
	// share it: a change to it must show.
	if !slices.IsSortedFunc(runs, func(a, b store.Run) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	}) {
		t.Fatal("the runs are not newest first, the id breaking ties")
	}
	var rows [][]sheet.Value
	for _, rn := range runs {
		var took int64
		if !rn.StartedAt.IsZero() && !rn.FinishedAt.IsZero() {
			took = int64(rn.FinishedAt.Sub(rn.StartedAt).Round(time.Second) / time.Second)
		}
		rows = append(rows, []sheet.Value{sheet.N(rn.ID), sheet.S(rn.HostName), sheet.S(string(rn.Procedure)),
			sheet.N(rn.BatchID), sheet.S(string(rn.State)), sheet.S(string(rn.Outcome)), sheet.S(rn.Summary),
			sheet.S(rn.RequestedBy), sheet.T(rn.CreatedAt), sheet.T(rn.StartedAt), sheet.T(rn.FinishedAt), sheet.N(took)})
	}
	return rows
}

// referenceHistory are the rows of a host's history export as the host
// page's own read gives them: the whole history, newest first.
func referenceHistory(t *testing.T, st *store.Store, name string) [][]sheet.Value {
	t.Helper()
	ctx := context.Background()
	h, err := st.HostByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	_, total, err := st.History(ctx, h.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := st.History(ctx, h.ID, total+1, 0)
	if err != nil || len(events) != total {
		t.Fatalf("history: %d of %d, %v", len(events), total, err)
	}
	if !slices.IsSortedFunc(events, func(a, b store.UpdateEvent) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
	}) {
		t.Fatal("the history is not newest first, the id breaking ties")
	}
	var rows [][]sheet.Value
	for _, e := range events {
		d := hresult.Decode(hresult.Code(e.HResult))
		rows = append(rows, []sheet.Value{sheet.S(h.Name), sheet.T(e.At), sheet.S(e.KB), sheet.S(e.Title), sheet.S(e.Operation),
			sheet.S(string(e.Result)), sheet.S(d.Code.String()), sheet.S(d.Symbol), sheet.S(e.Source), sheet.S(e.UpdateID)})
	}
	return rows
}

// writeTable writes rows as a file of format, through package sheet as
// the exports do.
func writeTable(t *testing.T, format sheet.Format, title string, cols []sheet.Column, rows [][]sheet.Value) []byte {
	t.Helper()
	var buf bytes.Buffer
	tb, err := sheet.NewTable(&buf, format, title, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := tb.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameExport fails the test unless got, an export's body, holds what
// want does: byte for byte for CSV and JSON; for a workbook, whose zip
// records when each part was written, every part byte for byte.
func sameExport(t *testing.T, what string, format sheet.Format, got, want []byte) {
	t.Helper()
	if format == sheet.FormatXLSX {
		got, want = xlsxParts(t, got), xlsxParts(t, want)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: differs from the reference\n got %q\nwant %q", what, firstDiff(got, want), firstDiff(want, got))
	}
}

// xlsxParts is a workbook's parts, each named and followed by its bytes,
// in the zip's order: the workbook without the times the zip keeps.
func xlsxParts(t *testing.T, b []byte) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString("\n--- " + f.Name + "\n")
		if _, err := io.Copy(&out, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	return out.Bytes()
}

// formats are the formats every list exports in.
var formats = []sheet.Format{sheet.FormatCSV, sheet.FormatJSON, sheet.FormatXLSX}

// TestExportRuns_MatchesReference ensures the runs export, in every
// format and under each of the runs list's filters, holds the runs the
// runs page's read selects, in its order (newest first, the id breaking
// ties), each cell as it always was: over more than two thousand runs,
// so a list read in parts is read across their seams.
func TestExportRuns_MatchesReference(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(30)
	a.seed(t, hosts, fails)
	ctx := context.Background()
	var ids []int64
	for _, h := range hosts {
		got, err := a.st.HostByName(ctx, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	var batches []int64
	for _, d := range []string{"one", "two"} {
		b, err := a.st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "olga", Description: d})
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b.ID)
	}
	insertRuns(t, a.dbPath, ids, batches, 2345)

	code := uint32(0x80070002)
	for _, tt := range []struct {
		query string
		f     store.RunFilter
		least int // rows the reference must hold for the case to test anything
	}{
		{"", store.RunFilter{}, 2345},
		{"?host=PC-00", store.RunFilter{Host: "PC-00"}, 700},
		{"?state=succeeded", store.RunFilter{State: run.StateSucceeded}, 700},
		{"?who=olga", store.RunFilter{Who: "olga"}, 500},
		{"?batch=" + strconv.FormatInt(batches[1], 10), store.RunFilter{BatchID: batches[1]}, 200},
		{"?code=0x80070002", store.RunFilter{Code: code}, 300},
		{"?from=2026-10-05&to=2026-10-09", store.RunFilter{Since: time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC),
			Until: time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)}, 500},
	} {
		rows := referenceRuns(t, a.st, tt.f)
		if len(rows) < tt.least {
			t.Fatalf("%q: the reference holds %d runs, fewer than %d: the case tests little", tt.query, len(rows), tt.least)
		}
		for _, format := range formats {
			if format == sheet.FormatXLSX && tt.query != "" && tt.query != "?host=PC-00" {
				continue // a workbook takes a while; two cases show its cells
			}
			_, got := a.download(t, "/export/runs."+string(format)+tt.query)
			sameExport(t, string(format)+tt.query, format, got, writeTable(t, format, "Runs", runCols, rows))
		}
	}
}

// TestExportHistory_MatchesReference ensures a host's history export, in
// every format, holds the host's whole history as the host page's read
// gives it, in its order (newest first, the id breaking ties), each cell
// as it always was, and nothing of another host's: over more than two
// thousand entries, so a list read in parts is read across their seams.
func TestExportHistory_MatchesReference(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(3)
	a.seed(t, hosts, fails)
	newest := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ev := append(historyEntries("PC-000", "u-", 2345, newest), historyEntries("PC-001", "u-", 1200, newest)...)
	if _, err := a.st.AddUpdateEvents(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	rows := referenceHistory(t, a.st, "PC-000")
	if len(rows) != 2346 {
		t.Fatalf("the reference holds %d entries, want 2346", len(rows))
	}
	for _, format := range formats {
		_, got := a.download(t, "/hosts/PC-000/history."+string(format))
		sameExport(t, string(format), format, got, writeTable(t, format, "History", historyCols, rows))
	}
	_, got := a.download(t, "/hosts/pc-002/history.csv")
	sameExport(t, "a host with one entry", sheet.FormatCSV, got,
		writeTable(t, sheet.FormatCSV, "History", historyCols, referenceHistory(t, a.st, "PC-002")))
}
