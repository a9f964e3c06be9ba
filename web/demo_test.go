package main

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/remote/repair"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
)

// TestDemoInventory ensures the demo's inventory is whole and takes the
// real path: the seeded hosts and history pass the import's checks, a full
// sync from the simulated WSUS server over WinRM then finds every host
// (and the WSUS server itself) without doubling a failure the history
// already holds, a second start syncs incrementally, and the synced hosts
// are still dialled by name.
func TestDemoInventory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, seed := range []int64{1, 2} {
		fleet := sim.NewFleet(sim.FleetConfig{Seed: seed, Hosts: 40, End: time.Now()})
		st := openTestStore(t, filepath.Join(t.TempDir(), "demo.db"))
		df, err := startDemoFleet(fleet, repair.Options{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(df.stop)
		if err := seedFleet(ctx, st, fleet); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		first, _, err := wsus.Recorded(ctx, st, df.dialWSUS, wsus.Options{Server: fleet.WSUSServer}, store.SyncByStart)
		if err != nil {
			t.Fatalf("seed %d: first sync: %v", seed, err)
		}
		// The WSUS server reports to itself: the one computer new to the store.
		if !first.Full || first.Counts.New != 1 || first.Counts.Computers != len(fleet.Hosts)+1 || first.Outcome != store.SyncSucceeded {
			t.Fatalf("seed %d: first sync %+v, want %d computers in full, 1 new", seed, first, len(fleet.Hosts)+1)
		}
		for _, h := range fleet.Hosts[:20] {
			got, err := st.HostByName(ctx, h.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Address != "" {
				t.Errorf("seed %d, %s: address %q from WSUS; a repair would dial it instead of the name", seed, h.Name, got.Address)
			}
			if _, total, err := st.History(ctx, got.ID, 1, 0); err != nil || total != len(h.History) {
				t.Errorf("seed %d, %s: %d history entries stored (%v), want %d", seed, h.Name, total, err, len(h.History))
			}
		}
		again, _, err := wsus.Recorded(ctx, st, df.dialWSUS, wsus.Options{Server: fleet.WSUSServer}, store.SyncByStart)
		if err != nil || again.Full || again.Counts.New != 0 {
			t.Errorf("seed %d: second start's sync %+v, %v; want an incremental one adding nothing", seed, again, err)
		}
	}
}
