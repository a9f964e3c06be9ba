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
