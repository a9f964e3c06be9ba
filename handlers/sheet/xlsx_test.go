package sheet_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"wsusfix/handlers/sheet"
)

// texts are cells that XML or Excel hold only when escaped, each with
// what it must read back as.
var texts = []struct{ in, want string }{
	{"a\rb", "a\rb"}, // XML readers turn a raw CR into LF
	{"x\x01y\x1f", "x\x01y\x1f"},
	{"_x0041_", "_x0041_"}, // a literal escape, not an A
	{`<&>"'`, `<&>"'`},
	{" lead", " lead"},
	{"trail\n", "trail\n"},
	{"\ttab", "'\ttab"}, // a spreadsheet skips a tab before a formula
	{"bad\xffbyte", "bad\uFFFDbyte"},
	{"smile 😀", "smile 😀"},
	{"=1+1", "'=1+1"},
	{strings.Repeat("a", 40_000), strings.Repeat("a", 32_766) + "…"}, // Excel's limit is 32,767
}

// textWorkbook exports texts as one column, then a row of each other
// kind.
func textWorkbook(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tb, err := sheet.NewTable(&buf, sheet.FormatXLSX, "Texts", []sheet.Column{sheet.Col("text", sheet.Text),
		sheet.Col("at", sheet.Time), sheet.Col("n", sheet.Int), sheet.Col("ok", sheet.Bool)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range texts {
		if err := tb.Row([]sheet.Value{sheet.S(c.in), sheet.T(time.Time{}), sheet.N(-7), sheet.B(false)}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(1899, 1, 2, 3, 4, 5, 0, time.UTC) // before Excel's dates
	if err := tb.Row([]sheet.Value{sheet.S(""), sheet.T(old), sheet.N(1 << 40), sheet.B(true)}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestXLSX_TextReadsBack ensures every text reads back from the workbook
// as it was given (guarded, cut at Excel's limit), with excelize.
func TestXLSX_TextReadsBack(t *testing.T) {
	t.Parallel()
	f, err := excelize.OpenReader(bytes.NewReader(textWorkbook(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Texts", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(texts)+2 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, c := range texts {
		if got := rows[i+1][0]; got != c.want {
			t.Errorf("%q read back as %q, want %q", trim(c.in), trim(got), trim(c.want))
		}
	}
	last := rows[len(rows)-1]
	if last[0] != "" || last[1] != "1899-01-02T03:04:05Z" || last[2] != "1099511627776" || last[3] != "1" {
		t.Errorf("last row %q: want no text, a time before 1900 as text, the number, TRUE", last)
	}
	if typ, _ := f.GetCellType("Texts", "A2"); typ != excelize.CellTypeInlineString {
		t.Errorf("A2 type %v", typ)
	}
}

// TestXLSX_OpenpyxlReads ensures a second, independent reader (openpyxl,
// in its read-only mode, which streams the sheet and trusts its
// dimension) reads every row with its type.
func TestXLSX_OpenpyxlReads(t *testing.T) {
	t.Parallel()
	python := openpyxl(t)
	path := filepath.Join(t.TempDir(), "texts.xlsx")
	if err := os.WriteFile(path, textWorkbook(t), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
ws = wb["Texts"]
rows = [[None if v is None else [type(v).__name__, str(v)] for v in r] for r in ws.iter_rows(values_only=True)]
print(json.dumps(rows))
`
	out, err := exec.Command(python, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var rows [][]*[2]string
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(texts)+2 {
		t.Fatalf("openpyxl read %d rows, want %d", len(rows), len(texts)+2)
	}
	if h := rows[0]; h[0] == nil || h[0][1] != "text" || h[3] == nil || h[3][1] != "ok" {
		t.Errorf("header %v", rows[0])
	}
	for i, c := range texts {
		got := rows[i+1]
		if got[0] == nil || got[0][0] != "str" || unescape(got[0][1]) != c.want {
			t.Errorf("%q read as %v, want %q", trim(c.in), got[0], trim(c.want))
		}
		if got[1] != nil || *got[2] != [2]string{"int", "-7"} || *got[3] != [2]string{"bool", "False"} {
			t.Errorf("row %d: %v %v %v, want no time, -7, False", i+2, got[1], got[2], got[3])
		}
	}
	last := rows[len(rows)-1]
	if last[0] != nil || *last[1] != [2]string{"str", "1899-01-02T03:04:05Z"} || *last[3] != [2]string{"bool", "True"} {
		t.Errorf("last row %v", last)
	}
	var dated bytes.Buffer
	tb, _ := sheet.NewTable(&dated, sheet.FormatXLSX, "Dates", []sheet.Column{sheet.Col("at", sheet.Time)})
	_ = tb.Row([]sheet.Value{sheet.T(time.Date(2026, 11, 30, 14, 5, 6, 0, time.FixedZone("CET", 3600)))})
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, dated.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(python, "-c", strings.ReplaceAll(script, `"Texts"`, `"Dates"`), path).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != `[[["str", "at"]], [["datetime", "2026-11-30 13:05:06"]]]` {
		t.Errorf("a time read as %s, want a datetime in UTC", got)
	}
}

// unescape undoes ECMA-376's _xHHHH_ escapes, which openpyxl leaves in an
// inline string (Excel and excelize read them).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i+7 <= len(s) && s[i+1] == 'x' && s[i+6] == '_' {
			var r rune
			ok := true
			for _, c := range s[i+2 : i+6] {
				switch {
				case '0' <= c && c <= '9':
					r = r<<4 | (c - '0')
				case 'A' <= c && c <= 'F':
					r = r<<4 | (c - 'A' + 10)
				case 'a' <= c && c <= 'f':
					r = r<<4 | (c - 'a' + 10)
				default:
					ok = false
				}
			}
			if ok {
				b.WriteRune(r)
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// openpyxl finds a Python with openpyxl (Debian's python3-openpyxl), or
// skips; with CI set it fails instead.
func openpyxl(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but python3-openpyxl is not installed")
	}
	t.Skip("no python3 with openpyxl (apt-get install python3-openpyxl)")
	return ""
}

// trim shortens a long text for a message.
func trim(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-10:]
	}
	return s
}

// FuzzXLSXText ensures any text reads back from a workbook as given:
// behind the guard's quote when dangerous, with each byte that is not
// UTF-8 as U+FFFD, and never as a formula.
func FuzzXLSXText(f *testing.F) {
	for _, c := range texts[:len(texts)-1] {
		f.Add(c.in)
	}
	f.Add("_x005F_x0041_")
	f.Add("_X0041_ _x004_ _xZZZZ_ __x0041__")
	f.Add("\uFFFE\uFFFF\x7f")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1000 {
			return // the cut at Excel's limit has its own case
		}
		var buf bytes.Buffer
		tb, err := sheet.NewTable(&buf, sheet.FormatXLSX, "F", []sheet.Column{sheet.Col("text", sheet.Text)})
		if err != nil {
			t.Fatal(err)
		}
		if err := tb.Row([]sheet.Value{sheet.S(s)}); err != nil {
			t.Fatal(err)
		}
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
		wb, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		defer wb.Close()
		got, _ := wb.GetCellValue("F", "A2", excelize.Options{RawCellValue: true})
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r) // RuneError for a byte that is not UTF-8
			i += n
		}
		if w := sheet.Cell(want.String()); got != w {
			t.Fatalf("%q read back as %q, want %q", s, got, w)
		}
		if fm, _ := wb.GetCellFormula("F", "A2"); fm != "" {
			t.Fatalf("%q became the formula %q", s, fm)
		}
	})
}
