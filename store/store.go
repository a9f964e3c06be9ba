// Package store owns wsusfix's SQLite database: the schema and its
// migrations, and every query. It imports nothing else of wsusfix and knows
// nothing of HTTP; callers get plain records and typed errors.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Per-connection pragmas travel in the DSN so every pooled connection gets
// them; busy_timeout comes first so the others wait rather than fail.
// synchronous(FULL): the audit trail and run logs must survive power loss.
const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)"

// exportConns is how many exports read at once. An export's walk holds
// its connection for as long as its client takes to download, so the
// exports have a pool of their own: slow downloads make only other
// downloads wait, never a page. A walk is one query, so a waiting export
// starts once one ends.
const exportConns = 4

// Store is the database. It is safe for concurrent use.
type Store struct {
	write    writer  // one connection, BEGIN IMMEDIATE: writers queue in Go, not in SQLite
	read     *sql.DB // query_only pool for everything else
	exports  *sql.DB // query_only pool of the exports' walks (exportConns)
	now      func() time.Time
	stmts    stmtCache                           // the writer's bulk statements
	evidence genMemo[int64, map[uint32]Evidence] // RepairEvidence by window start (unix ms)
	sessions sessionMemo
	users    genMemo[int64, User]
	counts   genMemo[string, []CodeCount] // FailureCounts by group and search
	external externalWatch
	givenSeq atomic.Int64 // numbers each Given
}

// Open opens (creating if needed) the database file at path and applies any
// pending migrations. A new database is created readable by its owner only
// (0600), and so are its -wal and -shm files, whatever the umask: they hold
// password hashes, sessions and the audit log. An existing file keeps its
// mode; Files names what to check.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: open: empty database path")
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	file := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// The writer's page cache is 32 MiB rather than SQLite's 2 MiB: bulk
	// upserts and failure summaries touch hosts all over a large table,
	// and a small cache spills dirty pages into the WAL mid-transaction
	// and reads them back. It is an upper bound, reached only by large
	// databases, and fixed whatever the size of an import.
	w, err := sql.Open("sqlite", file+"&_pragma=cache_size(-32768)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Fresh planner statistics keep the triage queries on their partial
	// indexes; analysis_limit bounds the cost on a large database.
	if _, err := w.ExecContext(ctx, "PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: optimize: %w", path, err)
	}
	r, err := sql.Open("sqlite", file+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()))
	r.SetMaxIdleConns(max(4, runtime.NumCPU()))
	x, err := sql.Open("sqlite", file+"&_pragma=query_only(1)")
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	x.SetMaxOpenConns(exportConns)
	gen := new(atomic.Uint64)
	s := &Store{write: writer{w, gen}, read: r, exports: x, now: time.Now, external: externalWatch{db: w}}
	s.external.poll(gen) // the version to compare with from now on
	return s, nil
}

// createPrivate creates path empty with mode 0600 unless it exists.
// SQLite gives the -wal and -shm files it creates the main file's mode, so
// creating the main file first, rather than letting SQLite create it with
// 0644, is what keeps all three private.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// The umask can only take bits away; Chmod makes the mode exactly 0600
	// even under an umask such as 0277 that would leave it unwritable.
	return errors.Join(f.Chmod(0o600), f.Close())
}

// Files lists the files SQLite keeps for the database at path: the file
// itself and its -wal and -shm companions, which exist while it is open
// and hold recent changes. Everything in them is as sensitive as the main
// file.
func Files(path string) []string {
	return []string{path, path + "-wal", path + "-shm"}
}

// Close runs PRAGMA optimize and closes both pools. Call it last.
func (s *Store) Close() error {
	_, _ = s.write.quiet().Exec("PRAGMA optimize")
	s.stmts.close()
	return errors.Join(s.exports.Close(), s.read.Close(), s.write.quiet().Close())
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return mapErr("ping", s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

// querier is what private helpers need, satisfied by *sql.DB and *sql.Tx, so
// they compose inside a transaction or run alone.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// withTx runs fn in an immediate transaction on the writer. Never call a
// public write method from fn: the writer has one connection.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.quietTx(ctx, fn); err != nil {
		return err
	}
	s.write.gen.Add(1) // after the commit: see writer
	return nil
}

// quietTx is withTx for changes no page shows (run log lines): it leaves
// the generation where it is.
func (s *Store) quietTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.quiet().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ms converts a time to stored unix milliseconds; the zero time is NULL.
func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS converts stored unix milliseconds back to UTC; NULL is the zero time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}
