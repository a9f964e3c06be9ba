package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStore_UpsertHostsOnce ensures a name given again with the same set,
// in the same call or a later one and in any case, is counted unchanged
// when its values are the stored ones and returned unwritten, with the
// first ref, when they differ; a new set, or the set once forgotten, knows
// no name.
func TestStore_UpsertHostsOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	g := s.NewGiven()
	c, reps, err := s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-1", Group: "A"}, {Name: "pc-1", Group: "B"},
		{Name: "PC-1", Group: "A"}, {Name: "PC-2"}}, []int{2, 3, 4, 5})
	if err != nil || c != (UpsertCounts{Inserted: 2, Unchanged: 1}) {
		t.Fatalf("first call = %+v, %v", c, err)
	}
	if diff := cmp.Diff([]Repeat{{Index: 1, Ref: 3, FirstRef: 2}}, reps); diff != "" {
		t.Errorf("first call's repeats (-want +got):\n%s", diff)
	}
	c, reps, err = s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-2", Group: "C"}, {Name: "PC-3"}, {Name: "pc-1", Group: "A"}},
		[]int{6, 7, 8})
	if err != nil || c != (UpsertCounts{Inserted: 1, Unchanged: 1}) {
		t.Fatalf("second call = %+v, %v", c, err)
	}
	if diff := cmp.Diff([]Repeat{{Index: 0, Ref: 6, FirstRef: 5}}, reps); diff != "" {
		t.Errorf("second call's repeats (-want +got):\n%s", diff)
	}
	if h, err := s.HostByName(ctx, "PC-2"); err != nil || h.Group != "" {
		t.Errorf("PC-2 = %+v, %v; want the first values kept", h, err)
	}

	// Another writer's set is its own, and a forgotten set starts again.
	other := s.NewGiven()
	if c, reps, err := s.UpsertHostsOnce(ctx, other, []HostInput{{Name: "PC-2", Group: "C"}}, []int{1}); err != nil ||
		c != (UpsertCounts{Updated: 1}) || reps != nil {
		t.Errorf("other set = %+v, %v, %v; want an update", c, reps, err)
	}
	if err := s.ForgetGiven(ctx, g); err != nil {
		t.Fatal(err)
	}
	if c, reps, err := s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-1", Group: "D"}}, []int{1}); err != nil ||
		c != (UpsertCounts{Updated: 1}) || reps != nil {
		t.Errorf("after forgetting = %+v, %v, %v; want an update", c, reps, err)
	}
	// A stored host given in one call is found in the next.
	c, reps, err = s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-1", Group: "E"}, {Name: "PC-1", Group: "D"}, {Name: "PC-9"}},
		[]int{9, 10, 11})
	if err != nil || c != (UpsertCounts{Inserted: 1, Unchanged: 1}) {
		t.Fatalf("stored host again = %+v, %v", c, err)
	}
	if diff := cmp.Diff([]Repeat{{Index: 0, Ref: 9, FirstRef: 1}}, reps); diff != "" {
		t.Errorf("stored host's repeats (-want +got):\n%s", diff)
	}
	if err := s.ForgetGiven(ctx, other); err != nil {
		t.Fatal(err)
	}
}
