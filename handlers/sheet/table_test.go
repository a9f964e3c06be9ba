package sheet_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wsusfix/handlers/sheet"
)

var (
	cols = []sheet.Column{sheet.Col("host", sheet.Text), sheet.Col("failed_at", sheet.Time), sheet.Col("hosts", sheet.Int), sheet.Col("applies", sheet.Bool)}
	when = time.Date(2026, 11, 30, 14, 5, 6, 0, time.UTC)
	rows = [][]sheet.Value{
		{sheet.S("=HYPERLINK(\"http://x\")"), sheet.T(when), sheet.N(47), sheet.B(true)},
		{sheet.S("PC-2"), sheet.T(time.Time{}), sheet.N(0), sheet.B(false)},
	}
)

// write exports rows in format f.
func write(t *testing.T, f sheet.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	tb, err := sheet.NewTable(&buf, f, "Failing hosts", cols)
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

// TestTable_XLSX ensures a workbook opened back has its header frozen and
// filtered, dates as dates, numbers as numbers, and no text cell a
// formula.
func TestTable_XLSX(t *testing.T) {
	t.Parallel()
	f, err := excelize.OpenReader(bytes.NewReader(write(t, sheet.FormatXLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "Failing hosts" {
		t.Fatalf("sheets %q", got)
	}
	const s = "Failing hosts"
	if v, _ := f.GetCellValue(s, "A1"); v != "host" {
		t.Errorf("A1 %q", v)
	}
	if v, _ := f.GetCellValue(s, "A2"); v != `'=HYPERLINK("http://x")` {
		t.Errorf("A2 %q: a formula-like text must be guarded", v)
	}
	if fm, _ := f.GetCellFormula(s, "A2"); fm != "" {
		t.Errorf("A2 holds the formula %q", fm)
	}
	if typ, _ := f.GetCellType(s, "C2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("C2 type %v, want a number", typ)
	}
	if v, _ := f.GetCellValue(s, "C2"); v != "47" {
		t.Errorf("C2 %q", v)
	}
	raw, _ := f.GetCellValue(s, "B2", excelize.Options{RawCellValue: true})
	if shown, _ := f.GetCellValue(s, "B2"); shown != "2026-11-30 14:05:06" || raw == shown {
		t.Errorf("B2 shows %q (raw %q): want a date cell formatted as one", shown, raw)
	}
	if v, _ := f.GetCellValue(s, "D2"); v != "TRUE" {
		t.Errorf("D2 %q, want a boolean", v)
	}
	panes, err := f.GetPanes(s)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
	}
	tables, err := f.GetTables(s)
	if err != nil || len(tables) != 1 || tables[0].Range != "A1:D3" {
		t.Errorf("tables %+v, %v: want one over A1:D3, which gives each column a filter", tables, err)
	}
}

// TestTable_CSVAndJSON ensures CSV keeps the guard and RFC 3339 times, and
// JSON keeps types, nulls an empty time, and the text exact.
func TestTable_CSVAndJSON(t *testing.T) {
	t.Parallel()
	recs, err := csv.NewReader(bytes.NewReader(write(t, sheet.FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][0] != `'=HYPERLINK("http://x")` || recs[1][1] != "2026-11-30T14:05:06Z" || recs[1][2] != "47" ||
		recs[1][3] != "true" || recs[2][1] != "" {
		t.Errorf("csv %q", recs)
	}
	var got []map[string]any
	if err := json.Unmarshal(write(t, sheet.FormatJSON), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["host"] != `=HYPERLINK("http://x")` || got[0]["failed_at"] != "2026-11-30T14:05:06Z" ||
		got[0]["hosts"] != float64(47) || got[0]["applies"] != true || got[1]["failed_at"] != nil {
		t.Errorf("json %v", got)
	}
	var empty []map[string]any
	var buf bytes.Buffer
	tb, _ := sheet.NewTable(&buf, sheet.FormatJSON, "x", cols)
	if err := tb.Close(); err != nil || json.Unmarshal(buf.Bytes(), &empty) != nil || empty == nil || len(empty) != 0 {
		t.Errorf("an empty JSON list: %q, %v", buf.String(), err)
	}
}

// TestTable_CSVCellsOfEveryKind ensures a CSV list writes numbers, times
// and booleans as text through the same guard as text cells (a negative
// number, which a spreadsheet would read as a formula, is quoted), and
// quotes only what needs it.
func TestTable_CSVCellsOfEveryKind(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tb, err := sheet.NewTable(&buf, sheet.FormatCSV, "x", cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][]sheet.Value{
		{sheet.S("a,b"), sheet.T(when.In(time.FixedZone("CET", 3600))), sheet.N(-5), sheet.B(true)},
		{sheet.S(" x"), sheet.T(time.Time{}), sheet.N(1234567890123), sheet.B(false)},
	} {
		if err := tb.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	want := "host,failed_at,hosts,applies\n" +
		`"a,b",2026-11-30T14:05:06Z,'-5,true` + "\n" +
		`" x",,1234567890123,false` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("CSV\n%q\nwant\n%q", got, want)
	}
}

// TestTable_XLSXStreams ensures an Excel export sends its rows as they
// come, with nothing in a temporary file (excelize's stream writer held
// 16 MiB in memory, then the rest on disk, and sent nothing before the
// end), and that one cut short is no workbook, while one closed is. Its
// memory is the benchmark's (BenchmarkXLSX).
func TestTable_XLSXStreams(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where a temporary file would go
	cols := make([]sheet.Column, 12)
	for i := range cols {
		cols[i] = sheet.Col(fmt.Sprintf("col%d", i), sheet.Text)
	}
	vals := make([]sheet.Value, len(cols))
	for i := range vals {
		vals[i] = sheet.S(fmt.Sprintf("%d-%s", i, strings.Repeat("x", 100)))
	}
	const rows, flushEvery = 4_000, 1_000 // 5 MB of cells
	export := func(end func(sheet.Table) error) (sent []int, body []byte) {
		var out bytes.Buffer
		tb, err := sheet.NewTable(&out, sheet.FormatXLSX, "Cut", cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if err := tb.Row(vals); err != nil {
				t.Fatal(err)
			}
			if i%flushEvery == flushEvery-1 {
				if err := tb.Flush(); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, out.Len())
			}
		}
		if err := end(tb); err != nil {
			t.Fatal(err)
		}
		return sent, out.Bytes()
	}
	sent, cut := export(sheet.Table.Abort)
	for i := 1; i < len(sent); i++ {
		if sent[i] <= sent[i-1] {
			t.Errorf("sent %v bytes after each %d rows: want more after each", sent, flushEvery)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("temporary files: %v", left)
	}
	if _, err := zip.NewReader(bytes.NewReader(cut), int64(len(cut))); err == nil {
		t.Errorf("an export cut short after %d bytes reads as a whole zip", len(cut))
	}
	_, whole := export(sheet.Table.Close)
	f, err := excelize.OpenReader(bytes.NewReader(whole))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("Cut")
	if err != nil || len(got) != rows+1 || got[rows][11] != vals[11].S {
		t.Errorf("%d rows read back (%v), want %d and a header", len(got), err, rows)
	}
}
