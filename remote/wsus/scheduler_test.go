package wsus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
)

// dialFleet dials the fleet's WSUS server with the real client, as serve
// does for each sync.
func dialFleet(t *testing.T, f *remotetest.Fleet) wsus.Dial {
	client := f.Client(t, nil)
	return func(ctx context.Context) (wsus.Session, error) {
		return client.Open(ctx, remote.Target{Name: f.Sim.WSUSServer})
	}
}

// TestRecorded_Outcomes ensures each sync is kept like a run, whatever
// its end: counts for a good one, the collector's reason for a refused
// one, the host's error for one that could not connect, and the refused
// records, with their positions, for a partial one.
func TestRecorded_Outcomes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// 6 clients and the WSUS server, which reports to itself.
	f := remotetest.NewFleetWith(t, 6, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	dial := dialFleet(t, f)

	good, sum, err := wsus.Recorded(ctx, st, dial, wsus.Options{Server: "WSUS01"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if good.Outcome != store.SyncSucceeded || !good.Full || good.StartedBy != "alice" || good.Counts.Computers != 7 ||
		good.Counts.New != 7 || good.Counts.Failing != sum.Failing || good.FinishedAt.IsZero() {
		t.Errorf("first sync recorded as %+v", good)
	}

	f.Srv.SetFault("WSUS01", sim.FaultWSUSNoRights)
	refused, _, err := wsus.Recorded(ctx, st, dial, wsus.Options{Server: "WSUS01"}, store.SyncBySchedule)
	if err == nil || refused.Outcome != store.SyncFailed || refused.Full ||
		!strings.Contains(refused.Error, "wsus_access_denied") || !strings.Contains(refused.Log, "output: Connecting to WSUS") {
		t.Errorf("refused sync: %v, recorded as %+v", err, refused)
	}

	f.Srv.SetFault("WSUS01", sim.FaultUnreachable)
	lost, _, err := wsus.Recorded(ctx, st, dial, wsus.Options{Server: "WSUS01"}, store.SyncBySchedule)
	if !errors.Is(err, remote.ErrUnreachable) || lost.Outcome != store.SyncFailed || lost.Error == "" {
		t.Errorf("unreachable sync: %v, recorded as %+v", err, lost)
	}

	const out = `WSUSFIX {"kind":"computers", cut off` + "\r\n" +
		`WSUSFIX {"kind":"result","step":"wsus-inventory","status":"ok","message":"listed 0","server_time":"2026-12-01T09:00:00Z","computers":0}` + "\r\n"
	broken := func(context.Context) (wsus.Session, error) { return closer{scripted(out)}, nil }
	partial, _, err := wsus.Recorded(ctx, st, broken, wsus.Options{Server: "WSUS02"}, "bob")
	if err != nil || partial.Outcome != store.SyncPartial || partial.Counts.Problems != 1 ||
		!strings.Contains(partial.Log, "output line 1: a result line that is not one JSON object") {
		t.Errorf("partial sync: %v, recorded as %+v", err, partial)
	}

	all, err := st.Syncs(ctx, 10)
	if err != nil || len(all) != 4 || all[0].ID != partial.ID || all[3].ID != good.ID {
		t.Errorf("syncs listed %d, %v; want 4, newest first", len(all), err)
	}
	last, err := st.LastGoodSync(ctx)
	if err != nil || last.ID != partial.ID {
		t.Errorf("last good sync %+v, %v; want the partial one, which committed what it read", last, err)
	}
}

// closer gives a scripted runner the Close of a session.
type closer struct{ wsus.Runner }

func (closer) Close() error { return nil }

// gated dials only once release is closed, so a test can hold a sync
// running.
func gated(dial wsus.Dial, release <-chan struct{}) wsus.Dial {
	return func(ctx context.Context) (wsus.Session, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return dial(ctx)
	}
}

// TestScheduler_StartIsExclusive ensures a sync on request runs in the
// background, shows as running with its id, refuses a second one meanwhile,
// and is recorded when it ends.
func TestScheduler_StartIsExclusive(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 4, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	release := make(chan struct{})
	s := wsus.NewScheduler(st, gated(dialFleet(t, f), release), wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"}})
	if _, err := s.Start("alice", false); err == nil {
		t.Error("Start before Run succeeded")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// With no schedule, the first Start that finds Run going is the only sync.
	var id int64
	waitFor(t, func() bool {
		var err error
		id, err = s.Start("alice", true)
		return err == nil
	})
	if _, err := s.Start("bob", false); !errors.Is(err, wsus.ErrBusy) {
		t.Errorf("second Start: %v, want ErrBusy", err)
	}
	cur, next := s.State()
	if cur == nil || cur.ID != id || !cur.Full || !next.IsZero() {
		t.Fatalf("state while running: %+v, next %v", cur, next)
	}
	close(release)
	waitFor(t, func() bool { c, _ := s.State(); return c == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all, err := st.Syncs(t.Context(), 10)
	if err != nil || len(all) == 0 {
		t.Fatalf("syncs %v, %v", all, err)
	}
	if len(all) != 1 || all[0].ID != id || all[0].Outcome != store.SyncSucceeded || !all[0].Full ||
		all[0].StartedBy != "alice" || all[0].Counts.Computers != 5 {
		t.Errorf("syncs %+v, want the one started as %d", all, id)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestScheduler_Schedule ensures the schedule syncs at once and then every
// interval, incrementally once a full reconcile is recent, and says when
// the next one is due.
func TestScheduler_Schedule(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 3, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	s := wsus.NewScheduler(st, dialFleet(t, f), wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"},
		Interval: 50 * time.Millisecond, FullEvery: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, func() bool {
		all, _ := st.Syncs(t.Context(), 10)
		return len(all) >= 3 && all[0].Outcome != store.SyncRunning
	})
	if _, next := s.State(); next.IsZero() {
		t.Error("no next time while the schedule runs")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all, err := st.Syncs(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	first := all[len(all)-1]
	if !first.Full || first.StartedBy != store.SyncBySchedule {
		t.Errorf("first scheduled sync %+v, want a full one by the schedule", first)
	}
	for _, y := range all[:len(all)-1] {
		if y.Full {
			t.Errorf("sync %d was full though the last full one is under an hour old", y.ID)
		}
	}
}

// TestScheduler_StartMovesTheSchedule ensures a sync started on request
// counts as the schedule's: the next scheduled sync is an interval after
// it ends, not another sync at once.
func TestScheduler_StartMovesTheSchedule(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 3, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	s := wsus.NewScheduler(st, dialFleet(t, f), wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"},
		Interval: time.Hour, Delay: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var id int64
	waitFor(t, func() bool {
		var err error
		id, err = s.Start("alice", false)
		return err == nil
	})
	ended := time.Now()
	waitFor(t, func() bool {
		c, next := s.State()
		return c == nil && next.After(ended.Add(59*time.Minute))
	})
	// Anything started by the kick would be recorded by now.
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all, err := st.Syncs(t.Context(), 10)
	if err != nil || len(all) != 1 || all[0].ID != id {
		t.Errorf("syncs %+v, %v; want only alice's %d", all, err, id)
	}
	if _, err := s.Start("bob", false); err == nil {
		t.Error("Start after Run returned succeeded")
	}
}

// TestScheduler_FullWhenDue ensures the schedule reconciles in full once
// the last full sync is older than FullEvery.
func TestScheduler_FullWhenDue(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 3, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	ctx := t.Context()
	if err := st.AdvanceWSUSCursor(ctx, "WSUS01", time.Now().Add(-25*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	if err := st.AdvanceWSUSCursor(ctx, "WSUS01", time.Now().Add(-time.Minute), false); err != nil {
		t.Fatal(err)
	}
	s := wsus.NewScheduler(st, dialFleet(t, f), wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"},
		Interval: time.Hour})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	waitFor(t, func() bool { all, _ := st.Syncs(ctx, 10); return len(all) == 1 && all[0].Outcome != store.SyncRunning })
	cancel()
	<-done
	all, _ := st.Syncs(ctx, 10)
	if !all[0].Full {
		t.Errorf("sync %+v: want a full reconcile, the last was 25 hours ago", all[0])
	}
}

// TestStatus_ETA ensures the estimate follows the rate so far and is
// absent until something is committed.
func TestStatus_ETA(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 10, 0, time.UTC)
	s := wsus.Status{StartedAt: now.Add(-10 * time.Second), Progress: wsus.Progress{Read: 300, Committed: 250, Total: 1000}}
	if got, want := s.ETA(now), now.Add(30*time.Second); !got.Equal(want) {
		t.Errorf("ETA %v, want %v", got, want)
	}
	s.Progress.Committed = 0
	if !s.ETA(now).IsZero() {
		t.Error("an ETA before anything was committed")
	}
}

// TestScheduler_ShutdownInterrupts ensures a sync running when the
// scheduler is stopped is recorded as interrupted, not failed, with what
// that means for the cursor, and that Run waits for it to be recorded.
func TestScheduler_ShutdownInterrupts(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 2, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	st := newStore(t)
	never := make(chan struct{}) // the WSUS server never answers the dial
	s := wsus.NewScheduler(st, gated(dialFleet(t, f), never), wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var id int64
	waitFor(t, func() bool {
		var err error
		id, err = s.Start("alice", false)
		return err == nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	y, err := st.SyncByID(t.Context(), id)
	if err != nil || y.Outcome != store.SyncInterrupted || !strings.Contains(y.Error, "from the last cursor") {
		t.Errorf("a sync stopped by shutdown: %+v, %v; want interrupted", y, err)
	}
	if _, err := st.WSUSCursor(t.Context(), "WSUS01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor after an interrupted first sync: %v", err)
	}
}

// TestRecorded_RealWindowsAnswers ensures a sync over a session that
// answers as the recorded Windows servers of sim/testdata/winrm-captures
// do, running the command but printing nothing of the collector's, fails
// with the reason that no result came, keeps the host's own output in its
// log, and moves no cursor; and that a session lost to the recorded
// operation timeout fails the same way, with the session's error.
func TestRecorded_RealWindowsAnswers(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	c, target, _ := remotetest.ReplayHost(t, "test_winrs_standard.yml", "test_winrs_send.yml")
	dial := func(ctx context.Context) (wsus.Session, error) { return c.Open(ctx, target) }
	y, _, err := wsus.Recorded(t.Context(), st, dial, wsus.Options{Server: "WSUS01"}, "alice")
	if err == nil || y.Outcome != store.SyncFailed || !strings.Contains(y.Error, "ended without its result") || !strings.Contains(y.Log, "output: hi") {
		t.Errorf("sync against recorded answers: %v, recorded as %+v", err, y)
	}
	if _, err := st.WSUSCursor(t.Context(), "WSUS01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor after the failed sync: %v", err)
	}
	c2, target2, _ := remotetest.ReplayHost(t, "test_winrs_operation_timeout.yml")
	dial2 := func(ctx context.Context) (wsus.Session, error) { return c2.Open(ctx, target2) }
	y, _, err = wsus.Recorded(t.Context(), st, dial2, wsus.Options{Server: "WSUS01"}, "alice")
	if err == nil || y.Outcome != store.SyncFailed || y.Error == "" {
		t.Errorf("sync against a recorded operation timeout: %v, recorded as %+v", err, y)
	}
}
