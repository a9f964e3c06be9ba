package ingest

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"wsusfix/store"
)

// Kind names what a CSV file holds.
type Kind string

// The kinds of file ImportCSV reads.
const (
	Hosts   Kind = "hosts"   // name,fqdn,address,os,os_build,group,last_report
	History Kind = "history" // host,time,kb,title,operation,result,hresult[,update_id]
)

// CSVOptions are the settings of one ImportCSV.
type CSVOptions struct {
	Name     string    // the input's name in messages, such as "hosts.csv" or "stdin"
	Size     int64     // the input's size in bytes for progress lines; less than 1 when unknown
	Batch    int       // rows per transaction; DefaultBatch when less than 1
	Messages io.Writer // receives the FILE:LINE: reason and progress lines; nil discards them

	// ProgressEvery is how many rows pass between looks at the clock
	// (100,000 when less than 1); a progress line is written only when a
	// second has passed since the last, so small files write none.
	ProgressEvery int
	Now           func() time.Time // the clock of progress lines; time.Now when nil
}

// FileError is what ImportCSV returns when it refuses the input as a whole
// before reading any row: the input is empty, UTF-16, or its header does
// not name the kind's columns. No Counts apply then.
type FileError struct{ Err error }

// Error says what is wrong with the file, prefixed by its name.
func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// rows feeds one kind of file's rows to its writer: parse checks a row
// and makes it the store's record, on the goroutine that reads the file;
// add queues it (or refuses it for parse's error) on the goroutine that
// called ImportCSV, which alone touches the writer and the report.
type rows[T any] interface {
	header(cols []string) error
	parse(rec []string) (T, error)
	add(ctx context.Context, rec T, err error, line int) error // the error is the store's
	pending() int
	close(ctx context.Context) (Counts, error)
}

// ImportCSV reads a CSV file of one kind into the store: a UTF-8 header
// line (a BOM is skipped) naming the kind's columns in any order and case,
// then one record a row, CRLF or LF. Each row it refuses is written to
// o.Messages as NAME:LINE: reason, LINE being the physical line where the
// row starts (the header is line 1), in line order, and skipped; the rest
// are stored in transactions of o.Batch rows. It returns what it did, with
// an error when the input cannot be read or the store fails (a *FileError
// when refused before any row); rows stored before that stay committed.
// Refused rows alone are not an error: Counts.Rejected says how many.
//
// The file is read and its rows checked on a goroutine of its own while
// the store takes the batches before, so the two use two cores; it has
// stopped reading in by the time ImportCSV returns.
func ImportCSV(ctx context.Context, st *store.Store, kind Kind, in io.Reader, o CSVOptions) (Counts, error) {
	if kind != Hosts && kind != History {
		return Counts{}, fmt.Errorf("ingest: unknown kind %q", kind)
	}
	if o.Messages == nil {
		o.Messages = io.Discard
	}
	if o.ProgressEvery < 1 {
		o.ProgressEvery = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	msgs := bufio.NewWriter(o.Messages)
	defer msgs.Flush()
	rep := &report{file: o.Name, w: msgs}

	br := bufio.NewReaderSize(in, 64<<10)
	if err := skipBOM(br); err != nil {
		return Counts{}, &FileError{fmt.Errorf("%s: %w", o.Name, err)}
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a wrong field count is a row error, not the end of the file
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return Counts{}, &FileError{fmt.Errorf("%s: empty file, want a header line", o.Name)}
	}
	if err != nil {
		return Counts{}, &FileError{fmt.Errorf("%s: header: %w", o.Name, err)}
	}
	if kind == Hosts {
		return importRows(ctx, &hostRows{w: NewHostWriter(st, o.Batch, rep.reject)}, cr, header, rep, o)
	}
	return importRows(ctx, &historyRows{w: NewHistoryWriter(st, store.SourceImport, o.Batch, rep.reject),
		source: store.SourceImport}, cr, header, rep, o)
}

// importRows checks the header and imports every row after it into r.
func importRows[T any](ctx context.Context, r rows[T], cr *csv.Reader, header []string, rep *report, o CSVOptions) (Counts, error) {
	rep.pending = r.pending
	if err := r.header(header); err != nil {
		return Counts{}, &FileError{fmt.Errorf("%s:1: %w", o.Name, err)}
	}
	readErr := readRows(ctx, cr, r, rep, header, o)
	c, storeErr := r.close(ctx)
	rep.writeMessages()
	c.Read, c.Rejected = rep.read, rep.rejected
	return c, errors.Join(readErr, storeErr)
}

// skipBOM drops a UTF-8 byte order mark and refuses UTF-16, which Excel's
// "Unicode text" writes and which would otherwise surface as a baffling
// header error.
func skipBOM(br *bufio.Reader) error {
	b, _ := br.Peek(3)
	switch {
	case len(b) >= 3 && string(b[:3]) == "\xEF\xBB\xBF":
		_, err := br.Discard(3)
		return err
	case len(b) >= 2 && (string(b[:2]) == "\xFF\xFE" || string(b[:2]) == "\xFE\xFF"):
		return errors.New("file is UTF-16: save it as CSV UTF-8")
	}
	return nil
}

// validUTF8 reports whether every field of rec is valid UTF-8; Excel's
// plain "CSV" is Windows-1252, which would store garbled titles.
func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// describeParseError words a csv.ParseError for the row it broke; the line
// prefix is added by the report.
func describeParseError(pe *csv.ParseError) string {
	if pe.Line != pe.StartLine {
		return fmt.Sprintf("bad CSV quoting in the row starting here, found at line %d column %d: %v (lines %d-%d skipped)",
			pe.Line, pe.Column, pe.Err, pe.StartLine, pe.Line)
	}
	return fmt.Sprintf("bad CSV quoting at column %d: %v", pe.Column, pe.Err)
}

// columnIndex maps a header onto the kind's columns: required must all be
// present, optional may be, and anything else is an error naming it.
// Missing columns get index -1.
func columnIndex(header, required, optional []string) (map[string]int, error) {
	if len(header) == 1 && strings.Contains(header[0], ";") {
		return nil, errors.New("header is separated by semicolons: save the file with commas")
	}
	idx := make(map[string]int, len(required)+len(optional))
	for _, c := range slices.Concat(required, optional) {
		idx[c] = -1
	}
	var unknown, missing, problems []string
	for i, h := range header {
		c := strings.ToLower(strings.TrimSpace(h))
		at, ok := idx[c]
		switch {
		case c == "":
			problems = append(problems, fmt.Sprintf("column %d has no name", i+1))
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%.64q", strings.TrimSpace(h)))
		case at >= 0:
			problems = append(problems, fmt.Sprintf("column %q appears twice", c))
		default:
			idx[c] = i
		}
	}
	for _, c := range required {
		if idx[c] < 0 {
			missing = append(missing, fmt.Sprintf("%q", c))
		}
	}
	if len(unknown) > 0 {
		problems = append(problems, "unknown column "+strings.Join(unknown, ", "))
	}
	if len(missing) > 0 {
		problems = append(problems, "missing column "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		want := strings.Join(required, ",")
		if len(optional) > 0 {
			want += "[," + strings.Join(optional, ",") + "]"
		}
		return nil, fmt.Errorf("header: %s (want %s)", strings.Join(problems, "; "), want)
	}
	return idx, nil
}

// cell returns column i of rec, trimmed, or "" for a column the header
// lacks.
func cell(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}
