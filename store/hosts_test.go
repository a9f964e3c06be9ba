package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStore_UpsertHosts ensures new hosts are inserted, changed ones
// updated, and identical ones left alone and counted as unchanged.
func TestStore_UpsertHosts(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	in := []HostInput{
		{Name: "FIN-LT-0001", FQDN: "fin-lt-0001.corp.test", OSCaption: "Windows 11", Group: "Pilot", LastReportAt: day(1)},
		{Name: "FIN-LT-0002", Address: "192.0.2.10:5986"},
	}
	c, err := s.UpsertHosts(ctx, in)
	if err != nil || c != (UpsertCounts{Inserted: 2}) {
		t.Fatalf("first upsert = %+v, %v", c, err)
	}
	c, err = s.UpsertHosts(ctx, in)
	if err != nil || c != (UpsertCounts{Unchanged: 2}) {
		t.Fatalf("same rows again = %+v, %v; want all unchanged", c, err)
	}
	in[1].Group = "Broad"
	c, err = s.UpsertHosts(ctx, in)
	if err != nil || c != (UpsertCounts{Updated: 1, Unchanged: 1}) {
		t.Fatalf("one changed = %+v, %v", c, err)
	}
	h, err := s.HostByName(ctx, "fin-lt-0002") // names are case-insensitive
	if err != nil {
		t.Fatal(err)
	}
	want := Host{ID: h.ID, Name: "FIN-LT-0002", Address: "192.0.2.10:5986", Group: "Broad", State: StateUnknown}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("host (-want +got):\n%s", diff)
	}
	h1, _ := s.HostByName(ctx, "FIN-LT-0001")
	if !h1.LastReportAt.Equal(day(1)) {
		t.Fatalf("last report %v, want %v", h1.LastReportAt, day(1))
	}
}

// TestStore_Groups ensures the group menu lists each non-empty group once, sorted.
func TestStore_Groups(t *testing.T) {
	s := newTestStore(t)
	addHosts(t, s, HostInput{Name: "A", Group: "Servers"}, HostInput{Name: "B", Group: "Pilot"},
		HostInput{Name: "C", Group: "Servers"}, HostInput{Name: "D"})
	got, err := s.Groups(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Pilot", "Servers"}, got); diff != "" {
		t.Fatal(diff)
	}
}
