package sheet

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// Format is a file format a list is exported in.
type Format string

// The export formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
	FormatJSON Format = "json"
)

// ContentType is the media type a format is served as.
func (f Format) ContentType() string {
	switch f {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatJSON:
		return "application/json"
	}
	return "text/csv; charset=utf-8"
}

// Kind is the type of a column's values.
type Kind int

// Column kinds: a spreadsheet stores times and numbers as such, so they
// sort and sum; JSON gives them their own types.
const (
	Text Kind = iota
	Time
	Int
	Bool
)

// Column is one column of an exported list: its name (a CSV and sheet
// header, a JSON field) and its kind.
type Column struct {
	Name string
	Kind Kind
}

// Col is a column called name holding values of kind k.
func Col(name string, k Kind) Column { return Column{Name: name, Kind: k} }

// Value is one cell: the field of its column's kind is the value. A zero
// Time is an empty cell (JSON null).
type Value struct {
	S string
	T time.Time
	N int64
	B bool
}

// S is a Text value.
func S(s string) Value { return Value{S: s} }

// T is a Time value; a zero time is an empty cell.
func T(t time.Time) Value { return Value{T: t} }

// N is an Int value.
func N(n int64) Value { return Value{N: n} }

// B is a Bool value.
func B(b bool) Value { return Value{B: b} }

// Table writes one list in one format, a row at a time, without holding
// the rows (XLSX keeps them in excelize's temporary file until Close).
type Table interface {
	// Row writes one row; vals follow the columns. It keeps nothing of
	// vals, which the caller may reuse for the next row.
	Row(vals []Value) error
	// Flush sends what is buffered, where the format allows (not XLSX).
	Flush() error
	// Close ends the file. It must be called once, after the last row.
	Close() error
	// Abort ends a list cut short, instead of Close: what the format can
	// send goes out (CSV and JSON, left unterminated, so the cut shows),
	// and whatever the table holds is let go (an XLSX's temporary file).
	Abort() error
}

// NewTable starts a list called name (XLSX's sheet name) in format f on w,
// with its header. Text cells of CSV and XLSX go through Cell, so no cell
// runs as a formula; JSON holds data for programs, which evaluate nothing,
// so its strings are exact.
func NewTable(w io.Writer, f Format, name string, cols []Column) (Table, error) {
	switch f {
	case FormatCSV:
		t := &csvTable{w: NewCSV(w), cols: cols}
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = c.Name
		}
		return t, t.w.Write(header)
	case FormatXLSX:
		return newXLSX(w, name, cols)
	case FormatJSON:
		t := &jsonTable{w: bufio.NewWriterSize(w, 32<<10), cols: cols}
		_, err := t.w.WriteString("[")
		return t, err
	}
	return nil, fmt.Errorf("sheet: unknown format %q", f)
}

// csvTable is a list as CSV: times in RFC 3339 UTC. Each cell, numbers
// and times too, goes through the guard as CSV.Write would pass it.
type csvTable struct {
	w    *CSV
	cols []Column
	num  []byte // a number or time being formatted, reused
}

func (t *csvTable) Row(vals []Value) error {
	b := t.w.line[:0]
	for i, c := range t.cols {
		if i > 0 {
			b = append(b, ',')
		}
		v := vals[i]
		switch c.Kind {
		case Time:
			if !v.T.IsZero() {
				t.num = v.T.UTC().AppendFormat(t.num[:0], time.RFC3339)
				b = appendField(b, t.num)
			}
		case Int:
			t.num = strconv.AppendInt(t.num[:0], v.N, 10)
			b = appendField(b, t.num)
		case Bool:
			b = appendField(b, strconv.FormatBool(v.B))
		default:
			b = appendField(b, v.S)
		}
	}
	t.w.line = b
	return t.w.end()
}

func (t *csvTable) Flush() error { t.w.Flush(); return t.w.Error() }
func (t *csvTable) Close() error { return t.Flush() }
func (t *csvTable) Abort() error { return t.Flush() }

// jsonTable is a list as a JSON array of objects keyed by column name.
type jsonTable struct {
	w    *bufio.Writer
	cols []Column
	n    int
}

func (t *jsonTable) Row(vals []Value) error {
	obj := make(map[string]any, len(t.cols))
	for i, c := range t.cols {
		v := vals[i]
		switch c.Kind {
		case Time:
			if v.T.IsZero() {
				obj[c.Name] = nil
			} else {
				obj[c.Name] = v.T.UTC().Format(time.RFC3339)
			}
		case Int:
			obj[c.Name] = v.N
		case Bool:
			obj[c.Name] = v.B
		default:
			obj[c.Name] = v.S
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	sep := ",\n"
	if t.n == 0 {
		sep = "\n"
	}
	t.n++
	if _, err := t.w.WriteString(sep); err != nil {
		return err
	}
	_, err = t.w.Write(b)
	return err
}

func (t *jsonTable) Flush() error { return t.w.Flush() }
func (t *jsonTable) Abort() error { return t.w.Flush() }

func (t *jsonTable) Close() error {
	if _, err := t.w.WriteString("\n]\n"); err != nil {
		return err
	}
	return t.w.Flush()
}

// xlsxTable is a list as one sheet of a workbook: a bold, frozen header
// row, typed cells (dates formatted as dates), and a table over the rows
// so every column has a filter.
type xlsxTable struct {
	out       io.Writer
	f         *excelize.File
	sw        *excelize.StreamWriter
	cols      []Column
	cells     []any // the row being written, reused
	row       int
	dateStyle int
}

// maxSheetName is Excel's limit on a sheet name's length.
const maxSheetName = 31

func newXLSX(w io.Writer, name string, cols []Column) (_ *xlsxTable, err error) {
	f := excelize.NewFile()
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	// The workbook's zip goes straight to w. excelize would otherwise
	// build the whole file in a buffer first (File.WriteToBuffer) and copy
	// it out, holding it all in memory; that buffer is only needed to
	// patch the headers of a part over 4 GB, which no export reaches.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if len(name) > maxSheetName {
		name = name[:maxSheetName]
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	dates, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: bold, Value: c.Name}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, err
	}
	return &xlsxTable{out: w, f: f, sw: sw, cols: cols, row: 1, dateStyle: dates}, nil
}

func ptr[T any](v T) *T { return &v }

func (t *xlsxTable) Row(vals []Value) error {
	t.row++
	// SetRow writes the cells out before it returns: one slice serves
	// every row, since each row's garbage brings the next collection closer.
	if t.cells == nil {
		t.cells = make([]any, len(t.cols))
	}
	cells := t.cells
	clear(cells)
	for i, c := range t.cols {
		v := vals[i]
		switch c.Kind {
		case Time:
			if !v.T.IsZero() {
				// Excel has no time zones: the sheet's times are UTC, as
				// its header says.
				cells[i] = excelize.Cell{StyleID: t.dateStyle, Value: v.T.UTC()}
			}
		case Int:
			cells[i] = v.N
		case Bool:
			cells[i] = v.B
		default:
			cells[i] = Cell(v.S)
		}
	}
	ref, err := excelize.CoordinatesToCellName(1, t.row)
	if err != nil {
		return err
	}
	return t.sw.SetRow(ref, cells)
}

// Flush does nothing: a workbook is a zip file, written whole at Close.
func (t *xlsxTable) Flush() error { return nil }

// Abort sends nothing (half a zip is no workbook) and removes the
// temporary file excelize keeps a large sheet in.
func (t *xlsxTable) Abort() error { return t.f.Close() }

func (t *xlsxTable) Close() error {
	defer t.f.Close()
	last, err := excelize.CoordinatesToCellName(len(t.cols), max(t.row, 2))
	if err != nil {
		return err
	}
	if err := t.sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "list", StyleName: "TableStyleLight9"}); err != nil {
		return err
	}
	if err := t.sw.Flush(); err != nil {
		return err
	}
	_, err = t.f.WriteTo(t.out)
	return err
}
