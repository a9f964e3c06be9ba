package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"wsusfix/store/run"
)

// Run is one repair (or check) of one host.
type Run struct {
	ID          int64
	HostID      int64
	HostName    string
	BatchID     int64 // 0 when started alone
	Procedure   run.Procedure
	RequestedBy string
	State       run.State
	Outcome     run.Outcome
	Summary     string
	Error       string
	CreatedAt   time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
}

// Active reports whether the run has not ended.
func (r Run) Active() bool { return r.State == run.StateQueued || r.State == run.StateRunning }

// ActiveRunError is returned (wrapping ErrConflict) when a host already has
// a queued or running run; RunID names it so the caller can link to it.
type ActiveRunError struct {
	Host  string
	RunID int64
}

// Error returns the message.
func (e *ActiveRunError) Error() string {
	return fmt.Sprintf("store: host %s already has active run %d", e.Host, e.RunID)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ActiveRunError) Unwrap() error { return ErrConflict }

// RunInput is a run to create.
type RunInput struct {
	HostID      int64
	BatchID     int64
	Procedure   run.Procedure
	RequestedBy string
}

// CreateRun queues a run. The database refuses a second active run for a
// host (a partial unique index), so two clicks cannot both start one.
func (s *Store) CreateRun(ctx context.Context, in RunInput) (Run, error) {
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		// The host's failure as the run begins, copied in the same
		// statement: what the run set out to fix, whatever changes later.
		return tx.QueryRowContext(ctx, `INSERT INTO runs (host_id, batch_id, procedure, requested_by, created_at, fail_hresult, fail_at)
			SELECT ?1, nullif(?2, 0), ?3, ?4, ?5, CASE WHEN h.state = 'failing' THEN h.fail_hresult END,
				CASE WHEN h.state = 'failing' THEN h.fail_at END
			FROM (SELECT 1) LEFT JOIN hosts h ON h.id = ?1 RETURNING id`,
			in.HostID, in.BatchID, in.Procedure, in.RequestedBy, s.now().UnixMilli()).Scan(&id)
	})
	if err := mapErr("create run", err); err != nil {
		if errors.Is(err, ErrConflict) {
			if active, aerr := s.ActiveRun(ctx, in.HostID); aerr == nil {
				return Run{}, &ActiveRunError{Host: active.HostName, RunID: active.ID}
			}
		}
		return Run{}, err
	}
	return s.Run(ctx, id)
}

const runColumns = `r.id, r.host_id, h.name, ifnull(r.batch_id, 0), r.procedure, r.requested_by, r.state,
	r.outcome, r.summary, r.error, r.created_at, r.started_at, r.finished_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var created int64
	var started, finished sql.NullInt64
	err := sc.Scan(&r.ID, &r.HostID, &r.HostName, &r.BatchID, &r.Procedure, &r.RequestedBy, &r.State,
		&r.Outcome, &r.Summary, &r.Error, &created, &started, &finished)
	r.CreatedAt, r.StartedAt, r.FinishedAt = time.UnixMilli(created).UTC(), fromMS(started), fromMS(finished)
	return r, err
}

// Run returns one run.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.read.QueryRowContext(ctx,
		"SELECT "+runColumns+" FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?", id))
	return r, mapErr(fmt.Sprintf("run %d", id), err)
}

// ActiveRun returns the host's queued or running run, or ErrNotFound.
func (s *Store) ActiveRun(ctx context.Context, hostID int64) (Run, error) {
	r, err := scanRun(s.read.QueryRowContext(ctx, "SELECT "+runColumns+
		" FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.host_id = ? AND r.state IN ('queued', 'running')", hostID))
	return r, mapErr("active run", err)
}

// StartRun moves a queued run to running. It fails with ErrConflict when
// the run is no longer queued (cancelled while waiting, for instance).
func (s *Store) StartRun(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, "UPDATE runs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'",
		s.now().UnixMilli(), id)
	if err != nil {
		return mapErr("start run", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: start run %d: not queued: %w", id, ErrConflict)
	}
	return nil
}

// RunResult is how a run ended.
type RunResult struct {
	State   run.State // a final state
	Outcome run.Outcome
	Summary string
	Error   string
}

// FinishRun records a run's end and appends its run_finished event in the
// same transaction, so a watcher that sees the event sees the final row.
// It returns that event. A run already finished is left alone (ErrConflict).
func (s *Store) FinishRun(ctx context.Context, id int64, res RunResult) (run.Event, error) {
	var ev run.Event
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		r, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, outcome = ?, summary = ?, error = ?, finished_at = ?
			WHERE id = ? AND state IN ('queued', 'running')`, res.State, res.Outcome, res.Summary, res.Error, now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("run %d already finished: %w", id, ErrConflict)
		}
		ev = run.Event{RunID: id, At: now, Kind: run.EventRunFinished, Status: string(res.State), Text: res.Summary, Detail: string(res.Outcome)}
		return appendEvent(ctx, tx, &ev)
	})
	return ev, mapErr("finish run", err)
}

// InterruptRuns marks every queued or running run as interrupted, with the
// reason as its error and a run_finished event, and returns how many. Call
// it at start-up: a run left active by a crash must not look alive, and is
// never re-run by itself (its host may be half-repaired).
func (s *Store) InterruptRuns(ctx context.Context, reason string) (int, error) {
	n := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, "SELECT id FROM runs WHERE state IN ('queued', 'running')")
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := s.now()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET state = 'interrupted', outcome = 'interrupted', error = ?,
				finished_at = ? WHERE id = ?`, reason, now.UnixMilli(), id); err != nil {
				return err
			}
			ev := run.Event{RunID: id, At: now, Kind: run.EventRunFinished, Status: string(run.StateInterrupted), Text: reason, Detail: string(run.OutcomeInterrupted)}
			if err := appendEvent(ctx, tx, &ev); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, mapErr("interrupt runs", err)
}

// RunFilter selects runs for the runs page.
type RunFilter struct {
	HostID  int64
	Host    string // name substring
	State   run.State
	Who     string
	BatchID int64
	// Code, when set, keeps repair runs whose host was failing with this
	// HRESULT when they began (the estate's evidence links here).
	Code   uint32
	Since  time.Time
	Until  time.Time
	Limit  int
	Offset int
}

// Runs returns runs newest first and how many match in all.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, int, error) {
	if err := checkFilterText("runs", f.Host, string(f.State), f.Who); err != nil {
		return nil, 0, err
	}
	from, args := f.from()
	var total int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*)"+from, args...).Scan(&total); err != nil {
		return nil, 0, mapErr("runs", err)
	}
	q := "SELECT " + runColumns + from + runOrder
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	var out []Run
	err := s.queryRuns(ctx, s.read, "runs", q, args, func(r *Run) error { out = append(out, *r); return nil })
	return out, total, err
}

// EachRun calls fn for every run the filter selects, in Runs' order
// (newest first); Limit and Offset are ignored, since an export wants
// them all. The runs come from one query, which SQLite answers from one
// snapshot of the database however long fn takes: a run created, changed
// or removed meanwhile cannot shift, repeat or drop a row. (The snapshot
// also keeps the WAL from being checkpointed past it until the walk
// ends.) It fills one Run for every row: fn must not keep it. fn's error
// stops the walk and is returned.
func (s *Store) EachRun(ctx context.Context, f RunFilter, fn func(*Run) error) error {
	if err := checkFilterText("each run", f.Host, string(f.State), f.Who); err != nil {
		return err
	}
	from, args := f.from()
	return s.queryRuns(ctx, s.exports, "each run", "SELECT "+runColumns+from+runOrder, args, fn)
}

// queryRuns runs q, which selects runColumns, and calls fn with each run
// in one Run it reuses; op names the operation in errors.
func (s *Store) queryRuns(ctx context.Context, db *sql.DB, op, q string, args []any, fn func(*Run) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr(op, err)
	}
	defer rows.Close()
	var r Run
	for rows.Next() {
		if r, err = scanRun(rows); err != nil {
			return mapErr(op, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return mapErr(op, rows.Err())
}

// runOrder is the order of every list of runs: newest first, the id
// ordering runs created in the same millisecond (index runs_created).
const runOrder = " ORDER BY r.created_at DESC, r.id DESC"

// from is the FROM and WHERE clauses selecting the filter's runs, with
// their arguments; Limit and Offset are left to the caller.
func (f RunFilter) from() (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) { conds = append(conds, cond); args = append(args, v) }
	if f.HostID != 0 {
		add("r.host_id = ?", f.HostID)
	}
	if f.Host != "" {
		add(`h.name LIKE ? ESCAPE '\'`, likePattern(f.Host))
	}
	if f.State != "" {
		add("r.state = ?", f.State)
	}
	if f.Who != "" {
		add("r.requested_by = ?", f.Who)
	}
	if f.BatchID != 0 {
		add("r.batch_id = ?", f.BatchID)
	}
	if f.Code != 0 {
		add("r.fail_hresult = ? AND r.procedure = 'repair'", int64(f.Code))
	}
	if !f.Since.IsZero() {
		add("r.created_at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("r.created_at < ?", f.Until.UnixMilli())
	}
	return " FROM runs r JOIN hosts h ON h.id = r.host_id WHERE " + strings.Join(conds, " AND "), args
}

// SetHostState records what a repair's verification says about a host.
func (s *Store) SetHostState(ctx context.Context, hostID int64, state string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		ids := idList(hostID)
		if err := adjustHostSummaries(ctx, tx, ids, -1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE hosts SET state = ?, updated_at = ? WHERE id = ?", state, s.now().UnixMilli(), hostID); err != nil {
			return err
		}
		return adjustHostSummaries(ctx, tx, ids, 1)
	})
	return mapErr("set host state", err)
}

// LastRuns returns the newest run of each of the given hosts that has
// one, by host id: the triage page's "last run" column for one page of
// hosts, in one query over the runs' host index.
func (s *Store) LastRuns(ctx context.Context, hostIDs []int64) (map[int64]Run, error) {
	out := map[int64]Run{}
	if len(hostIDs) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(hostIDs)), ",")
	args := make([]any, len(hostIDs))
	for i, id := range hostIDs {
		args[i] = id
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+runColumns+` FROM runs r JOIN hosts h ON h.id = r.host_id
		WHERE r.id IN (SELECT max(id) FROM runs WHERE host_id IN (`+marks+`) GROUP BY host_id)`, args...)
	if err != nil {
		return nil, mapErr("last runs", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, mapErr("last runs", err)
		}
		out[r.HostID] = r
	}
	return out, mapErr("last runs", rows.Err())
}

// ActiveRuns counts the runs queued and running now, by state; the
// partial index runs_active answers it without reading finished runs.
func (s *Store) ActiveRuns(ctx context.Context) (map[run.State]int, error) {
	// Literal states, as in the index's WHERE, so the planner can use it.
	rows, err := s.read.QueryContext(ctx, "SELECT state, count(*) FROM runs WHERE state IN ('queued', 'running') GROUP BY state")
	if err != nil {
		return nil, mapErr("active runs", err)
	}
	defer rows.Close()
	out := map[run.State]int{}
	for rows.Next() {
		var st run.State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, mapErr("active runs", err)
		}
		out[st] = n
	}
	return out, mapErr("active runs", rows.Err())
}
