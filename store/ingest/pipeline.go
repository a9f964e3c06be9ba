package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// readRows feeds every row after the header to r until the input ends, the
// reader cannot go on (the error it returns), or the store fails (which
// r.close reports). The rows come checked from parseRows, in order.
func readRows[T any](ctx context.Context, cr *csv.Reader, r rows[T], rep *report, header []string, o CSVOptions) error {
	out := make(chan *chunk[T], 4)
	free := make(chan *chunk[T], 6)
	done := make(chan struct{})
	go parseRows(cr, r, header, o.Name, out, free, done)
	defer func() {
		// parseRows stops at its next row once done is closed, and must
		// have stopped reading the caller's input before this returns.
		close(done)
		for range out {
		}
	}()
	last := o.Now()
	for c := range out {
		for i := range c.rows {
			p := &c.rows[i]
			rep.read++
			if p.quoting {
				rep.refuse(p.line, p.reason)
				continue
			}
			if p.reason != "" {
				rep.refuse(p.line, p.reason)
			} else if err := r.add(ctx, p.rec, p.err, p.line); err != nil {
				return nil // the store failed; close returns its error
			}
			if r.pending() == 0 {
				rep.writeMessages()
			}
			if rep.read%o.ProgressEvery == 0 {
				if now := o.Now(); now.Sub(last) >= time.Second {
					last = now
					rep.progress(p.offset, o.Size)
				}
			}
		}
		if c.err != nil {
			return c.err
		}
		clear(c.rows)
		c.rows = c.rows[:0]
		select {
		case free <- c:
		default:
		}
	}
	return nil
}

// chunkRows is how many rows parseRows hands over at a time.
const chunkRows = 512

// chunk is rows parseRows read, in order, and the read error after them.
type chunk[T any] struct {
	rows []parsed[T]
	err  error
}

// parsed is one row as parseRows left it.
type parsed[T any] struct {
	line    int
	offset  int64  // the input's offset after the row, for progress lines
	rec     T      // the store's record, when the row's shape is good
	err     error  // why the kind's checks refuse it, for the writer to report
	reason  string // why its shape is refused: field count, length, encoding
	quoting bool   // reason is bad quoting, which swallowed lines
}

// parseRows reads the rows after the header, checks them and sends them
// to out in chunks, until the input ends or fails or done is closed; it
// closes out when it stops. Chunks come back through free to be reused.
func parseRows[T any](cr *csv.Reader, r rows[T], header []string, name string, out chan<- *chunk[T], free chan *chunk[T], done <-chan struct{}) {
	defer close(out)
	// The reader reuses the record, so the names are kept apart.
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	width := len(header)
	next := func() *chunk[T] {
		select {
		case c := <-free:
			return c
		default:
			return &chunk[T]{rows: make([]parsed[T], 0, chunkRows)}
		}
	}
	c := next()
	send := func() bool {
		select {
		case out <- c:
			c = next()
			return true
		case <-done:
			return false
		}
	}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			if len(c.rows) > 0 {
				send()
			}
			return
		}
		if err != nil {
			// Declared here, not for every row: errors.As moves its target
			// to the heap.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				// The reader cannot go on; the good rows read so far are
				// stored.
				c.err = fmt.Errorf("%s: read after line %d: %w", name, line, err)
				send()
				return
			}
			// The reader resumes on the line after the error, so one bad
			// quote costs the rows it swallowed, not the rest of the file.
			c.rows = append(c.rows, parsed[T]{line: pe.StartLine, reason: describeParseError(pe), quoting: true})
		} else {
			line, _ = cr.FieldPos(0)
			p := parsed[T]{line: line, offset: cr.InputOffset()}
			if len(rec) != width {
				p.reason = fmt.Sprintf("has %d fields, header has %d", len(rec), width)
			} else if err := checkLengths(cols, rec); err != nil {
				p.reason = err.Error()
			} else if !validUTF8(rec) {
				p.reason = "not valid UTF-8 (save the file as CSV UTF-8)"
			} else {
				p.rec, p.err = r.parse(rec)
			}
			c.rows = append(c.rows, p)
		}
		if len(c.rows) == chunkRows && !send() {
			return
		}
	}
}
