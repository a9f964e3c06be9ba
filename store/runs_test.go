package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"wsusfix/store/run"
)

func newRunHost(t *testing.T, s *Store, name string) Host {
	t.Helper()
	addHosts(t, s, HostInput{Name: name})
	h, err := s.HostByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStore_OneActiveRunPerHost ensures that of many concurrent attempts to
// start a run on one host exactly one succeeds, the others learning which
// run is active; after it ends a new one may start.
func TestStore_OneActiveRunPerHost(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	h := newRunHost(t, s, "PC1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, conflicts int
	var active []int64
	for range 20 {
		wg.Go(func() {
			_, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "alice"})
			mu.Lock()
			defer mu.Unlock()
			var are *ActiveRunError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &are) && errors.Is(err, ErrConflict):
				conflicts++
				active = append(active, are.RunID)
			default:
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 19 {
		t.Fatalf("%d started, %d conflicts; want 1 and 19", ok, conflicts)
	}
	cur, err := s.ActiveRun(ctx, h.ID)
	if err != nil || active[0] != cur.ID || cur.HostName != "PC1" || cur.State != run.StateQueued {
		t.Fatalf("active run %+v (%v); conflicts named %d", cur, err, active[0])
	}
	if err := s.StartRun(ctx, cur.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, cur.ID, RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, cur.ID, RunResult{State: run.StateFailed}); !errors.Is(err, ErrConflict) {
		t.Fatalf("finishing twice: %v, want ErrConflict", err)
	}
	if _, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "bob"}); err != nil {
		t.Fatalf("new run after the first ended: %v", err)
	}
}

// TestStore_RunEvents ensures events are numbered per run from 1 without
// gaps, read back after a sequence number, and closed by run_finished.
func TestStore_RunEvents(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	a, b := newRunHost(t, s, "A"), newRunHost(t, s, "B")
	ra, err := s.CreateRun(ctx, RunInput{HostID: a.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.CreateRun(ctx, RunInput{HostID: b.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendRunEvent(ctx, run.Event{RunID: ra.ID, Kind: run.EventStepStarted, Step: run.StepPreflight}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendRunEvent(ctx, run.Event{RunID: rb.ID, Kind: run.EventStepStarted, Step: run.StepPreflight}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.AppendRunEvents(ctx, []run.Event{
		{RunID: ra.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stdout", Text: "line 1"},
		{RunID: ra.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stderr", Text: "\n\nevent: done"},
	})
	if err != nil || evs[0].Seq != 2 || evs[1].Seq != 3 {
		t.Fatalf("batch append numbered %+v (%v)", evs, err)
	}
	fin, err := s.FinishRun(ctx, ra.ID, RunResult{State: run.StateFailed, Outcome: run.OutcomeRefused, Summary: "reboot pending"})
	if err != nil || fin.Seq != 4 || fin.Kind != run.EventRunFinished {
		t.Fatalf("finish event %+v (%v)", fin, err)
	}
	got, err := s.RunEvents(ctx, ra.ID, 1, 0)
	if err != nil || len(got) != 3 || got[0].Seq != 2 || got[1].Text != "\n\nevent: done" || got[2].Status != string(run.StateFailed) {
		t.Fatalf("events after 1: %+v (%v)", got, err)
	}
	if other, _ := s.RunEvents(ctx, rb.ID, 0, 0); len(other) != 1 || other[0].Seq != 1 {
		t.Fatalf("run B numbered with A's events: %+v", other)
	}
}

// TestStore_InterruptRuns ensures runs left active by a crash are marked
// interrupted with the reason, and finished runs are untouched.
func TestStore_InterruptRuns(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	a, b, c := newRunHost(t, s, "A"), newRunHost(t, s, "B"), newRunHost(t, s, "C")
	running, err := s.CreateRun(ctx, RunInput{HostID: a.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, running.ID); err != nil {
		t.Fatal(err)
	}
	queued, err := s.CreateRun(ctx, RunInput{HostID: b.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.CreateRun(ctx, RunInput{HostID: c.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, done.ID, RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}); err != nil {
		t.Fatal(err)
	}

	n, err := s.InterruptRuns(ctx, "server restarted while the run was active")
	if err != nil || n != 2 {
		t.Fatalf("interrupted %d (%v), want 2", n, err)
	}
	for _, id := range []int64{running.ID, queued.ID} {
		r, _ := s.Run(ctx, id)
		if r.State != run.StateInterrupted || r.Error == "" || r.FinishedAt.IsZero() {
			t.Fatalf("run %d = %+v, want interrupted with a reason", id, r)
		}
	}
	if r, _ := s.Run(ctx, done.ID); r.State != run.StateSucceeded {
		t.Fatalf("finished run changed to %s", r.State)
	}
	runs, total, err := s.Runs(ctx, RunFilter{State: run.StateInterrupted})
	if err != nil || total != 2 || len(runs) != 2 || runs[0].ID != queued.ID {
		t.Fatalf("Runs(interrupted) = %d of %d, first %+v (%v)", len(runs), total, runs, err)
	}
}

// TestStore_Batches ensures a batch counts its runs by state and outcome.
func TestStore_Batches(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	b, err := s.CreateBatch(ctx, Batch{Procedure: run.ProcedureRepair, RequestedBy: "x", Description: "0x80070002"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"A", "B", "C"} {
		h := newRunHost(t, s, name)
		r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, BatchID: b.ID, Procedure: run.ProcedureRepair, RequestedBy: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := s.FinishRun(ctx, r.ID, RunResult{State: run.StateFailed, Outcome: run.OutcomeUnreachable}); err != nil {
				t.Fatal(err)
			}
		}
	}
	states, outcomes, err := s.BatchCounts(ctx, b.ID)
	if err != nil || states[run.StateQueued] != 2 || states[run.StateFailed] != 1 || outcomes[run.OutcomeUnreachable] != 1 {
		t.Fatalf("counts %v %v (%v)", states, outcomes, err)
	}
}

// TestStore_CurrentSteps ensures each run's current step is the last one
// it started, and a run that started none has none.
func TestStore_CurrentSteps(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1"}, HostInput{Name: "PC-2"})
	h1, _ := s.HostByName(ctx, "PC-1")
	h2, _ := s.HostByName(ctx, "PC-2")
	r1, err := s.CreateRun(ctx, RunInput{HostID: h1.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.CreateRun(ctx, RunInput{HostID: h2.ID, Procedure: run.ProcedureRepair, RequestedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []run.Event{
		{RunID: r1.ID, Kind: run.EventStepStarted, Step: run.StepConnect},
		{RunID: r1.ID, Kind: run.EventStepFinished, Step: run.StepConnect, Status: "ok"},
		{RunID: r1.ID, Kind: run.EventStepStarted, Step: run.StepStopServices},
		{RunID: r1.ID, Kind: run.EventOutput, Step: run.StepStopServices, Text: "stopping wuauserv"},
	} {
		if _, err := s.AppendRunEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CurrentSteps(ctx, []int64{r1.ID, r2.ID})
	if err != nil || len(got) != 1 || got[r1.ID] != run.StepStopServices {
		t.Errorf("current steps %v, %v; want run %d at stop-services only", got, err, r1.ID)
	}
}

// TestStore_EachRun ensures EachRun gives, under each filter, the runs
// Runs lists, in its order (newest first, the id breaking ties), whatever
// the Limit and Offset; that fn's error stops the walk and is what it
// returns; and that a walk during which runs are created and finished
// gives the runs as they were when it began, none twice or missed.
func TestStore_EachRun(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	b, err := s.CreateBatch(ctx, Batch{Procedure: run.ProcedureRepair, RequestedBy: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := []Host{newRunHost(t, s, "PC-1"), newRunHost(t, s, "PC-2"), newRunHost(t, s, "LAP-1")}
	addEvents(t, s, ev("PC-1", 1, "5001", run.ResultFailed, fileNotFound), ev("LAP-1", 1, "5002", run.ResultFailed, pathNotFound))
	for i := range 30 {
		// Three runs to each moment: the id orders them.
		s.now = func() time.Time { return fixedNow.Add(time.Duration(i/3) * time.Hour) }
		in := RunInput{HostID: hosts[i%3].ID, Procedure: run.ProcedureRepair, RequestedBy: []string{"olga", "bob"}[i%2]}
		if i%4 == 0 {
			in.BatchID = b.ID
		}
		if i%5 == 0 {
			in.Procedure = run.ProcedureCheck
		}
		r, err := s.CreateRun(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 27 {
			continue // each host's last run stays queued
		}
		if _, err := s.FinishRun(ctx, r.ID, RunResult{State: []run.State{run.StateSucceeded, run.StateFailed}[i%2],
			Outcome: run.OutcomeRepaired}); err != nil {
			t.Fatal(err)
		}
	}
	s.now = func() time.Time { return fixedNow.Add(time.Hour) }
	each := func(f RunFilter) []Run {
		t.Helper()
		var got []Run
		if err := s.EachRun(ctx, f, func(r *Run) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, f := range []RunFilter{{}, {HostID: hosts[1].ID}, {Host: "pc-"}, {State: run.StateFailed}, {Who: "bob"},
		{BatchID: b.ID}, {Code: fileNotFound}, {Since: fixedNow.Add(2 * time.Hour), Until: fixedNow.Add(5 * time.Hour)}} {
		want, total, err := s.Runs(ctx, f)
		if err != nil || total == 0 || total == 30 && f != (RunFilter{}) {
			t.Fatalf("Runs(%+v): %d, %v: the filter selects nothing to compare", f, total, err)
		}
		if got := each(f); !slices.Equal(got, want) {
			t.Errorf("EachRun(%+v): %d runs, Runs lists %d\n got %v\nwant %v", f, len(got), len(want), ids(got), ids(want))
		}
	}
	all, _, _ := s.Runs(ctx, RunFilter{})
	if got := each(RunFilter{Limit: 2, Offset: 5}); !slices.Equal(got, all) {
		t.Errorf("EachRun with a Limit: %d runs, want all %d", len(got), len(all))
	}

	stop := errors.New("stop")
	calls := 0
	if err := s.EachRun(ctx, RunFilter{}, func(*Run) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn failing: %v after %d calls, want its error after 1", err, calls)
	}

	// While the walk is at its first run, the second (queued) is
	// cancelled and a run newer than all is created.
	var got []Run
	err = s.EachRun(ctx, RunFilter{}, func(r *Run) error {
		if len(got) == 0 {
			if _, err := s.FinishRun(ctx, all[1].ID, RunResult{State: run.StateCancelled}); err != nil {
				return err
			}
			pc3 := newRunHost(t, s, "PC-3")
			s.now = func() time.Time { return fixedNow.Add(24 * time.Hour) }
			if _, err := s.CreateRun(ctx, RunInput{HostID: pc3.ID, Procedure: run.ProcedureCheck, RequestedBy: "olga"}); err != nil {
				return err
			}
		}
		got = append(got, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, all) {
		t.Errorf("a walk during changes: %v\nwant the runs as it began: %v", ids(got), ids(all))
	}
	if now, _, _ := s.Runs(ctx, RunFilter{}); len(now) != len(all)+1 {
		t.Errorf("after the walk: %d runs, want %d", len(now), len(all)+1)
	}
}

// ids are the runs' ids, and their states, in order, for messages.
func ids(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = fmt.Sprintf("%d:%s", r.ID, r.State)
	}
	return out
}
