package remote_test

import (
	"context"
	"sync"
	"testing"

	"wsusfix/remote"
)

// TestExecutor_ScansPerServer ensures a bulk repair runs no more repairs at
// once against one WSUS server than ScansPerServer, beside the overall
// concurrency, and that the repairs waiting for their server do not hold
// back checks, which do not scan.
func TestExecutor_ScansPerServer(t *testing.T) {
	rec := newMemRecorder()
	var mu sync.Mutex
	active, most := 0, 0
	started := make(chan remote.Job, 10)
	release := make(chan struct{})
	run := func(ctx context.Context, job remote.Job, sink remote.Sink) remote.Result {
		if job.Procedure == remote.ProcedureRepair {
			mu.Lock()
			active++
			most = max(most, active)
			mu.Unlock()
			defer func() { mu.Lock(); active--; mu.Unlock() }()
		}
		started <- job
		<-release
		return remote.Result{State: "succeeded", Outcome: "repaired"}
	}
	exec := remote.NewExecutor(rec, remote.NewHub(), run, remote.ExecutorOptions{Concurrency: 6, ScansPerServer: 2})
	defer exec.Close(context.Background())
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	defer letGo() // before Close: a failed check must not leave runs blocked
	id := int64(0)
	for _, procedure := range []string{"repair", "repair", "repair", "repair", "repair", "check", "check"} {
		id++
		if err := exec.Submit(remote.Job{RunID: id, HostID: id, Procedure: procedure}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is released before four runs have started: two repairs (the
	// server's share) and both checks, which went past the waiting repairs.
	var first []string
	for range 4 {
		first = append(first, (<-started).Procedure)
	}
	repairs := 0
	for _, p := range first {
		if p == remote.ProcedureRepair {
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
