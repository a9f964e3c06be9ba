package store

import (
	"context"
	"strings"
	"testing"
	"time"

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

// TestStore_UpsertHostsOnce_FailedCallForgotten ensures a call that fails
// after it recorded what it gave leaves nothing of itself in the set: the
// record rolls back with its hosts, so giving those hosts again, with
// other values, neither counts them as repeats nor keeps the failed
// values, even where SQLite hands the new row the id the failed one had
// and the clock has not moved (the store's is fixed here). The names
// given before the failure stay given.
func TestStore_UpsertHostsOnce_FailedCallForgotten(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	seen := func(min int) *WSUSFacts {
		return &WSUSFacts{Server: "WSUS01", ComputerID: "c-boom", SeenAt: fixedNow.Add(time.Duration(min) * time.Minute)}
	}
	g := s.NewGiven()
	if c, _, err := s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-1", Group: "A"}, {Name: "BOOM", WSUS: seen(0)}},
		[]int{2, 3}); err != nil || c.Inserted != 2 {
		t.Fatalf("first call = %+v, %v", c, err)
	}
	// BOOM given again, unchanged but seen later, is the call's last write
	// (the seen stamp, after the set's record): the database refuses it.
	if _, err := s.write.ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE UPDATE OF wsus_seen_at ON hosts
		WHEN new.name = 'BOOM' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-2", Group: "X"}, {Name: "boom", WSUS: seen(5)}},
		[]int{4, 5})
	if err == nil || !strings.Contains(err.Error(), "refused for the test") {
		t.Fatalf("a call with a refused host: %v", err)
	}
	if _, err := s.HostByName(ctx, "PC-2"); err == nil {
		t.Fatal("PC-2 was stored by a call that failed")
	}
	c, reps, err := s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-2", Group: "Y"}, {Name: "PC-1", Group: "A"},
		{Name: "pc-1", Group: "B"}}, []int{6, 7, 8})
	if err != nil || c != (UpsertCounts{Inserted: 1, Unchanged: 1}) {
		t.Fatalf("the call after the failure = %+v, %v; want PC-2 new and PC-1 as given before", c, err)
	}
	if diff := cmp.Diff([]Repeat{{Index: 2, Ref: 8, FirstRef: 2}}, reps); diff != "" {
		t.Errorf("repeats (-want +got):\n%s", diff)
	}
	if h, err := s.HostByName(ctx, "PC-2"); err != nil || h.Group != "Y" {
		t.Errorf("PC-2 = %+v, %v; want the values given after the failure", h, err)
	}
	// PC-2 is now given by the call that stored it, not the one that failed.
	_, reps, err = s.UpsertHostsOnce(ctx, g, []HostInput{{Name: "PC-2", Group: "Z"}}, []int{9})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Repeat{{Index: 0, Ref: 9, FirstRef: 6}}, reps); diff != "" {
		t.Errorf("PC-2 given again (-want +got):\n%s", diff)
	}
}

// TestStore_ForgetGiven_Cancelled ensures a set is dropped from the
// connection's temporary table even when the import that owned it was
// cancelled: its rows would otherwise stay until the process ends.
func TestStore_ForgetGiven_Cancelled(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	g := s.NewGiven()
	if _, _, err := s.UpsertHostsOnce(t.Context(), g, []HostInput{{Name: "PC-1"}, {Name: "PC-2"}}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := s.write.quiet().QueryRowContext(t.Context(), "SELECT count(*) FROM temp.given_hosts").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if rows() == 0 {
		t.Fatal("the set recorded nothing: the test tests nothing")
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.ForgetGiven(cancelled, g); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 0 {
		t.Errorf("%d rows of a forgotten set left", n)
	}
}
