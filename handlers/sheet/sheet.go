// Package sheet writes the spreadsheet files wsusfix produces (CSV today)
// so that no cell can run as a formula when someone opens the file. Every
// writer of a spreadsheet format in the product goes through Cell, here
// and nowhere else; a test fails when encoding/csv's writer or a
// spreadsheet library is used in any other package.
package sheet

import (
	"encoding/csv"
	"io"
)

// Dangerous reports whether a spreadsheet could read s as a formula (ASVS
// 5.0 1.2.10, CWE-1236): it begins with NUL, tab, CR or LF, or its first
// character after any of those and spaces is = + - or @. Spreadsheets skip
// such leading characters before looking for a formula, which is how a
// title like "\x00=HYPERLINK(…)" used to pass a check of the first byte.
func Dangerous(s string) bool {
	if s == "" {
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

// CSV writes RFC 4180 records with every cell passed through Cell. Not
// safe for concurrent use.
type CSV struct{ w *csv.Writer }

// NewCSV returns a CSV writer on w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Write writes one record. It changes the cells of row in place.
func (c *CSV) Write(row []string) error {
	for i := range row {
		row[i] = Cell(row[i])
	}
	return c.w.Write(row)
}

// Flush writes any buffered data to the underlying writer.
func (c *CSV) Flush() { c.w.Flush() }

// Error reports any error from a previous Write or Flush.
func (c *CSV) Error() error { return c.w.Error() }
