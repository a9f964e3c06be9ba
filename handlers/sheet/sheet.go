// Package sheet writes the lists wsusfix exports (CSV, XLSX, and JSON for
// programs) so that no cell can run as a formula when someone opens the
// file. Every writer of a spreadsheet format in the product goes through
// Cell, here and nowhere else; a test fails when encoding/csv's writer or
// a spreadsheet library is used in any other package.
package sheet

import (
	"bufio"
	"io"
	"unicode"
	"unicode/utf8"
)

// Dangerous reports whether a spreadsheet could read s as a formula (ASVS
// 5.0 1.2.10, CWE-1236): it begins with NUL, tab, CR or LF, or its first
// character after any of those and spaces is = + - or @. Spreadsheets skip
// such leading characters before looking for a formula, which is how a
// title like "\x00=HYPERLINK(…)" used to pass a check of the first byte.
func Dangerous(s string) bool { return dangerous(s) }

// dangerous is Dangerous for text or the bytes of a number or time being
// written, so both take the one guard.
func dangerous[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	switch s[0] {
	case 0, '\t', '\r', '\n':
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0, ' ', '\t', '\r', '\n':
			continue
		case '=', '+', '-', '@':
			return true
		}
		return false
	}
	return false
}

// Cell returns s as a cell that shows as text: a dangerous value gets a
// leading single quote, which spreadsheets take to mean "text" and do not
// display; anything else is returned unchanged.
func Cell(s string) string {
	if Dangerous(s) {
		return "'" + s
	}
	return s
}

// CSV writes RFC 4180 records with every cell passed through Cell, exactly
// as encoding/csv's Writer writes them (LF line ends), but each record
// built in one buffer: an export of tens of thousands of rows spent much
// of its time in the writer's per-field calls. Not safe for concurrent
// use.
type CSV struct {
	w    *bufio.Writer
	line []byte // the record being built, reused
	err  error
}

// csvBuffer is how much CSV waits before it is written to w: an export
// reaches the response in writes of this size.
const csvBuffer = 64 << 10

// NewCSV returns a CSV writer on w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: bufio.NewWriterSize(w, csvBuffer)} }

// Write writes one record, each cell through the formula guard.
func (c *CSV) Write(row []string) error {
	b := c.line[:0]
	for i := range row {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, row[i])
	}
	c.line = b
	return c.end()
}

// end writes the record built in c.line.
func (c *CSV) end() error {
	if c.err != nil {
		return c.err
	}
	c.line = append(c.line, '\n')
	_, c.err = c.w.Write(c.line)
	return c.err
}

// Flush writes any buffered data to the underlying writer.
func (c *CSV) Flush() {
	if err := c.w.Flush(); c.err == nil {
		c.err = err
	}
}

// Error reports any error from a previous Write or Flush.
func (c *CSV) Error() error { return c.err }

// appendField appends the cell s, through the guard (Cell) and quoted as
// encoding/csv quotes a field: when it holds a quote, comma, CR or LF,
// begins with a space (unicode.IsSpace), or is \. alone; quotes inside
// are doubled, everything else is copied as it is.
func appendField[T string | []byte](dst []byte, s T) []byte {
	guard := dangerous(s)
	quote := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == ',' || c == '\r' || c == '\n' {
			quote = true
			break
		}
	}
	if !guard && !quote && len(s) > 0 {
		// A guarded cell begins with the quote, never a space.
		quote = string(s) == `\.` || startsWithSpace(s)
	}
	if !quote {
		if guard {
			dst = append(dst, '\'')
		}
		return append(dst, s...)
	}
	dst = append(dst, '"')
	if guard {
		dst = append(dst, '\'')
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// startsWithSpace reports whether s begins with a Unicode space.
func startsWithSpace[T string | []byte](s T) bool {
	if s[0] < utf8.RuneSelf {
		return unicode.IsSpace(rune(s[0]))
	}
	r, _ := utf8.DecodeRuneInString(string(s))
	return unicode.IsSpace(r)
}
