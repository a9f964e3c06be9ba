package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store"
	"wsusfix/store/ingest"
	runs "wsusfix/store/run"
	"wsusfix/store/storetest"
)

// TestRefreshHistory_EndToEnd ensures Refresh history, through the real
// executor, client and recorder, stores the history a host itself reports
// with the source host, ends as history read, and stores nothing twice
// when run again.
func TestRefreshHistory_EndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "refresh.db"))
	fleet := sim.NewFleet(sim.FleetConfig{Seed: 5, Hosts: 10, End: time.Now()})
	h := fleet.Hosts[0]
	// The inventory knows the host, not yet its history.
	hosts := ingest.NewHostWriter(st, 0, nil)
	if err := hosts.Add(ctx, ingest.Host{Name: h.Name, FQDN: h.FQDN}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := hosts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv := sim.StartTest(t, fleet, sim.Options{Password: "refresh-pass", TLS: true})
	client, err := remote.NewClient(remote.Config{HTTPS: true, CAPEM: srv.CACertPEM(), Auth: remote.AuthBasic,
		User: "Administrator", Password: "refresh-pass", DialContext: srv.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	exec := runner.NewExecutor(recorder{st: st}, runner.NewHub(), repair.RunFunc(client, repair.Options{}), runner.Options{Concurrency: 1})
	t.Cleanup(func() { exec.Close(context.Background()) })
	host, err := st.HostByName(ctx, h.Name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rn := refresh(t, st, exec, host)
		if rn.State != runs.StateSucceeded || rn.Outcome != runs.OutcomeHistoryRead {
			t.Fatalf("refresh %d ended %s/%s: %s", i+1, rn.State, rn.Outcome, rn.Summary)
		}
		entries, total, err := st.History(ctx, host.ID, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(h.History) || len(entries) == 0 || entries[0].Source != store.SourceHost {
			t.Fatalf("refresh %d: %d entries stored (newest from %q), the host reports %d", i+1, total, entries[0].Source, len(h.History))
		}
	}
}

// refresh runs Refresh history on host through exec and waits for its end.
func refresh(t *testing.T, st *store.Store, exec *runner.Executor, host store.Host) store.Run {
	t.Helper()
	rn, err := st.CreateRun(t.Context(), store.RunInput{HostID: host.ID, Procedure: runs.ProcedureHistory, RequestedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Submit(runner.Job{RunID: rn.ID, HostID: host.ID, Procedure: runs.ProcedureHistory,
		Target: remote.Target{Name: host.FQDN}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for rn.Active() || rn.State == "" {
		if time.Now().After(deadline) {
			t.Fatalf("run %d still %s after 30s", rn.ID, rn.State)
		}
		time.Sleep(20 * time.Millisecond)
		if rn, err = st.Run(t.Context(), rn.ID); err != nil {
			t.Fatal(err)
		}
	}
	return rn
}
