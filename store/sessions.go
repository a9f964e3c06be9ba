package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
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

// expiryGrain is how far a session's expiry may move on before an
// unchanged session is written again. The session manager renews the idle
// expiry at every request, which would make every page view, even a plain
// GET, a durable write; this way a busy session is written about once a
// minute, and an idle one may end up to a minute before its idle timeout.
const expiryGrain = time.Minute

// sessionMemo remembers the data and expiry last read or written for each
// session token, and the store generation before that read or write: a
// commit of the same data is recognised without a read, and while the
// generation stands (no other process has changed the file since) a find
// is answered without one. Sessions are changed only through this store,
// which keeps the memo, or by another process (`wsusfix user disable`
// ending a user's sessions), which moves the generation. It is bounded:
// when full it starts again, which only costs reads and writes.
type sessionMemo struct {
	mu   sync.Mutex
	seen map[string]storedSession
}

type storedSession struct {
	data   string
	expiry int64  // unix ms
	gen    uint64 // the generation before it was read or written
}

// maxMemoSessions bounds sessionMemo.
const maxMemoSessions = 10_000

func (m *sessionMemo) put(token string, data []byte, expiry int64, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) >= maxMemoSessions {
		m.seen = map[string]storedSession{}
	}
	m.seen[token] = storedSession{string(data), expiry, gen}
}

// find returns token's data if the memo holds it unexpired at now and
// nothing outside this store can have changed it since (gen is current).
func (m *sessionMemo) find(token string, now int64, gen uint64) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was, ok := m.seen[token]
	if !ok || was.gen != gen || was.expiry <= now {
		return nil, false
	}
	return []byte(was.data), true
}

// compare reports whether the store already holds data for token (same),
// and whether it does with an expiry at most expiryGrain before the one
// asked for (fresh). It does not ask for the current generation, which a
// commit of new data moves itself. (Two requests of one session committing
// different data at once may leave the memo holding the one the database
// does not; the session's values then differ only in when the directory
// last confirmed the role, and the next change of data writes again.)
func (m *sessionMemo) compare(token string, data []byte, expiry int64) (same, fresh bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was, ok := m.seen[token]
	same = ok && was.data == string(data)
	return same, same && expiry >= was.expiry && expiry-was.expiry < expiryGrain.Milliseconds()
}

func (m *sessionMemo) forget(token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, token)
}

// FindCtx returns the data of an unexpired session.
// (Expiries are compared with the wall clock, not the store clock: the
// session manager sets them from time.Now.)
func (ss *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	now, gen := time.Now().UnixMilli(), ss.s.Generation()
	if b, ok := ss.s.sessions.find(token, now, gen); ok {
		return b, true, nil
	}
	var b []byte
	var expiry int64
	err := ss.s.read.QueryRowContext(ctx, `SELECT data, expiry FROM sessions WHERE token = ? AND expiry > ?`,
		token, now).Scan(&b, &expiry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapErr("find session", err)
	}
	ss.s.sessions.put(token, b, expiry, gen)
	return b, true, nil
}

// CommitCtx stores a session's data and expiry, replacing any earlier copy.
// The same data with an expiry less than expiryGrain later than the stored
// one is not written again. Only new data moves the generation (so that a
// find that read the old data before this commit cannot keep it in the
// memo); a renewed expiry alone does not, or every page view would redraw
// the cached pages.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	exp, gen := expiry.UnixMilli(), ss.s.Generation()
	same, fresh := ss.s.sessions.compare(token, b, exp)
	if fresh {
		return nil
	}
	const upsert = `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`
	var err error
	if same {
		_, err = ss.s.write.quiet().ExecContext(ctx, upsert, token, b, exp)
	} else {
		_, err = ss.s.write.ExecContext(ctx, upsert, token, b, exp)
	}
	if err != nil {
		ss.s.sessions.forget(token)
		return mapErr("commit session", err)
	}
	ss.s.sessions.put(token, b, exp, gen)
	return nil
}

// DeleteCtx removes a session; removing a missing one is not an error.
// It moves the generation, so that no find that read the session before
// it went can answer from the memo afterwards.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token)
	ss.s.sessions.forget(token)
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
