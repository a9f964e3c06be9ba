package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SyncOutcome is how an inventory sync ended.
type SyncOutcome string

// The outcomes of a sync. Partial is a sync that committed what it read
// but refused some records (each named in its log).
const (
	SyncRunning     SyncOutcome = "running"
	SyncSucceeded   SyncOutcome = "succeeded"
	SyncPartial     SyncOutcome = "partial"
	SyncFailed      SyncOutcome = "failed"
	SyncInterrupted SyncOutcome = "interrupted"
)

// Who starts a sync when no user does.
const (
	SyncBySchedule = "schedule" // the serve schedule
	SyncByStart    = "start"    // the demo's sync at start
	SyncByCommand  = "command"  // `wsusfix sync`
)

// maxSyncLog bounds the stored log of one sync: the warnings of a ghost
// update per computer could otherwise grow without end.
const maxSyncLog = 256 << 10

// Sync is one inventory sync from a WSUS server, as stored.
type Sync struct {
	ID         int64
	Server     string
	Full       bool
	StartedBy  string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Outcome    SyncOutcome
	Counts     SyncCounts
	Error      string // why it failed, for people
	Log        string
}

// SyncCounts are what a sync did.
type SyncCounts struct {
	Computers, New, Updated, Gone, Failing, Events, History, Ghosts, Problems int
}

// Duration is how long the sync took, or has taken so far.
func (s Sync) Duration(now time.Time) time.Duration {
	if s.FinishedAt.IsZero() {
		return now.Sub(s.StartedAt)
	}
	return s.FinishedAt.Sub(s.StartedAt)
}

// StartSync records a sync of server beginning now and returns its id.
func (s *Store) StartSync(ctx context.Context, server string, full bool, startedBy string) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO wsus_syncs (server, full, started_by, started_at, outcome)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, server, full, startedBy, s.now().UnixMilli(), SyncRunning).Scan(&id)
	return id, mapErr("start sync", err)
}

// FinishSync records how sync id ended. The log is cut to its last
// 256 KiB, with a note that the start was left out.
func (s *Store) FinishSync(ctx context.Context, id int64, outcome SyncOutcome, c SyncCounts, reason, log string) error {
	if len(log) > maxSyncLog {
		log = "[the start of this log was left out]\n" + log[len(log)-maxSyncLog:]
	}
	res, err := s.write.ExecContext(ctx, `UPDATE wsus_syncs SET finished_at = ?, outcome = ?, computers = ?, new = ?,
			updated = ?, gone = ?, failing = ?, events = ?, history = ?, ghosts = ?, problems = ?, error = ?, log = ?
		WHERE id = ? AND outcome = ?`,
		s.now().UnixMilli(), outcome, c.Computers, c.New, c.Updated, c.Gone, c.Failing, c.Events, c.History, c.Ghosts,
		c.Problems, reason, log, id, SyncRunning)
	if err != nil {
		return mapErr("finish sync", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mapErr(fmt.Sprintf("finish sync %d", id), sql.ErrNoRows)
	}
	return nil
}

// InterruptSyncs marks interrupted the syncs a stopped server left
// running, with reason, and returns how many. What they committed stays;
// their servers' cursors never moved past it.
func (s *Store) InterruptSyncs(ctx context.Context, reason string) (int, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE wsus_syncs SET outcome = ?, error = ?, finished_at = ? WHERE outcome = ?`,
		SyncInterrupted, reason, s.now().UnixMilli(), SyncRunning)
	if err != nil {
		return 0, mapErr("interrupt syncs", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

const syncColumns = `id, server, full, started_by, started_at, finished_at, outcome, computers, new, updated, gone,
	failing, events, history, ghosts, problems, error, log`

func scanSync(row interface{ Scan(...any) error }) (Sync, error) {
	var y Sync
	var started, finished sql.NullInt64
	c := &y.Counts
	err := row.Scan(&y.ID, &y.Server, &y.Full, &y.StartedBy, &started, &finished, &y.Outcome, &c.Computers, &c.New,
		&c.Updated, &c.Gone, &c.Failing, &c.Events, &c.History, &c.Ghosts, &c.Problems, &y.Error, &y.Log)
	y.StartedAt, y.FinishedAt = fromMS(started), fromMS(finished)
	return y, err
}

// SyncByID returns one sync, or an error wrapping ErrNotFound.
func (s *Store) SyncByID(ctx context.Context, id int64) (Sync, error) {
	y, err := scanSync(s.read.QueryRowContext(ctx, "SELECT "+syncColumns+" FROM wsus_syncs WHERE id = ?", id))
	return y, mapErr(fmt.Sprintf("sync %d", id), err)
}

// Syncs returns the newest limit syncs, newest first.
func (s *Store) Syncs(ctx context.Context, limit int) ([]Sync, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+syncColumns+" FROM wsus_syncs ORDER BY started_at DESC, id DESC LIMIT ?", limit)
	if err != nil {
		return nil, mapErr("list syncs", err)
	}
	defer rows.Close()
	var out []Sync
	for rows.Next() {
		y, err := scanSync(rows)
		if err != nil {
			return nil, mapErr("list syncs", err)
		}
		out = append(out, y)
	}
	return out, mapErr("list syncs", rows.Err())
}

// LastGoodSync returns the newest sync that committed its whole read
// (succeeded or partial), or an error wrapping ErrNotFound before one:
// what triage shows as "inventory synced".
func (s *Store) LastGoodSync(ctx context.Context) (Sync, error) {
	y, err := scanSync(s.read.QueryRowContext(ctx, "SELECT "+syncColumns+
		" FROM wsus_syncs WHERE outcome IN (?, ?) ORDER BY finished_at DESC LIMIT 1", SyncSucceeded, SyncPartial))
	return y, mapErr("last good sync", err)
}
