package runner_test

import (
	"context"
	"sync"
	"testing"

	"wsusfix/remote/runner"
	"wsusfix/store/run"
)

// TestExecutor_ScansPerServer ensures a bulk repair runs no more repairs at
// once against one WSUS server than ScansPerServer, beside the overall
// concurrency, and that the repairs waiting for their server do not hold
// back checks, which do not scan.
func TestExecutor_ScansPerServer(t *testing.T) {
	t.Parallel()
	rec := newMemRecorder()
	var mu sync.Mutex
	active, most := 0, 0
	started := make(chan runner.Job, 10)
	release := make(chan struct{})
	fn := func(ctx context.Context, job runner.Job, sink runner.Sink) runner.Result {
		if job.Procedure == run.ProcedureRepair {
			mu.Lock()
			active++
			most = max(most, active)
			mu.Unlock()
			defer func() { mu.Lock(); active--; mu.Unlock() }()
		}
		started <- job
		<-release
		return runner.Result{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}
	}
	exec := runner.NewExecutor(rec, runner.NewHub(), fn, runner.Options{Concurrency: 6, ScansPerServer: 2})
	defer exec.Close(context.Background())
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	defer letGo() // before Close: a failed check must not leave runs blocked
	id := int64(0)
	for _, procedure := range []run.Procedure{run.ProcedureRepair, run.ProcedureRepair, run.ProcedureRepair, run.ProcedureRepair, run.ProcedureRepair, run.ProcedureCheck, run.ProcedureCheck} {
		id++
		if err := exec.Submit(runner.Job{RunID: id, HostID: id, Procedure: procedure}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is released before four runs have started: two repairs (the
	// server's share) and both checks, which went past the waiting repairs.
	var first []run.Procedure
	for range 4 {
		first = append(first, (<-started).Procedure)
	}
	repairs := 0
	for _, p := range first {
		if p == run.ProcedureRepair {
			repairs++
		}
	}
	if repairs != 2 {
		t.Fatalf("first four runs to start: %v; want two repairs and both checks", first)
	}
	// Then the runs are let go; the three waiting repairs start as places
	// free up.
	letGo()
	for range 3 {
		<-started
	}
	waitFinished(t, rec, 7)
	mu.Lock()
	defer mu.Unlock()
	if most != 2 {
		t.Fatalf("%d repairs ran at once against one WSUS server; want at most 2", most)
	}
}
