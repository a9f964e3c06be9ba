package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	runs "wsusfix/store/run"
	"wsusfix/store/storetest"

	"wsusfix/remote"
	"wsusfix/sim"
	"wsusfix/store"
)

// bulkFixture is a store seeded from a simulated fleet, the fleet serving
// WinRM, and an executor wired to both as the product wires them.
type bulkFixture struct {
	st    *store.Store
	srv   *sim.Server
	fleet *sim.Fleet
	exec  *runner.Executor
}

func newBulkFixture(t testing.TB, hosts, concurrency int, faults bool, opt sim.Options) *bulkFixture {
	t.Helper()
	ctx := t.Context()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "bulk.db"))
	fleet := sim.NewFleet(sim.FleetConfig{Seed: 11, Hosts: hosts, End: time.Now()})
	for i := range fleet.Hosts {
		if !faults {
			fleet.Hosts[i].Fault, fleet.Hosts[i].RebootPending = sim.FaultNone, false
		}
	}
	if faults {
		// Every fault of the catalogue on some failing host (a failure the
		// repair cannot fix needs one), whatever the seed drew.
		var failing []int
		for i, h := range fleet.Hosts {
			if h.Failure() != 0 {
				failing = append(failing, i)
			}
		}
		if len(failing) < len(sim.Faults) {
			t.Fatalf("%d failing hosts for %d faults: give the fleet more hosts", len(failing), len(sim.Faults))
		}
		for i, f := range sim.Faults {
			fleet.Hosts[failing[i]].Fault = f
			fleet.Hosts[failing[i]].RebootPending = f == sim.FaultRebootPending
		}
	}
	if err := seedFleet(ctx, st, fleet); err != nil {
		t.Fatal(err)
	}
	// HTTPS with Basic, unless the fleet wants encrypted messages on plain
	// HTTP: then NTLM with message encryption.
	opt.Password, opt.TLS = "bulk-pass", !opt.RequireEncryption
	srv := sim.StartTest(t, fleet, opt)
	cfg := remote.Config{HTTPS: true, CAPEM: srv.CACertPEM(), Auth: remote.AuthBasic,
		User: "Administrator", Password: "bulk-pass", OperationTimeout: 500 * time.Millisecond, DialContext: srv.DialContext}
	if opt.RequireEncryption {
		cfg.HTTPS, cfg.CAPEM, cfg.Auth = false, nil, remote.AuthNTLM
	}
	client, err := remote.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rn := repair.RunFunc(client, repair.Options{ServiceTimeout: 2 * time.Second, RenameDelay: time.Second,
		StepTimeout: 30 * time.Second, RestoreTimeout: 30 * time.Second})
	// The simulated WSUS server bears any load, so the per-server limit is
	// lifted: these tests and the benchmark measure the client's throughput
	// at the given concurrency (remote tests the limit itself).
	exec := runner.NewExecutor(recorder{st: st}, runner.NewHub(), rn,
		runner.Options{Concurrency: concurrency, ScansPerServer: concurrency})
	t.Cleanup(func() { exec.Close(context.Background()) })
	return &bulkFixture{st: st, srv: srv, fleet: fleet, exec: exec}
}

// repairAll queues a repair of every host in one batch and waits for all.
func (b *bulkFixture) repairAll(t testing.TB, timeout time.Duration) store.Batch {
	ctx := context.Background()
	batch, err := b.st.CreateBatch(ctx, store.Batch{Procedure: runs.ProcedureRepair, RequestedBy: "test", Description: "all"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range b.fleet.Hosts {
		host, err := b.st.HostByName(ctx, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		rn, err := b.st.CreateRun(ctx, store.RunInput{HostID: host.ID, BatchID: batch.ID, Procedure: runs.ProcedureRepair, RequestedBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		job := runner.Job{RunID: rn.ID, HostID: host.ID, Procedure: runs.ProcedureRepair, Target: remote.Target{Name: host.FQDN}}
		if host.Failure != nil {
			job.FailingKBs = []string{host.Failure.KB}
		}
		if err := b.exec.Submit(job); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		states, _, err := b.st.BatchCounts(ctx, batch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if states[runs.StateQueued]+states[runs.StateRunning] == 0 {
			return batch
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not finished after %v: %v", timeout, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBulkRepair_MixedFaults ensures a bulk repair of 80 simulated hosts,
// some with every fault of the simulator's catalogue, ends with every run
// in a final state, each fault reported for what it is, and every host's
// update services running.
func TestBulkRepair_MixedFaults(t *testing.T) {
	t.Parallel()
	b := newBulkFixture(t, 80, 20, true, sim.Options{MaxOperationTimeout: 300 * time.Millisecond, ScriptTimeScale: -1,
		SlowLatency: 200 * time.Millisecond, SlowJitter: 50 * time.Millisecond, ReceiveTimeouts: 2})
	batch := b.repairAll(t, 3*time.Minute)
	states, outcomes, err := b.st.BatchCounts(context.Background(), batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("states %v outcomes %v", states, outcomes)
	if n := states[runs.StateSucceeded] + states[runs.StateFailed]; n != 80 {
		t.Fatalf("%d of 80 runs ended succeeded or failed: %v", n, states)
	}
	for _, want := range []runs.Outcome{runs.OutcomeRepaired, runs.OutcomeUnreachable, runs.OutcomeAuth, runs.OutcomeQuota, runs.OutcomeRefused, runs.OutcomeStillFailing} {
		if outcomes[want] == 0 {
			t.Errorf("no run ended %q: %v", want, outcomes)
		}
	}
	done, _, err := b.st.Runs(context.Background(), store.RunFilter{BatchID: batch.ID})
	if err != nil {
		t.Fatal(err)
	}
	byHost := map[string]store.Run{}
	for _, r := range done {
		byHost[r.HostName] = r
	}
	// The inventory follows the evidence: repaired hosts are marked so and
	// their history holds the verified install; hosts the repair did not
	// help stay failing.
	ctx := context.Background()
	for _, r := range done {
		host, err := b.st.HostByID(ctx, r.HostID)
		if err != nil {
			t.Fatal(err)
		}
		switch r.Outcome {
		case runs.OutcomeRepaired:
			hist, _, err := b.st.History(ctx, r.HostID, 500, 0)
			if err != nil {
				t.Fatal(err)
			}
			var verified bool
			for _, e := range hist {
				verified = verified || (e.Source == store.SourceRepair && e.Result == runs.ResultSucceeded && !e.At.Before(r.StartedAt.Truncate(time.Second))) // hosts report whole seconds
			}
			if host.State != store.StateRepaired || !verified {
				t.Errorf("%s repaired: state %q, verified install in history %v", host.Name, host.State, verified)
			}
		case runs.OutcomeStillFailing:
			if host.State != store.StateFailing {
				t.Errorf("%s still failing but state %q", host.Name, host.State)
			}
		}
	}
	for _, h := range b.fleet.Hosts {
		st, _ := b.srv.HostState(h.Name)
		for _, s := range st.Services {
			if (s.Name == "wuauserv" || s.Name == "BITS") && s.Status != "Running" {
				r := byHost[h.Name]
				t.Errorf("%s (fault %q): %s is %s after run %d %s/%s: %s", h.Name, h.Fault, s.Name, s.Status, r.ID, r.State, r.Outcome, r.Summary)
			}
		}
	}
}

// TestServe_InterruptsLeftoverRuns ensures a run left running by a crash is
// marked interrupted when the server starts, and not run again.
func TestServe_InterruptsLeftoverRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "crash.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "PC1"}}); err != nil {
		t.Fatal(err)
	}
	h, err := st.HostByName(ctx, "PC1")
	if err != nil {
		t.Fatal(err)
	}
	rn, err := st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: runs.ProcedureRepair, RequestedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.StartRun(ctx, rn.ID); err != nil {
		t.Fatal(err)
	}
	st.Close() // the "crash": the run row stays running

	_, _, stop := startProgramEnv(t, nil, "serve", "-addr", "127.0.0.1:0", "-db", db)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Run(ctx, rn.ID)
	if err != nil || got.State != runs.StateInterrupted || got.Error == "" {
		t.Fatalf("leftover run after restart: %+v (%v), want interrupted with a reason", got, err)
	}
	evs, err := st.RunEvents(ctx, rn.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != runs.EventRunFinished {
		t.Fatalf("events %+v, want only the run_finished that closed it", evs)
	}
}

// TestServe_RepairWithoutWinRM ensures that serve without any WinRM
// settings still accepts a repair, and that the run fails at its connect
// step saying where to set an account, instead of hanging or pretending.
func TestServe_RepairWithoutWinRM(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "nowinrm.db")
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertHosts(t.Context(), []store.HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	base, out, _ := startProgramEnv(t, nil, "serve", "-addr", "127.0.0.1:0", "-db", db)
	m := firstAdminRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no first admin password printed: %s", out.String())
	}
	c := signIn(t, base, "admin", m[1])
	rn, st := repairThroughServe(t, c, base, db, "PC-1", 20*time.Second)
	if rn.State != runs.StateFailed || rn.Outcome != runs.OutcomeNotConfigured || !strings.Contains(rn.Summary, "/admin/settings") {
		t.Fatalf("run %+v, want failed/not_configured naming /admin/settings", rn)
	}
	evs, err := st.RunEvents(t.Context(), rn.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 2 || evs[0].Step != runs.StepConnect || evs[1].Status != "failed" {
		t.Fatalf("events %+v, want the connect step to fail", evs)
	}
}

// repairThroughServe asks a running serve for a repair of host, as the
// Repair button does, waits for the run to end and returns it with the
// store (opened on db) to read its events from.
func repairThroughServe(t *testing.T, c *http.Client, base, db, host string, wait time.Duration) (store.Run, *store.Store) {
	t.Helper()
	res, err := c.PostForm(base+"/hosts/"+url.PathEscape(host)+"/repair", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.Path, "/runs/") {
		t.Fatalf("repair landed on %d %s", res.StatusCode, res.Request.URL)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(res.Request.URL.Path, "/runs/"), 10, 64)
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deadline := time.Now().Add(wait)
	for {
		rn, err := st.Run(t.Context(), id)
		if err == nil && !rn.Active() {
			return rn, st
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still active after %v (%v)", id, wait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
