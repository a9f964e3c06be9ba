package sim

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// TestNewFleet_Deterministic ensures the same seed always gives the same
// fleet and another seed a different one.
func TestNewFleet_Deterministic(t *testing.T) {
	t.Parallel()
	a := NewFleet(FleetConfig{Seed: 7, Hosts: 300, End: testEnd})
	b := NewFleet(FleetConfig{Seed: 7, Hosts: 300, End: testEnd})
	// reflect.DeepEqual first: cmp.Diff over the whole fleet is slow under
	// -race, and only needed to explain a failure.
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different fleets (-a +b):\n%s", cmp.Diff(a, b))
	}
	c := NewFleet(FleetConfig{Seed: 8, Hosts: 300, End: testEnd})
	if reflect.DeepEqual(a.Hosts, c.Hosts) {
		t.Fatal("seeds 7 and 8 gave the same hosts")
	}
}

// TestNewFleet_Realistic ensures the fleet looks like an estate a helpdesk
// would triage: unique names, months of history, a failure mix led by the
// two codes KB 910336 fixes, and some hosts with simulated faults.
func TestNewFleet_Realistic(t *testing.T) {
	t.Parallel()
	f := NewFleet(FleetConfig{Seed: 1, Hosts: 500, End: testEnd})
	if len(f.Hosts) != 500 {
		t.Fatalf("got %d hosts, want 500", len(f.Hosts))
	}
	names := map[string]bool{}
	codes := map[uint32]int{}
	faults, servers := 0, 0
	for _, h := range f.Hosts {
		if names[h.Name] {
			t.Fatalf("duplicate host name %s", h.Name)
		}
		names[h.Name] = true
		if h.OSCaption == "" || h.OSBuild == "" || h.Group == "" || h.FQDN == "" || h.PSVersion == "" {
			t.Fatalf("host %s has empty inventory fields: %+v", h.Name, h)
		}
		if len(h.History) < 15 {
			t.Fatalf("host %s has only %d history entries", h.Name, len(h.History))
		}
		for i := 1; i < len(h.History); i++ {
			if h.History[i].Time.After(h.History[i-1].Time) {
				t.Fatalf("host %s history not newest first at %d", h.Name, i)
			}
		}
		oldest := h.History[len(h.History)-1].Time
		if testEnd.Sub(oldest) < 120*24*time.Hour || h.History[0].Time.After(testEnd) {
			t.Fatalf("host %s history spans %v..%v, want months before %v", h.Name, oldest, h.History[0].Time, testEnd)
		}
		if c := h.Failure(); c != 0 {
			codes[c]++
		}
		if h.Fault != FaultNone {
			faults++
		}
		if h.Server {
			servers++
		}
	}
	failing := 0
	for _, n := range codes {
		failing += n
	}
	if failing < 120 || failing > 260 {
		t.Errorf("%d of 500 hosts failing, want a realistic share (120..260)", failing)
	}
	for code, n := range codes {
		if code != 0x80070002 && n >= codes[0x80070002] {
			t.Errorf("0x%08X (%d hosts) is as common as 0x80070002 (%d)", code, n, codes[0x80070002])
		}
	}
	if codes[0x80070003] == 0 || len(codes) < 8 {
		t.Errorf("failure mix too narrow: %v", codes)
	}
	if faults == 0 || faults > 100 {
		t.Errorf("%d hosts with faults, want a small share", faults)
	}
	if servers == 0 || servers == 500 {
		t.Errorf("%d servers: want a mix of servers and workstations", servers)
	}
	if h, ok := f.Host(f.Hosts[42].Name); !ok || h.Name != f.Hosts[42].Name {
		t.Errorf("Host(%q) lookup failed", f.Hosts[42].Name)
	}
}

// TestNewFleet_EndKeepsHosts ensures the history's end date never changes
// which hosts the seed gives, so a demo database seeded on another day
// still matches the simulator's fleet.
func TestNewFleet_EndKeepsHosts(t *testing.T) {
	t.Parallel()
	a := NewFleet(FleetConfig{Seed: 5, Hosts: 200, End: testEnd})
	b := NewFleet(FleetConfig{Seed: 5, Hosts: 200, End: testEnd.AddDate(0, 1, 13)})
	for i := range a.Hosts {
		ha, hb := a.Hosts[i], b.Hosts[i]
		if ha.Name != hb.Name || ha.OSBuild != hb.OSBuild || ha.Fault != hb.Fault || ha.Group != hb.Group {
			t.Fatalf("host %d differs across End: %s/%s vs %s/%s", i, ha.Name, ha.Fault, hb.Name, hb.Fault)
		}
	}
}
