package main

import (
	"path/filepath"
	"testing"
	"time"

	"wsusfix/sim"
)

// TestSeedFleet ensures every record of a simulated fleet passes the
// import's validation and lands: each host, and each entry of its history.
func TestSeedFleet(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		f := sim.NewFleet(sim.FleetConfig{Seed: seed, Hosts: 60, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
		st := openTestStore(t, filepath.Join(t.TempDir(), "w.db"))
		if err := seedFleet(t.Context(), st, f); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if n, err := st.CountHosts(t.Context()); err != nil || n != len(f.Hosts) {
			t.Fatalf("seed %d: %d hosts stored (%v), want %d", seed, n, err, len(f.Hosts))
		}
		for _, h := range f.Hosts[:20] {
			got, err := st.HostByName(t.Context(), h.Name)
			if err != nil {
				t.Fatal(err)
			}
			if _, total, err := st.History(t.Context(), got.ID, 1, 0); err != nil || total != len(h.History) {
				t.Errorf("seed %d, %s: %d history entries stored (%v), want %d", seed, h.Name, total, err, len(h.History))
			}
		}
	}
}
