package main

import (
	"context"

	"wsusfix/remote/runner"
	"wsusfix/store"
	runs "wsusfix/store/run"
)

// recorder satisfies runner.Recorder over the store: remote and store
// import nothing of each other, so this is where their records meet.
type recorder struct{ st *store.Store }

// StartRun marks the run running.
func (r recorder) StartRun(ctx context.Context, runID int64) error {
	return r.st.StartRun(ctx, runID)
}

// AppendEvents stores events and returns them numbered.
func (r recorder) AppendEvents(ctx context.Context, evs []runs.Event) ([]runs.Event, error) {
	return r.st.AppendRunEvents(ctx, evs)
}

// SaveHistory stores history read from the host, skipping entries already known.
func (r recorder) SaveHistory(ctx context.Context, hostID int64, entries []runner.HistoryEntry, source string) error {
	h, err := r.st.HostByID(ctx, hostID)
	if err != nil {
		return err
	}
	in := make([]store.EventInput, 0, len(entries))
	for _, e := range entries {
		in = append(in, store.EventInput{HostName: h.Name, At: e.Time, UpdateID: e.UpdateID, KB: e.KB, Title: e.Title,
			Operation: e.Operation, Result: e.Result, HResult: e.HResult, Source: source})
	}
	_, err = r.st.AddUpdateEvents(ctx, in)
	return err
}

// FinishRun records the end and, when the run says so, the host's state.
func (r recorder) FinishRun(ctx context.Context, job runner.Job, res runner.Result) (runs.Event, error) {
	if res.HostState != "" {
		if err := r.st.SetHostState(ctx, job.HostID, res.HostState); err != nil {
			return runs.Event{}, err
		}
	}
	return r.st.FinishRun(ctx, job.RunID, store.RunResult{State: res.State, Outcome: res.Outcome,
		Summary: res.Summary, Error: res.Error})
}
