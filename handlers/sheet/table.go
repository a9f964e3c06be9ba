package sheet

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
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
// the rows: each format, XLSX too, sends them as they come.
type Table interface {
	// Row writes one row; vals follow the columns. It keeps nothing of
	// vals, which the caller may reuse for the next row.
	Row(vals []Value) error
	// Flush sends what is buffered (of XLSX, what its compressor has
	// finished).
	Flush() error
	// Close ends the file. It must be called once, after the last row.
	Close() error
	// Abort ends a list cut short, instead of Close: what the format can
	// send goes out, left unterminated so the cut shows (an XLSX without
	// its zip directory opens as no workbook).
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
		return newJSON(w, cols)
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

// jsonTable is a list as a JSON array of objects keyed by column name,
// the fields in the columns' order. Each object is built in one reused
// buffer: encoding/json's map per row took twice the CSV's time.
type jsonTable struct {
	w    *bufio.Writer
	cols []Column
	keys [][]byte // each column's `"name":`, encoded once
	line []byte   // the object being built, reused
	n    int
}

func newJSON(w io.Writer, cols []Column) (*jsonTable, error) {
	t := &jsonTable{w: bufio.NewWriterSize(w, 32<<10), cols: cols, keys: make([][]byte, len(cols))}
	for i, c := range cols {
		t.keys[i] = append(appendJSONString(nil, c.Name), ':')
	}
	_, err := t.w.WriteString("[")
	return t, err
}

func (t *jsonTable) Row(vals []Value) error {
	b := t.line[:0]
	if t.n == 0 {
		b = append(b, '\n')
	} else {
		b = append(b, ",\n"...)
	}
	t.n++
	b = append(b, '{')
	for i, c := range t.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t.keys[i]...)
		v := vals[i]
		switch c.Kind {
		case Time:
			if v.T.IsZero() {
				b = append(b, "null"...)
			} else {
				b = append(b, '"')
				b = v.T.UTC().AppendFormat(b, time.RFC3339)
				b = append(b, '"')
			}
		case Int:
			b = strconv.AppendInt(b, v.N, 10)
		case Bool:
			b = strconv.AppendBool(b, v.B)
		default:
			b = appendJSONString(b, v.S)
		}
	}
	b = append(b, '}')
	t.line = b
	_, err := t.w.Write(b)
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
