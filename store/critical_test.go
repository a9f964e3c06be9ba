package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestStore_CriticalGroups ensures the critical groups are stored trimmed,
// without blanks or repeats in another case, replaced as a whole, and that
// an over-long name is refused with a reason for people.
func TestStore_CriticalGroups(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	if got, err := s.CriticalGroups(ctx); err != nil || got != nil {
		t.Fatalf("new store: %v, %v", got, err)
	}
	got, err := s.SetCriticalGroups(ctx, []string{" Servers - Tier 0 ", "", "servers - tier 0", "Domain Controllers"}, "admin")
	if want := []string{"Servers - Tier 0", "Domain Controllers"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("saved %q, %v; want %q", got, err, want)
	}
	if got, _ := s.CriticalGroups(ctx); len(got) != 2 || !IsCritical("SERVERS - TIER 0", got) || IsCritical("Workstations", got) {
		t.Errorf("read back %q", got)
	}
	var ie *InvalidError
	if _, err := s.SetCriticalGroups(ctx, []string{strings.Repeat("x", 300)}, "admin"); !errors.As(err, &ie) {
		t.Errorf("an over-long name: %v", err)
	}
	if _, err := s.SetCriticalGroups(ctx, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CriticalGroups(ctx); len(got) != 0 {
		t.Errorf("after clearing: %q", got)
	}
}
