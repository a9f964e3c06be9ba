package wsus

import (
	"context"
	"errors"
	"strings"

	"wsusfix/store"
)

// Session is an open WinRM session to the WSUS server; *remote.Session
// satisfies it.
type Session interface {
	Runner
	Close() error
}

// Dial opens a session to the WSUS server. It is called once per sync, so
// WinRM settings saved between syncs apply to the next one.
type Dial func(ctx context.Context) (Session, error)

// Recorded runs one sync of opt.Server like a run: recorded in the store
// before it dials (so a sync that cannot connect is seen too), finished
// with its counts, outcome, reason and log. The error is the sync's own;
// a store failure to record the end is joined to it.
func Recorded(ctx context.Context, st *store.Store, dial Dial, opt Options, startedBy string) (store.Sync, Summary, error) {
	return recorded(ctx, st, dial, opt, startedBy, nil)
}

// recorded is Recorded, calling onStart, when set, once the sync is
// recorded, with its id and whether it is a full reconcile.
func recorded(ctx context.Context, st *store.Store, dial Dial, opt Options, startedBy string,
	onStart func(id int64, full bool)) (store.Sync, Summary, error) {
	full := opt.Full
	if !full {
		// The record says what the sync will be: a server with no cursor
		// gets a full one.
		if _, err := st.WSUSCursor(ctx, opt.Server); errors.Is(err, store.ErrNotFound) {
			full = true
		}
	}
	opt.Full = full // the sync does what its record says, whatever the cursor reads later
	id, err := st.StartSync(ctx, opt.Server, full, startedBy)
	if err != nil {
		return store.Sync{}, Summary{}, err
	}
	if onStart != nil {
		onStart(id, full)
	}
	sum, runErr := dialAndSync(ctx, st, dial, opt)
	outcome, reason := store.SyncSucceeded, Reason(runErr)
	switch {
	case runErr != nil && ctx.Err() != nil:
		// Stopped from here (shutdown), not a fault of the WSUS server.
		outcome = store.SyncInterrupted
		reason = "The sync was stopped before it ended (the server shutting down); what it committed is kept, " +
			"and the next sync reads again from the last cursor."
	case runErr != nil:
		outcome = store.SyncFailed
	case len(sum.Problems) > 0:
		outcome = store.SyncPartial
	}
	c := store.SyncCounts{Computers: sum.Computers, New: sum.New, Updated: sum.Updated, Gone: sum.Gone,
		Failing: sum.Failing, Events: sum.Events, History: sum.History, Ghosts: sum.Ghosts, Problems: len(sum.Problems)}
	// A cancelled context must not stop the record of the end.
	fctx := context.WithoutCancel(ctx)
	ferr := st.FinishSync(fctx, id, outcome, c, reason, sum.Log())
	y, gerr := st.SyncByID(fctx, id)
	return y, sum, errors.Join(runErr, ferr, gerr)
}

// dialAndSync opens the session and runs the sync over it.
func dialAndSync(ctx context.Context, st *store.Store, dial Dial, opt Options) (Summary, error) {
	sess, err := dial(ctx)
	if err != nil {
		return Summary{Server: opt.Server}, err // remote's errors name the host
	}
	defer sess.Close()
	return Sync(ctx, sess, st, opt)
}

// Reason says for people why a sync failed: the collector's own message
// with its reason code, or the session's error; "" for no error.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if ce := (*CollectorError)(nil); errors.As(err, &ce) {
		return ce.Message + " (" + ce.Reason + ")"
	}
	return err.Error()
}

// Log is what the sync has to say beyond its counts, a line each: its
// warnings, the records it refused and where, and the collector's last
// lines when it failed.
func (s Summary) Log() string {
	var b strings.Builder
	for _, w := range s.Warnings {
		b.WriteString("warning: " + w + "\n")
	}
	for _, p := range s.Problems {
		b.WriteString(p.Position + ": " + p.Reason + "\n")
	}
	for _, l := range s.Output {
		b.WriteString("output: " + l + "\n")
	}
	return b.String()
}
