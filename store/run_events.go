package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"wsusfix/store/run"
)

// AppendRunEvent stores ev with the run's next sequence number and returns
// it numbered. Events are stored before anyone is told of them.
func (s *Store) AppendRunEvent(ctx context.Context, ev run.Event) (run.Event, error) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	err := s.quietTx(ctx, func(tx *sql.Tx) error { return appendEvent(ctx, tx, &ev) })
	return ev, mapErr("append run event", err)
}

// AppendRunEvents stores several events in one transaction (output lines
// arriving together), numbering them in order. It reads each run's last
// number once and reuses one prepared insert: a busy fleet appends many.
func (s *Store) AppendRunEvents(ctx context.Context, evs []run.Event) ([]run.Event, error) {
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertEvent)
		if err != nil {
			return err
		}
		defer ins.Close()
		next := map[int64]int64{}
		for i := range evs {
			ev := &evs[i]
			if ev.At.IsZero() {
				ev.At = s.now()
			}
			seq, ok := next[ev.RunID]
			if !ok {
				if err := tx.QueryRowContext(ctx, lastSeq, ev.RunID).Scan(&seq); err != nil {
					return err
				}
			}
			ev.Seq, next[ev.RunID] = seq+1, seq+1
			if _, err := ins.ExecContext(ctx, eventArgs(ev)...); err != nil {
				return err
			}
		}
		return nil
	})
	return evs, mapErr("append run events", err)
}

const (
	lastSeq     = "SELECT ifnull(max(seq), 0) FROM run_events WHERE run_id = ?"
	insertEvent = `INSERT INTO run_events (run_id, seq, at, kind, step, stream, text, status, duration_ms, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func eventArgs(ev *run.Event) []any {
	return []any{ev.RunID, ev.Seq, ev.At.UnixMilli(), ev.Kind, ev.Step, ev.Stream, ev.Text, ev.Status, ev.DurationMS, ev.Detail}
}

// appendEvent numbers and inserts one event inside a transaction.
func appendEvent(ctx context.Context, q querier, ev *run.Event) error {
	if err := q.QueryRowContext(ctx, lastSeq, ev.RunID).Scan(&ev.Seq); err != nil {
		return err
	}
	ev.Seq++
	_, err := q.ExecContext(ctx, insertEvent, eventArgs(ev)...)
	return err
}

// RunEvents returns a run's events with seq greater than after, in order,
// at most limit (0: all).
func (s *Store) RunEvents(ctx context.Context, runID, after int64, limit int) ([]run.Event, error) {
	q := `SELECT run_id, seq, at, kind, step, stream, text, status, ifnull(duration_ms, 0), detail
		FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq`
	args := []any{runID, after}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr("run events", err)
	}
	defer rows.Close()
	var out []run.Event
	for rows.Next() {
		var ev run.Event
		var at int64
		if err := rows.Scan(&ev.RunID, &ev.Seq, &at, &ev.Kind, &ev.Step, &ev.Stream, &ev.Text, &ev.Status,
			&ev.DurationMS, &ev.Detail); err != nil {
			return nil, mapErr("run events", err)
		}
		ev.At = time.UnixMilli(at).UTC()
		out = append(out, ev)
	}
	return out, mapErr("run events", rows.Err())
}

// CurrentSteps returns the step each of the given runs last started, for
// a batch page that shows where every host is. Runs that have started no
// step are absent.
func (s *Store) CurrentSteps(ctx context.Context, runIDs []int64) (map[int64]run.Step, error) {
	out := map[int64]run.Step{}
	if len(runIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(runIDs)
	// Per run, the newest step_started by seq: the primary key (run_id,
	// seq) serves it backwards without a sort of the run's output.
	rows, err := s.read.QueryContext(ctx, `SELECT r.value, (SELECT step FROM run_events e
			WHERE e.run_id = r.value AND e.kind = ? ORDER BY e.seq DESC LIMIT 1)
		FROM json_each(?) r`, run.EventStepStarted, string(ids))
	if err != nil {
		return nil, mapErr("current steps", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var step sql.NullString
		if err := rows.Scan(&id, &step); err != nil {
			return nil, mapErr("current steps", err)
		}
		if step.Valid {
			out[id] = run.Step(step.String)
		}
	}
	return out, mapErr("current steps", rows.Err())
}
