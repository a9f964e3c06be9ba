package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wsusfix/store/run"
)

// WSUSFacts is what a WSUS server says of one of its computers: which
// server, the computer's id there, and its summary counts
// (GetSummariesPerComputerTarget) at the sync that listed it.
type WSUSFacts struct {
	Server        string // the WSUS server's name, as the sync addressed it
	ComputerID    string // the computer target's GUID
	Failed        int
	Needed        int
	PendingReboot int
	Unknown       int
	// SeenAt is when the sync that listed the host began; a full reconcile
	// marks gone the hosts of its server not seen since it began.
	SeenAt time.Time
}

// WSUSCursor is the sync position of one WSUS server.
type WSUSCursor struct {
	Server string
	// At is the WSUS server's own UTC time up to which every report it
	// listed has been committed.
	At time.Time
	// FullAt is the At of the last full reconcile; zero before one.
	FullAt time.Time
}

// WSUSCursor returns the sync position of the named WSUS server, or an
// error wrapping ErrNotFound before its first committed sync.
func (s *Store) WSUSCursor(ctx context.Context, server string) (WSUSCursor, error) {
	var at, full sql.NullInt64
	c := WSUSCursor{}
	err := s.read.QueryRowContext(ctx, "SELECT name, cursor_at, full_sync_at FROM wsus_servers WHERE name = ?", server).
		Scan(&c.Server, &at, &full)
	if err != nil {
		return WSUSCursor{}, mapErr(fmt.Sprintf("wsus cursor %q", server), err)
	}
	c.At, c.FullAt = fromMS(at), fromMS(full)
	return c, nil
}

// AdvanceWSUSCursor records that every report of the named server up to
// at, its own UTC time, is committed; full says the sync was a full
// reconcile. Call it only after the last batch the sync read is
// committed. The cursor never moves back.
func (s *Store) AdvanceWSUSCursor(ctx context.Context, server string, at time.Time, full bool) error {
	if at.IsZero() {
		return errors.New("store: advance wsus cursor: no time")
	}
	var fullAt sql.NullInt64
	if full {
		fullAt = ms(at)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO wsus_servers (name, cursor_at, full_sync_at, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET cursor_at = max(cursor_at, excluded.cursor_at),
			full_sync_at = coalesce(max(full_sync_at, excluded.full_sync_at), full_sync_at, excluded.full_sync_at),
			updated_at = excluded.updated_at`,
		server, ms(at), fullAt, s.now().UnixMilli())
	return mapErr(fmt.Sprintf("advance wsus cursor %q", server), err)
}

// MarkWSUSGone marks gone the hosts the named server listed before but
// not in the full reconcile that began at seenSince, and returns how many.
// Their history and runs stay; triage no longer shows them.
func (s *Store) MarkWSUSGone(ctx context.Context, server string, seenSince time.Time) (int, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var ids string
		if err := tx.QueryRowContext(ctx, `SELECT ifnull(json_group_array(id), '[]') FROM hosts
			WHERE wsus_server = ?1 AND wsus_server <> '' AND wsus_seen_at < ?2 AND gone_at IS NULL`,
			server, ms(seenSince)).Scan(&ids); err != nil {
			return err
		}
		// A gone host no longer counts in the summaries of hosts.
		if err := adjustHostSummaries(ctx, tx, ids, -1); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET gone_at = ?1, updated_at = ?1
			WHERE id IN (SELECT value FROM json_each(?2))`, s.now().UnixMilli(), ids)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return adjustHostSummaries(ctx, tx, ids, 1)
	})
	if err != nil {
		return 0, mapErr(fmt.Sprintf("mark gone of %q", server), err)
	}
	return int(n), nil
}

// FailedUpdateKnown reports whether the named host's history already
// holds a failed attempt of the update that no later attempt installed. A
// WSUS sync asks before storing a failure whose error event WSUS has
// expired: dated only by the host's last report, it would otherwise add an
// entry on every sync, and repeat what the host's own history said. A
// failure after an install that succeeded is news, and is stored.
func (s *Store) FailedUpdateKnown(ctx context.Context, host, updateID string) (bool, error) {
	var known bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM update_events e JOIN hosts h ON h.id = e.host_id
		WHERE h.name = ?1 AND e.update_id = ?2 COLLATE NOCASE AND e.result = ?3
			AND NOT EXISTS (SELECT 1 FROM update_events i WHERE i.host_id = e.host_id AND i.update_id = ?2 COLLATE NOCASE
				AND i.at > e.at AND i.result IN (?4, ?5)))`,
		host, updateID, run.ResultFailed, run.ResultSucceeded, run.ResultSucceededWithErrors).Scan(&known)
	return known, mapErr(fmt.Sprintf("failed update of %q", host), err)
}
