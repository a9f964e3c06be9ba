// Package wsus is the client side of the inventory sync: it runs the
// wsus-inventory collector on a WSUS server over a WinRM session, reads the
// computers it streams as they arrive, and commits them in batches through
// store/ingest's writers, the same validated upserts a CSV import uses.
// The per-server cursor moves only once everything the collector listed
// is committed, so a sync cut off half-way loses nothing committed and the
// next one reads again from the old cursor.
//
// Sync holds no state between syncs and never logs, and is not safe for
// concurrent use with another Sync of the same server. Recorded keeps each
// sync in the store like a run; a Scheduler runs them one at a time, on a
// schedule and on request, and logs how each ended.
package wsus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/scripts"
	"wsusfix/store"
)

// DefaultOverlap is how far before the cursor an incremental sync reads:
// clients stamp their reports, and a report committed to WSUS a little
// after the query began must not fall between two syncs. Reading a
// computer twice costs an unchanged upsert.
const DefaultOverlap = 10 * time.Minute

// Runner runs one command with stdin on the WSUS server; *remote.Session
// satisfies it.
type Runner interface {
	Run(ctx context.Context, cmdline string, stdin []byte, stdout, stderr io.Writer) (int, error)
}

// Options say which WSUS server to sync and how.
type Options struct {
	// Server names the WSUS server in the store (its cursor, its hosts),
	// as WinRM addresses it; required.
	Server string
	// Port and UseSSL are where the API reaches WSUS from the WSUS host
	// (default 8530, or 8531 with UseSSL).
	Port   int
	UseSSL bool
	// Full asks for a full reconcile: every computer, and the hosts WSUS no
	// longer lists marked gone. A server without a cursor is always synced
	// in full.
	Full bool
	// Overlap is how far before the cursor an incremental sync reads
	// (default DefaultOverlap).
	Overlap time.Duration
	// BatchSize is how many computers one collector line carries (default
	// the collector's 200).
	BatchSize int
	// Progress, when set, is called after each batch is committed, on the
	// goroutine reading the output.
	Progress func(Progress)
}

// Progress is how far a sync has got.
type Progress struct {
	Read      int // computers received
	Committed int // computers committed to the store
	Total     int // computers the collector's query returned, for an ETA
}

// Problem is a record the sync could not take, and where it was.
type Problem struct {
	Position string // e.g. "output line 12" or "batch 3, computer 17 (host-0042)"
	Reason   string
}

// Summary is what one sync did.
type Summary struct {
	Server    string
	Full      bool
	Since     time.Time // the incremental sync's window start; zero when full
	Computers int       // computers committed
	New       int
	Updated   int
	Unchanged int
	Gone      int // hosts marked gone by a full reconcile
	Failing   int // computers with failed updates, as the collector counted them
	Events    int // error events the collector read
	History   int // history entries new to the store
	Ghosts    int // updates skipped as missing from the WSUS database
	Cursor    time.Time
	Warnings  []string
	Problems  []Problem
	// Output is the last lines for people the collector printed (stderr
	// included), which say what it was doing when it stopped.
	Output   []string
	Duration time.Duration
}

// ErrCollector is the kind of a sync the collector itself ended: see
// CollectorError for its reason.
var ErrCollector = errors.New("wsus collector failed")

// CollectorError is the collector's own failure: its reason code (one of
// the scripts.Reason* codes, such as scripts.ReasonWSUSAccessDenied) and
// its message.
type CollectorError struct {
	Server  string
	Reason  string
	Message string
}

// Error reads "wsus: SERVER: reason: message".
func (e *CollectorError) Error() string {
	return "wsus: " + e.Server + ": " + e.Reason + ": " + e.Message
}

// Unwrap returns ErrCollector.
func (e *CollectorError) Unwrap() error { return ErrCollector }

// Sync runs one sync of opt.Server over sess and commits it to st. A
// failure of the session comes back as remote's typed error (wrapped), the
// collector's own as a *CollectorError; either way what was committed
// stays, and the cursor does not move.
func Sync(ctx context.Context, sess Runner, st *store.Store, opt Options) (Summary, error) {
	start := time.Now()
	sum := Summary{Server: opt.Server, Full: opt.Full}
	if err := store.ValidateHostName(opt.Server); err != nil {
		return sum, fmt.Errorf("wsus: server: %w", err)
	}
	params := scripts.WSUSInventoryParams{Port: opt.Port, UseSSL: opt.UseSSL, BatchSize: opt.BatchSize}
	if !opt.Full {
		c, err := st.WSUSCursor(ctx, opt.Server)
		switch {
		case errors.Is(err, store.ErrNotFound):
			sum.Full = true
		case err != nil:
			return sum, err
		default:
			overlap := opt.Overlap
			if overlap <= 0 {
				overlap = DefaultOverlap
			}
			sum.Since = c.At.Add(-overlap).UTC()
			params.Since = sum.Since.Format(time.RFC3339)
		}
	}
	payload, err := scripts.Payload(scripts.WSUSInventory, params)
	if err != nil {
		return sum, err
	}

	// Every host this sync lists is stamped with its start; a full
	// reconcile then marks gone the server's hosts stamped earlier.
	r := newReader(ctx, st, opt, start.UTC().Truncate(time.Millisecond), &sum)
	lines := remote.NewLines(r.line)
	code, runErr := sess.Run(ctx, scripts.Bootstrap, payload, lines.Writer(remote.Stdout), lines.Writer(remote.Stderr))
	lines.Flush()
	err = r.finish(ctx, code, runErr)
	sum.Duration = time.Since(start)
	return sum, err
}

// finish closes the writers and, when the collector ended well, marks gone
// hosts and moves the cursor.
func (r *reader) finish(ctx context.Context, code int, runErr error) error {
	// What the batches already stored stays stored; the history's failure
	// summaries are refreshed for it whatever happened after.
	c, closeErr := r.history.Close(ctx)
	r.sum.History = c.Imported
	switch {
	case r.err != nil:
		return r.err
	case runErr != nil:
		return fmt.Errorf("wsus: %s: %w", r.opt.Server, runErr)
	case closeErr != nil:
		return closeErr
	}
	res, ok := scripts.StepResult(scripts.WSUSInventory, r.results)
	if !ok {
		return &CollectorError{Server: r.opt.Server, Reason: scripts.ReasonNoResult, Message: fmt.Sprintf(
			"the collector ended without its result (exit code %d); the script may not have run", code)}
	}
	if res.Status != scripts.StatusOK {
		return &CollectorError{Server: r.opt.Server, Reason: res.Reason, Message: res.Message}
	}
	if res.Computers != r.received {
		r.problem("the result line", fmt.Sprintf("the collector listed %d computers, %d arrived", res.Computers, r.received))
	}
	cursor, err := time.Parse(time.RFC3339, res.ServerTime)
	if err != nil {
		return &CollectorError{Server: r.opt.Server, Reason: scripts.ReasonNoResult, Message: "the collector's result has no server time"}
	}
	r.sum.Failing, r.sum.Events, r.sum.Ghosts, r.sum.Cursor = res.Failing, res.Events, res.Ghosts, cursor
	if r.sum.Full {
		n, err := r.st.MarkWSUSGone(ctx, r.opt.Server, r.seenAt)
		if err != nil {
			return err
		}
		r.sum.Gone = n
	}
	return r.st.AdvanceWSUSCursor(ctx, r.opt.Server, cursor, r.sum.Full)
}

// trimmedTag reports whether an output line starts as a result line does.
func trimmedTag(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t\ufeff"), scripts.Tag)
}
