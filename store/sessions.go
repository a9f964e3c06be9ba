package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Sessions keeps web sessions in the sessions table. It satisfies the
// session store interfaces of github.com/alexedwards/scs/v2 (Store,
// CtxStore, IterableStore, IterableCtxStore) without importing it. Tokens
// arrive already hashed when the session manager hashes them; Sessions
// stores whatever it is given. Safe for concurrent use.
type Sessions struct{ s *Store }

// Sessions returns the session store over this database.
func (s *Store) Sessions() *Sessions { return &Sessions{s: s} }

// FindCtx returns the data of an unexpired session.
// (Expiries are compared with the wall clock, not the store clock: the
// session manager sets them from time.Now.)
func (ss *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.s.read.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`,
		token, time.Now().UnixMilli()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapErr("find session", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data and expiry, replacing any earlier copy.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.s.write.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry.UnixMilli())
	return mapErr("commit session", err)
}

// DeleteCtx removes a session; removing a missing one is not an error.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token)
	return mapErr("delete session", err)
}

// AllCtx returns every unexpired session by stored token.
func (ss *Sessions) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := ss.s.read.QueryContext(ctx, `SELECT token, data FROM sessions WHERE expiry > ?`, time.Now().UnixMilli())
	if err != nil {
		return nil, mapErr("all sessions", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var t string
		var b []byte
		if err := rows.Scan(&t, &b); err != nil {
			return nil, mapErr("all sessions", err)
		}
		out[t] = b
	}
	return out, mapErr("all sessions", rows.Err())
}

// DeleteMatching removes every session whose data match reports true, and
// returns how many it removed. Callers decode the data, which the store
// treats as opaque.
func (ss *Sessions) DeleteMatching(ctx context.Context, match func(data []byte) bool) (int, error) {
	all, err := ss.AllCtx(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for token, b := range all {
		if match(b) {
			if err := ss.DeleteCtx(ctx, token); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Find is FindCtx without a context.
func (ss *Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context.
func (ss *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context.
func (ss *Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// All is AllCtx without a context.
func (ss *Sessions) All() (map[string][]byte, error) { return ss.AllCtx(context.Background()) }
