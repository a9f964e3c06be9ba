package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// writer is the store's one write connection. Every change committed
// through it moves the store's generation, after the commit: a reader
// that notes the generation before it reads and finds it unchanged
// afterwards knows nothing it read has changed since. That is what lets
// the pages keep rendered copies exactly (Generation).
//
// The few writes nothing a page shows depends on go through quiet instead,
// so they do not throw those copies away: session expiries, the audit log,
// token use and run log lines.
//
// The pool itself is not exposed: a write through it could not be missed
// by the generation without saying so (quiet).
type writer struct {
	db  *sql.DB
	gen *atomic.Uint64
}

// ExecContext runs a statement, then moves the generation.
func (w writer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer w.gen.Add(1)
	return w.db.ExecContext(ctx, query, args...)
}

// QueryRowContext runs a statement that returns a row (INSERT … RETURNING);
// the generation moves once the row is scanned, which is when SQLite has
// finished the statement and committed it.
func (w writer) QueryRowContext(ctx context.Context, query string, args ...any) scannedRow {
	return scannedRow{w.db.QueryRowContext(ctx, query, args...), w.gen}
}

// quiet is the connection without the generation: for writes no page
// depends on (see writer), and for what moves the generation itself
// (Store.withTx's transactions, prepared statements they run, the poll of
// data_version).
func (w writer) quiet() *sql.DB { return w.db }

// scannedRow is a written row whose Scan moves the generation.
type scannedRow struct {
	row *sql.Row
	gen *atomic.Uint64
}

// Scan reads the row, then moves the generation.
func (r scannedRow) Scan(dest ...any) error {
	defer r.gen.Add(1)
	return r.row.Scan(dest...)
}

// Generation counts the changes committed to the database that the pages
// show: inventory, history, runs, batches, syncs, users, settings. It only
// grows. A copy of anything read from the store stays exact as long as the
// generation read before reading it is still the current one.
//
// Changes this Store commits move it at once. Changes another process
// commits to the same file (`wsusfix import` or `wsusfix sync` while the
// dashboard runs, `wsusfix user disable`) move it within
// externalPollInterval, when SQLite's data_version says the file changed.
func (s *Store) Generation() uint64 {
	s.external.poll(s.write.gen)
	return s.write.gen.Load()
}

// externalPollInterval bounds how long a change committed by another
// process goes unseen by Generation; asking SQLite more often would cost
// every cached page view a query.
const externalPollInterval = 20 * time.Millisecond

// externalWait is how long a poll waits for the writer's connection
// before giving up; the writer is busy only inside this Store's own
// transactions, which move the generation themselves.
const externalWait = 2 * time.Millisecond

// externalWatch notices commits made to the database file by other
// processes. PRAGMA data_version changes whenever a connection other than
// the one asking has committed since that connection last asked
// (sqlite.org/pragma.html#pragma_data_version). Asked on the writer, the
// one connection this Store commits through (its readers are query_only),
// every change it reports is another process's.
type externalWatch struct {
	db      *sql.DB // the writer's pool of one connection
	mu      sync.Mutex
	version int64
	polled  atomic.Int64 // unix nanoseconds of the last poll
}

// poll asks data_version when the last poll is externalPollInterval old,
// and moves gen if it changed. Callers that find a poll under way go on
// without waiting for it.
func (w *externalWatch) poll(gen *atomic.Uint64) {
	if w == nil || w.db == nil || time.Now().UnixNano()-w.polled.Load() < externalPollInterval.Nanoseconds() || !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), externalWait)
	defer cancel()
	var v int64
	err := w.db.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	w.polled.Store(time.Now().UnixNano())
	if err != nil {
		// The writer connection is busy with this Store's own write, or
		// waiting for another process's lock. A counted write moves the
		// generation itself; a quiet one (a run's log line) does not, and
		// a commit by another process meanwhile is seen at a later poll,
		// externalPollInterval on. Waiting here instead would hold up the
		// page that asked.
		return
	}
	if v != w.version {
		w.version = v
		gen.Add(1)
	}
}

// genMemo keeps values read from the database under the generation they
// were read at, and gives one back only while that generation is current:
// an exact copy, never a stale one. It is bounded; when full it starts
// again, which only costs reads.
type genMemo[K comparable, V any] struct {
	mu   sync.Mutex
	seen map[K]genEntry[V]
}

type genEntry[V any] struct {
	gen uint64
	val V
}

// maxMemo bounds each genMemo.
const maxMemo = 4096

func (m *genMemo[K, V]) get(key K, gen uint64) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.seen[key]
	return e.val, ok && e.gen == gen
}

func (m *genMemo[K, V]) put(key K, gen uint64, val V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) >= maxMemo {
		m.seen = map[K]genEntry[V]{}
	}
	m.seen[key] = genEntry[V]{gen, val}
}
