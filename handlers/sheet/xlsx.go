package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxTable is a list as one sheet of a workbook: a bold, frozen header
// row, typed cells (dates formatted as dates), and a table over the rows
// so every column has a filter.
//
// The rows go straight into the workbook's zip on the response, as they
// come. excelize builds everything else: the styles, the table and its
// filter, the relationships, the content types, and the sheet's XML
// around its rows, which is cut at the rows' place (head and tail). Its
// StreamWriter is not used for the rows because it holds them in memory
// until they pass a fixed 16 MiB (excelize's StreamChunkSize, not
// configurable: qax-os/excelize#1927), then in a temporary file until the
// workbook is written: a 100,000-row export grew the heap by about 60 MB
// and kept the hosts' data on disk, and nothing reached the browser until
// the last row had been read.
type xlsxTable struct {
	f         *excelize.File // the workbook without its rows
	name      string         // the sheet's name
	zw        *zip.Writer    // the workbook, on the response
	part      string         // the sheet's part in the zip
	rows      *bufio.Writer  // the sheet's part being written
	cols      []Column
	refs      []string // each column's letters, for cell references
	row       int      // the last row written; the header is 1
	dateStyle int
	line      []byte // the row being built, reused
	done      bool
}

// maxSheetName is Excel's limit on a sheet name's length.
const maxSheetName = 31

// tableName names the table over the rows, which gives each column its
// filter.
const tableName = "list"

// xlsxBuffer is how much of the sheet waits before it is compressed into
// the zip.
const xlsxBuffer = 64 << 10

func newXLSX(w io.Writer, name string, cols []Column) (_ *xlsxTable, err error) {
	if len(cols) == 0 {
		return nil, errors.New("sheet: a sheet needs a column")
	}
	f := excelize.NewFile()
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	if len(name) > maxSheetName {
		name = name[:maxSheetName]
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
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
	t := &xlsxTable{f: f, name: name, cols: cols, row: 1, dateStyle: dates, refs: make([]string, len(cols))}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = Cell(c.Name)
		if t.refs[i], err = excelize.ColumnNumberToName(i + 1); err != nil {
			return nil, err
		}
	}
	if err := f.SetSheetRow(name, "A1", &header); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(name, "A1", t.refs[len(cols)-1]+"1", bold); err != nil {
		return nil, err
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	// The table's range is known only at Close, where it is made again;
	// made now, it puts into the sheet's head the namespace its reference
	// in the tail needs.
	if err := t.addTable(2); err != nil {
		return nil, err
	}
	p, err := t.parts()
	if err != nil {
		return nil, err
	}
	head, _, err := p.sheet()
	if err != nil {
		return nil, err
	}
	t.part = p.sheetName
	t.zw = zip.NewWriter(w)
	part, err := t.zw.Create(t.part)
	if err != nil {
		return nil, err
	}
	t.rows = bufio.NewWriterSize(part, xlsxBuffer)
	_, err = t.rows.Write(withoutDimension(head))
	return t, err
}

func ptr[T any](v T) *T { return &v }

// addTable puts the table over the header and the rows down to row last.
func (t *xlsxTable) addTable(last int) error {
	return t.f.AddTable(t.name, &excelize.Table{Range: "A1:" + t.refs[len(t.refs)-1] + strconv.Itoa(last),
		Name: tableName, StyleName: "TableStyleLight9"})
}

// parts writes the workbook, as it stands, into memory: without its rows
// it is a few kilobytes.
func (t *xlsxTable) parts() (*workbookParts, error) {
	p := &workbookParts{data: map[string]*bytes.Buffer{}}
	t.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return p })
	if _, err := t.f.WriteTo(io.Discard); err != nil {
		return nil, err
	}
	return p, nil
}

func (t *xlsxTable) Row(vals []Value) error {
	t.row++
	r := strconv.Itoa(t.row)
	b := append(t.line[:0], `<row r="`...)
	b = append(b, r...)
	b = append(b, `">`...)
	for i, c := range t.cols {
		v := vals[i]
		switch c.Kind {
		case Time:
			if !v.T.IsZero() {
				b = t.appendTime(b, t.refs[i], r, v.T)
			}
		case Int:
			b = appendCellStart(b, t.refs[i], r, 0, "")
			b = strconv.AppendInt(b, v.N, 10)
			b = append(b, "</v></c>"...)
		case Bool:
			b = appendCellStart(b, t.refs[i], r, 0, "b")
			b = append(b, "01"[boolIndex(v.B)])
			b = append(b, "</v></c>"...)
		default:
			if v.S != "" {
				b = appendText(b, t.refs[i], r, Cell(v.S))
			}
		}
	}
	b = append(b, "</row>"...)
	t.line = b
	_, err := t.rows.Write(b)
	return err
}

// Flush compresses what waits of the sheet and sends what the compressor
// has completed; the rest follows with later rows.
func (t *xlsxTable) Flush() error {
	if err := t.rows.Flush(); err != nil {
		return err
	}
	return t.zw.Flush()
}

// Abort leaves the zip without its directory, so the cut shows: half a
// zip opens as no workbook. Nothing is held on disk.
func (t *xlsxTable) Abort() error {
	t.done = true
	return t.f.Close()
}

// Close ends the sheet with the tail excelize writes after the rows (the
// table's reference), then adds the rest of the workbook and the zip's
// directory.
func (t *xlsxTable) Close() error {
	if t.done {
		return errors.New("sheet: table already ended")
	}
	t.done = true
	defer t.f.Close()
	if err := t.f.DeleteTable(tableName); err != nil {
		return err
	}
	if err := t.addTable(max(t.row, 2)); err != nil {
		return err
	}
	p, err := t.parts()
	if err != nil {
		return err
	}
	_, tail, err := p.sheet()
	if err != nil {
		return err
	}
	if p.sheetName != t.part {
		return fmt.Errorf("sheet: the sheet's part moved from %s to %s", t.part, p.sheetName)
	}
	if _, err := t.rows.Write(tail); err != nil {
		return err
	}
	if err := t.rows.Flush(); err != nil {
		return err
	}
	for _, name := range p.names {
		if name == t.part {
			continue
		}
		w, err := t.zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := p.data[name].WriteTo(w); err != nil {
			return err
		}
	}
	return t.zw.Close()
}

// workbookParts is the ZipWriter excelize writes a workbook into: it
// keeps each part in memory, in order.
type workbookParts struct {
	names     []string
	data      map[string]*bytes.Buffer
	sheetName string
}

func (p *workbookParts) Create(name string) (io.Writer, error) {
	if _, ok := p.data[name]; ok {
		return nil, fmt.Errorf("sheet: the workbook's part %s written twice", name)
	}
	b := new(bytes.Buffer)
	p.names = append(p.names, name)
	p.data[name] = b
	return b, nil
}

// AddFS is how excelize would add parts of a workbook it opened; a new
// workbook has none.
func (p *workbookParts) AddFS(fs.FS) error {
	return errors.New("sheet: unexpected parts from a file system")
}

func (p *workbookParts) Close() error { return nil }

// sheet returns the sheet's XML cut where its rows end: head holds the
// header row, tail begins with the end of the rows.
func (p *workbookParts) sheet() (head, tail []byte, err error) {
	for _, name := range p.names {
		if strings.HasPrefix(name, "xl/worksheets/sheet") && strings.HasSuffix(name, ".xml") {
			if p.sheetName != "" {
				return nil, nil, errors.New("sheet: the workbook has more than one sheet")
			}
			p.sheetName = name
		}
	}
	if p.sheetName == "" {
		return nil, nil, errors.New("sheet: the workbook has no sheet")
	}
	x := p.data[p.sheetName].Bytes()
	i := bytes.Index(x, []byte("</sheetData>"))
	if i < 0 {
		return nil, nil, fmt.Errorf("sheet: %s has no rows' end", p.sheetName)
	}
	return x[:i], x[i:], nil
}

// withoutDimension drops the sheet's dimension element, which names the
// cells in use: written before the rows, it would name the header alone,
// and readers that trust it (openpyxl's read-only mode) would see no rows.
// It is optional (ECMA-376 Part 1: CT_Worksheet gives it minOccurs 0).
func withoutDimension(head []byte) []byte {
	i := bytes.Index(head, []byte("<dimension"))
	if i < 0 {
		return head
	}
	j := bytes.IndexByte(head[i:], '>')
	if j < 0 {
		return head
	}
	end := i + j + 1
	if head[end-2] != '/' { // <dimension ref="A1"></dimension>
		k := bytes.Index(head[end:], []byte("</dimension>"))
		if k < 0 {
			return head
		}
		end += k + len("</dimension>")
	}
	return append(head[:i:i], head[end:]...)
}

// appendCellStart opens a cell at column col of row r with style s (0 for
// none) and type typ ("" for a number), up to its value.
func appendCellStart(b []byte, col, r string, s int, typ string) []byte {
	b = append(b, `<c r="`...)
	b = append(b, col...)
	b = append(b, r...)
	b = append(b, '"')
	if s != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(s), 10)
		b = append(b, '"')
	}
	if typ != "" {
		b = append(b, ` t="`...)
		b = append(b, typ...)
		b = append(b, '"')
	}
	return append(b, "><v>"...)
}

// unixDay0 is 1970-01-01 as a serial number of Excel's 1900 date system,
// which counts days from 1899-12-30 for dates from 1900-03-01 on (it takes
// 1900 for a leap year, ECMA-376 Part 1, 18.17.4.1).
const unixDay0 = 25569

// Serial numbers Excel can show as dates: 1900-03-01 (61) to 9999-12-31.
const (
	firstSerial = 61
	lastSerial  = 2958465
)

// appendTime writes a time as Excel's serial number (days since its epoch,
// the fraction the time of day), formatted as a date. A time Excel cannot
// show as one is written as RFC 3339 text.
func (t *xlsxTable) appendTime(b []byte, col, r string, at time.Time) []byte {
	at = at.UTC() // Excel has no time zones: the sheet's times are UTC
	serial := unixDay0 + float64(at.Unix())/86400 + float64(at.Nanosecond())/86400e9
	if serial < firstSerial || serial >= lastSerial+1 {
		return appendText(b, col, r, at.Format(time.RFC3339Nano))
	}
	b = appendCellStart(b, col, r, t.dateStyle, "")
	b = strconv.AppendFloat(b, serial, 'f', -1, 64)
	return append(b, "</v></c>"...)
}

func boolIndex(v bool) int {
	if v {
		return 1
	}
	return 0
}
