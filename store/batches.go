package store

import (
	"context"
	"time"

	"wsusfix/store/run"
)

// Batch groups runs started together from the triage page.
type Batch struct {
	ID          int64
	Procedure   run.Procedure
	RequestedBy string
	Description string
	CreatedAt   time.Time
}

// CreateBatch records a new batch.
func (s *Store) CreateBatch(ctx context.Context, b Batch) (Batch, error) {
	b.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	err := s.write.QueryRowContext(ctx, `INSERT INTO batches (procedure, requested_by, description, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, b.Procedure, b.RequestedBy, b.Description, b.CreatedAt.UnixMilli()).Scan(&b.ID)
	return b, mapErr("create batch", err)
}

// Batch returns one batch.
func (s *Store) Batch(ctx context.Context, id int64) (Batch, error) {
	b := Batch{ID: id}
	var created int64
	err := s.read.QueryRowContext(ctx, "SELECT procedure, requested_by, description, created_at FROM batches WHERE id = ?", id).
		Scan(&b.Procedure, &b.RequestedBy, &b.Description, &created)
	b.CreatedAt = time.UnixMilli(created).UTC()
	return b, mapErr("batch", err)
}

// BatchCounts counts a batch's runs by state, and by outcome for ended runs.
func (s *Store) BatchCounts(ctx context.Context, id int64) (states map[run.State]int, outcomes map[run.Outcome]int, err error) {
	rows, err := s.read.QueryContext(ctx, "SELECT state, outcome, count(*) FROM runs WHERE batch_id = ? GROUP BY state, outcome", id)
	if err != nil {
		return nil, nil, mapErr("batch counts", err)
	}
	defer rows.Close()
	states, outcomes = map[run.State]int{}, map[run.Outcome]int{}
	for rows.Next() {
		var st run.State
		var oc run.Outcome
		var n int
		if err := rows.Scan(&st, &oc, &n); err != nil {
			return nil, nil, mapErr("batch counts", err)
		}
		states[st] += n
		if oc != "" {
			outcomes[oc] += n
		}
	}
	return states, outcomes, mapErr("batch counts", rows.Err())
}

// BatchSummary is one batch with its runs counted, for the list of
// batches: how many there are, how many have ended, and the outcomes.
type BatchSummary struct {
	Batch
	Runs     int
	Ended    int
	Outcomes map[run.Outcome]int
}

// Batches returns one page of batches, newest first, each with its runs
// counted, and how many batches there are in all.
func (s *Store) Batches(ctx context.Context, limit, offset int) ([]BatchSummary, int, error) {
	var total int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM batches").Scan(&total); err != nil {
		return nil, 0, mapErr("batches", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, procedure, requested_by, description, created_at FROM batches
		ORDER BY id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, mapErr("batches", err)
	}
	var out []BatchSummary
	for rows.Next() {
		var b BatchSummary
		var created int64
		if err := rows.Scan(&b.ID, &b.Procedure, &b.RequestedBy, &b.Description, &created); err != nil {
			rows.Close()
			return nil, 0, mapErr("batches", err)
		}
		b.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, mapErr("batches", err)
	}
	// One count per batch of the page, by the runs' batch index: a page
	// holds few batches, and each count reads only its own runs.
	for i := range out {
		states, outcomes, err := s.BatchCounts(ctx, out[i].ID)
		if err != nil {
			return nil, 0, err
		}
		for st, n := range states {
			out[i].Runs += n
			if !st.Active() {
				out[i].Ended += n
			}
		}
		out[i].Outcomes = outcomes
	}
	return out, total, nil
}
