package main

import (
	"context"
	"fmt"

	"wsusfix/handlers/metrics"
	"wsusfix/remote/runner"
	"wsusfix/store"
	"wsusfix/store/ingest"
	runs "wsusfix/store/run"
)

// recorder satisfies runner.Recorder over the store: remote and store
// import nothing of each other, so this is where their records meet.
type recorder struct {
	st      *store.Store
	metrics *metrics.Registry // nil records no metrics
}

// StartRun marks the run running.
func (r recorder) StartRun(ctx context.Context, runID int64) error {
	return r.st.StartRun(ctx, runID)
}

// AppendEvents stores events and returns them numbered.
func (r recorder) AppendEvents(ctx context.Context, evs []runs.Event) ([]runs.Event, error) {
	stored, err := r.st.AppendRunEvents(ctx, evs)
	if err == nil {
		for _, ev := range stored {
			r.metrics.Step(ev)
		}
	}
	return stored, err
}

// SaveHistory stores history read from the host, skipping entries already
// known. The host is not trusted: its entries pass the same checks as an
// imported file's (lengths, KB form, operation and result names) before
// they reach the store, and the ones refused are named in the error, after
// the rest are stored.
func (r recorder) SaveHistory(ctx context.Context, hostID int64, entries []runner.HistoryEntry, source string) error {
	h, err := r.st.HostByID(ctx, hostID)
	if err != nil {
		return err
	}
	var refused []ingest.Rejection
	w := ingest.NewHistoryWriter(r.st, source, 0, func(rj ingest.Rejection) { refused = append(refused, rj) })
	for i, e := range entries {
		rec := ingest.HistoryRecord{Host: h.Name, At: e.Time, KB: e.KB, UpdateID: e.UpdateID, Title: e.Title,
			Operation: e.Operation, Result: string(e.Result), HResult: e.HResult}
		if err := w.Add(ctx, rec, i+1); err != nil {
			break // the store failed; Close returns its error
		}
	}
	if _, err := w.Close(ctx); err != nil {
		return err
	}
	if len(refused) > 0 {
		return fmt.Errorf("%d of %d entries refused; entry %d: %s", len(refused), len(entries), refused[0].Ref, refused[0].Reason)
	}
	return nil
}

// FinishRun records the end and, when the run says so, the host's state.
func (r recorder) FinishRun(ctx context.Context, job runner.Job, res runner.Result) (runs.Event, error) {
	if res.HostState != "" {
		if err := r.st.SetHostState(ctx, job.HostID, res.HostState); err != nil {
			return runs.Event{}, err
		}
	}
	ev, err := r.st.FinishRun(ctx, job.RunID, store.RunResult{State: res.State, Outcome: res.Outcome,
		Summary: res.Summary, Error: res.Error})
	if err == nil {
		r.metrics.RunFinished(job.Procedure, res.Outcome)
	}
	return ev, err
}
