package ingest

import (
	"bufio"
	"fmt"
	"slices"
)

// report counts a CSV file's rows and writes refusals as FILE:LINE: reason,
// in line order: refusals found while good rows wait in the queue are held
// until the queue is stored, since the store may refuse some of those rows
// too.
type report struct {
	file     string
	w        *bufio.Writer
	pending  func() int // rows queued for the store
	read     int
	rejected int
	held     []Rejection
}

// reject is the writers' RejectFunc: a row refused by validation or by the
// store.
func (r *report) reject(rj Rejection) { r.refuse(rj.Ref, rj.Reason) }

// refuse counts a refused row and reports it.
func (r *report) refuse(line int, reason string) {
	r.rejected++
	if r.pending() == 0 && len(r.held) == 0 { // nothing queued can precede it
		fmt.Fprintf(r.w, "%s:%d: %s\n", r.file, line, reason)
		return
	}
	r.held = append(r.held, Rejection{Ref: line, Reason: reason})
}

// writeMessages writes the held refusals in line order.
func (r *report) writeMessages() {
	slices.SortStableFunc(r.held, func(a, b Rejection) int { return a.Ref - b.Ref })
	for _, m := range r.held {
		fmt.Fprintf(r.w, "%s:%d: %s\n", r.file, m.Ref, m.Reason)
	}
	r.held = r.held[:0]
}

// progress writes one progress line for a large file and flushes, so it
// shows at once.
func (r *report) progress(offset, size int64) {
	const mb = 1e6
	if size > 0 {
		fmt.Fprintf(r.w, "%s: read %d rows (%.1f MB of %.1f MB)...\n", r.file, r.read, float64(offset)/mb, float64(size)/mb)
	} else {
		fmt.Fprintf(r.w, "%s: read %d rows (%.1f MB)...\n", r.file, r.read, float64(offset)/mb)
	}
	r.w.Flush()
}
