package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store/run"
)

// TestStore_HostGroups ensures a host in several WSUS groups is stored in
// every one (once, without case), primary first, changed only when its
// groups change, and found by every group filter under any of its groups,
// counted once: a group's counts on triage equal the rows its filter
// lists.
func TestStore_HostGroups(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s,
		HostInput{Name: "PC-1", Groups: []string{"Pilot", "Finance", "pilot", ""}},
		HostInput{Name: "PC-2", Group: "Finance"},
		HostInput{Name: "PC-3", Group: "Broad", Groups: []string{"Servers - Tier 1"}},
		HostInput{Name: "PC-4"})
	addEvents(t, s,
		ev("PC-1", 3, "1", run.ResultFailed, fileNotFound),
		ev("PC-2", 4, "1", run.ResultFailed, pathNotFound),
		ev("PC-3", 5, "1", run.ResultFailed, fileNotFound),
		ev("PC-4", 5, "1", run.ResultFailed, fileNotFound))

	for name, want := range map[string][]string{
		"PC-1": {"Pilot", "Finance"}, "PC-2": {"Finance"}, "PC-3": {"Broad", "Servers - Tier 1"}, "PC-4": nil,
	} {
		h, err := s.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, h.Groups); diff != "" || h.Group != append(want, "")[0] {
			t.Errorf("%s: group %q, groups (-want +got):\n%s", name, h.Group, diff)
		}
	}
	groups, err := s.FailingGroups(ctx)
	if diff := cmp.Diff([]string{"Broad", "Finance", "Pilot", "Servers - Tier 1"}, groups); err != nil || diff != "" {
		t.Errorf("failing groups (-want +got), %v:\n%s", err, diff)
	}
	byPrimary := map[string]int{"Finance": 1, "Pilot": 1, "Servers - Tier 1": 0, "Broad": 1, "Nobody": 0}
	for group, want := range map[string][]string{
		"Finance": {"PC-1", "PC-2"}, "Pilot": {"PC-1"},
		"Servers - Tier 1": {"PC-3"}, "Broad": {"PC-3"}, "Nobody": nil,
	} {
		f := TriageFilter{Group: group, Sort: SortName}
		hosts, err := s.FailingHosts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := s.FailureCounts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, names(hosts)); diff != "" || f.Matching(counts) != len(want) {
			t.Errorf("group %q: counted %d, listed (-want +got):\n%s", group, f.Matching(counts), diff)
		}
		weeks, err := s.FailuresByWeek(ctx, ReportFilter{Group: group})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, w := range weeks {
			for _, c := range w.ByCode {
				n += c
			}
		}
		if n != byPrimary[group] {
			t.Errorf("group %q: failures by week count %d hosts, want %d (its primary members)", group, n, byPrimary[group])
		}
		comp, err := s.ComplianceByGroup(ctx, ReportFilter{Group: group})
		if err != nil {
			t.Fatal(err)
		}
		n = 0
		for _, g := range comp {
			n += g.Hosts
		}
		if n != byPrimary[group] {
			t.Errorf("group %q: compliance counts %d hosts, want %d (its primary members)", group, n, byPrimary[group])
		}
	}

	// The same groups in another order and case are no change; one group
	// fewer is, and leaves the host out of it.
	c, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Group: "Pilot", Groups: []string{"FINANCE", "Pilot"}}})
	if err != nil || c != (UpsertCounts{Unchanged: 1}) {
		t.Fatalf("same groups = %+v, %v; want unchanged", c, err)
	}
	c, err = s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Groups: []string{"Finance"}}})
	if err != nil || c != (UpsertCounts{Updated: 1}) {
		t.Fatalf("fewer groups = %+v, %v; want updated", c, err)
	}
	if h, err := s.HostByName(ctx, "PC-1"); err != nil || h.Group != "Finance" || len(h.Groups) != 1 {
		t.Errorf("PC-1 = %q %q, %v; want Finance alone", h.Group, h.Groups, err)
	}
	if hosts, err := s.FailingHosts(ctx, TriageFilter{Group: "Pilot"}); err != nil || len(hosts) != 0 {
		t.Errorf("Pilot after PC-1 left it: %v, %v", names(hosts), err)
	}
}

// TestStore_HostGroups_GivenAgainInOneCall ensures a host given several
// times in one call, stored or new, keeps the groups it was given last,
// not every list it was given.
func TestStore_HostGroups_GivenAgainInOneCall(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1", Groups: []string{"A", "X"}})
	addHosts(t, s,
		HostInput{Name: "PC-1", Groups: []string{"A", "Y"}},
		HostInput{Name: "PC-1", Groups: []string{"A", "Z"}},
		HostInput{Name: "PC-2", Groups: []string{"A", "V"}},
		HostInput{Name: "PC-2", Groups: []string{"A", "W"}},
		HostInput{Name: "PC-2", Groups: []string{"A", "W"}})
	for name, want := range map[string][]string{"PC-1": {"A", "Z"}, "PC-2": {"A", "W"}} {
		h, err := s.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, h.Groups); diff != "" {
			t.Errorf("%s groups (-want +got):\n%s", name, diff)
		}
	}
}

// TestStore_HostGroups_PrimaryStays ensures groups given with no primary
// named, in another order (as a sync reads them from WSUS, which documents
// no order), keep the stored primary while they hold it, and leave the
// host unchanged; once they no longer hold it, the first listed becomes
// the primary. A primary named outright is taken as given.
func TestStore_HostGroups_PrimaryStays(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1", Groups: []string{"A", "B"}})
	primary := func() (string, []string) {
		t.Helper()
		h, err := s.HostByName(ctx, "PC-1")
		if err != nil {
			t.Fatal(err)
		}
		return h.Group, h.Groups
	}
	c, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Groups: []string{"B", "A"}}})
	if g, groups := primary(); err != nil || g != "A" || c != (UpsertCounts{Unchanged: 1}) {
		t.Errorf("the same groups in another order: primary %q %q, %+v, %v; want A kept and the host unchanged", g, groups, c, err)
	}
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Groups: []string{"C", "B"}}}); err != nil {
		t.Fatal(err)
	}
	if g, groups := primary(); g != "C" || !cmp.Equal(groups, []string{"C", "B"}) {
		t.Errorf("out of its primary: %q %q, want C first", g, groups)
	}
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Group: "B", Groups: []string{"C", "B"}}}); err != nil {
		t.Fatal(err)
	}
	if g, _ := primary(); g != "B" {
		t.Errorf("a primary named outright: %q, want B", g)
	}
}

// TestHost_CriticalGroup ensures a host is critical when any of its
// groups is, whichever one, without case.
func TestHost_CriticalGroup(t *testing.T) {
	t.Parallel()
	critical := []string{"Payments"}
	for _, tt := range []struct {
		h    Host
		want string
	}{
		{Host{Group: "Broad", Groups: []string{"Broad", "payments"}}, "payments"},
		{Host{Group: "Payments"}, "Payments"},
		{Host{Group: "Broad", Groups: []string{"Broad"}}, ""},
		{Host{}, ""},
	} {
		if got, ok := tt.h.CriticalGroup(critical); got != tt.want || ok != (tt.want != "") {
			t.Errorf("%+v: %q, %v; want %q", tt.h, got, ok, tt.want)
		}
	}
}
