package sheet

import (
	"bytes"
	"encoding/csv"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDangerous ensures the cells spreadsheets would run are caught,
// whatever control characters or spaces come first, and ordinary text,
// including text with those characters later on, is not.
func TestDangerous(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"PC-001", false},
		{"2026-10 Cumulative Update", false},
		{"Microsoft Windows 11", false},
		{" leading space", false},
		{"a=b", false},
		{"=1+1", true},
		{"+1", true},
		{"-5", true},
		{"@SUM(A1)", true},
		{"\x00=HYPERLINK(\"http://x\")", true},
		{"\x00\x00+1", true},
		{" =1", true},
		{"  \t @x", true},
		{"\r\n-1", true},
		{"\x00", true},
		{"\tplain", true},
		{"\rplain", true},
		{"\nplain", true},
		{"\x00plain", true},
		{" \x00plain", false},
		{"＝1", false}, // a full-width sign is text to spreadsheets
	}
	for _, tt := range tests {
		if got := Dangerous(tt.in); got != tt.want {
			t.Errorf("Dangerous(%q) = %v, want %v", tt.in, got, tt.want)
		}
		want := tt.in
		if tt.want {
			want = "'" + tt.in
		}
		if got := Cell(tt.in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

// FuzzCell ensures that, for any text, the cell written is the text itself
// or the text behind one quote; that no written cell, read back from the
// CSV, would start a formula; and that a quoted cell was dangerous.
func FuzzCell(f *testing.F) {
	for _, s := range []string{"", "x", "=1+1", "\x00=1+1", " \t\r\n@A1", "-", "'=x", "a,b\"c\nd", "\xff=", " ", "\x00 \x00-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Cell(s)
		if c != s && c != "'"+s {
			t.Fatalf("Cell(%q) = %q: neither the text nor the text behind a quote", s, c)
		}
		if (c != s) != Dangerous(s) {
			t.Fatalf("Cell(%q) = %q, Dangerous %v", s, c, Dangerous(s))
		}
		var buf bytes.Buffer
		w := NewCSV(&buf)
		if err := w.Write([]string{s, "next"}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.LazyQuotes = true
		rec, err := r.Read()
		if err != nil {
			return // text csv itself cannot carry (a lone CR, say) is not this package's concern
		}
		got := rec[0]
		if got != "" && got[0] != '\'' && Dangerous(got) {
			t.Fatalf("cell %q reads back as %q, which a spreadsheet would run", s, got)
		}
	})
}

// TestOneWriter ensures every spreadsheet writer in the product goes
// through this package: no other non-test Go file of the module calls
// encoding/csv's NewWriter or imports a spreadsheet library.
func TestOneWriter(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	here, _ := filepath.Abs(".")
	banned := []string{"github.com/xuri/excelize", "github.com/tealeg/xlsx", "github.com/360EntSecGroup-Skylar/excelize"}
	var offenders []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if abs, _ := filepath.Abs(filepath.Dir(path)); abs == here {
			return nil
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		csvName := ""
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if slices.ContainsFunc(banned, func(b string) bool { return strings.HasPrefix(p, b) }) {
				offenders = append(offenders, path+": imports "+p)
			}
			if p == "encoding/csv" {
				csvName = "csv"
				if imp.Name != nil {
					csvName = imp.Name.Name
				}
			}
		}
		if csvName == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewWriter" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == csvName {
					offenders = append(offenders, path+": calls "+csvName+".NewWriter")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files scanned: the walk missed the module", files)
	}
	for _, o := range offenders {
		t.Errorf("%s: write spreadsheets with wsusfix/handlers/sheet, so every cell is guarded", o)
	}
}

// referenceCSV is a record as encoding/csv writes it with every cell
// through Cell: what CSV must write, byte for byte.
func referenceCSV(t *testing.T, row []string) string {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	guarded := make([]string, len(row))
	for i, s := range row {
		guarded[i] = Cell(s)
	}
	if err := w.Write(guarded); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return buf.String()
}

// writeCSV is a record as CSV writes it.
func writeCSV(t *testing.T, row []string) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewCSV(&buf)
	if err := w.Write(slices.Clone(row)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// csvCases are cells encoding/csv quotes, or not, for each of its reasons.
var csvCases = []string{"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\ronly", "crlf\r\n", " lead", "\tlead",
	"\u00a0nbsp", "\u2003em space", `\.`, `\.\.`, "trail ", "=1+1", "\x00=1+1", " =1", "-5", "+", "@A1", "'=x",
	"=a,\"b\"\n", "\xff\xfe", "é", "\x00", "\t", "\r\n=x", "2026-10-01T09:00:00Z", "0", "true"}

// TestCSV_AsEncodingCSV ensures CSV writes each record byte for byte as
// encoding/csv writes the same cells through Cell, alone and side by side.
func TestCSV_AsEncodingCSV(t *testing.T) {
	for _, s := range csvCases {
		for _, row := range [][]string{{s}, {s, s}, {"x", s, "y"}} {
			if got, want := writeCSV(t, row), referenceCSV(t, row); got != want {
				t.Errorf("%q: wrote %q, encoding/csv %q", row, got, want)
			}
		}
	}
}

// FuzzCSV_AsEncodingCSV is TestCSV_AsEncodingCSV for any two cells.
func FuzzCSV_AsEncodingCSV(f *testing.F) {
	for _, s := range csvCases {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := writeCSV(t, []string{a, b}), referenceCSV(t, []string{a, b}); got != want {
			t.Fatalf("%q, %q: wrote %q, encoding/csv %q", a, b, got, want)
		}
	})
}
