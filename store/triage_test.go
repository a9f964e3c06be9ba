package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"wsusfix/store/run"

	"github.com/google/go-cmp/cmp"
)

func names(hs []Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

// TestStore_FailingHosts ensures the triage query filters by code, group
// and name, sorts, pages, counts, and treats LIKE wildcards as text.
func TestStore_FailingHosts(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s,
		HostInput{Name: "HQ-LT-1", Group: "Laptops"}, HostInput{Name: "HQ-LT-2", Group: "Laptops"},
		HostInput{Name: "FIN-WS-3", Group: "Desktops"}, HostInput{Name: "SRV-SQL01", Group: "Servers"},
		HostInput{Name: "OK-PC", Group: "Desktops"})
	// No writer stores an underscore in a name; the search must treat one
	// as text all the same, so this host gets one behind the store's back.
	if _, err := s.write.ExecContext(ctx, "UPDATE hosts SET name = 'FIN_WS_3' WHERE name = 'FIN-WS-3'"); err != nil {
		t.Fatal(err)
	}
	addEvents(t, s,
		ev("HQ-LT-1", 3, "1", run.ResultFailed, fileNotFound),
		ev("HQ-LT-2", 5, "1", run.ResultFailed, fileNotFound),
		ev("FIN_WS_3", 4, "1", run.ResultFailed, pathNotFound),
		ev("SRV-SQL01", 1, "1", run.ResultFailed, wsusUnavail),
		ev("OK-PC", 1, "1", run.ResultSucceeded, 0))
	code := uint32(fileNotFound)
	tests := []struct {
		name  string
		f     TriageFilter
		want  []string
		total int
	}{
		{"newest first by default", TriageFilter{Desc: true}, []string{"HQ-LT-2", "FIN_WS_3", "HQ-LT-1", "SRV-SQL01"}, 4},
		{"by code", TriageFilter{HResult: &code, Sort: SortName}, []string{"HQ-LT-1", "HQ-LT-2"}, 2},
		{"by group", TriageFilter{Group: "Servers"}, []string{"SRV-SQL01"}, 1},
		{"search is case-insensitive", TriageFilter{Search: "lt-", Sort: SortName, Desc: true}, []string{"HQ-LT-2", "HQ-LT-1"}, 2},
		{"underscore is literal", TriageFilter{Search: "_"}, []string{"FIN_WS_3"}, 1},
		{"long search uses the trigram index", TriageFilter{Search: "n_ws"}, []string{"FIN_WS_3"}, 1},
		{"trigram search is case-insensitive", TriageFilter{Search: "sql0", Sort: SortName}, []string{"SRV-SQL01"}, 1},
		{"percent is literal", TriageFilter{Search: "%"}, nil, 0},
		{"paged", TriageFilter{Sort: SortName, Limit: 2, Offset: 2}, []string{"HQ-LT-2", "SRV-SQL01"}, 4},
		{"unknown sort falls back", TriageFilter{Sort: "name; DROP TABLE hosts", Desc: true}, []string{"HQ-LT-2", "FIN_WS_3", "HQ-LT-1", "SRV-SQL01"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FailingHosts(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			counts, err := s.FailureCounts(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			total := tt.f.Matching(counts)
			if diff := cmp.Diff(tt.want, names(got)); diff != "" || total != tt.total {
				t.Fatalf("total %d (want %d), hosts (-want +got):\n%s", total, tt.total, diff)
			}
		})
	}

	counts, err := s.FailureCounts(ctx, TriageFilter{HResult: &code})
	if err != nil {
		t.Fatal(err)
	}
	want := []CodeCount{{fileNotFound, 2}, {pathNotFound, 1}, {wsusUnavail, 1}}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Fatalf("counts ignore the code filter and sort by size (-want +got):\n%s", diff)
	}
}

// TestStore_EachFailingHost ensures the streaming walk stops at the
// callback's error and returns it.
func TestStore_EachFailingHost(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	for i := range 5 {
		name := fmt.Sprintf("PC%d", i)
		addHosts(t, s, HostInput{Name: name})
		addEvents(t, s, ev(name, 1, "1", run.ResultFailed, fileNotFound))
	}
	stop := fmt.Errorf("stop")
	n := 0
	err := s.EachFailingHost(t.Context(), TriageFilter{}, func(Host) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("walk returned %v after %d rows, want stop after 3", err, n)
	}
}

// TestStore_FilterTextTooLong ensures a text filter that escaping could
// push past SQLite's LIKE limit is refused with ErrFilterTooLong by every
// query that takes one, instead of failing inside SQLite, while the
// longest allowed text, all wildcards, runs.
func TestStore_FilterTextTooLong(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	long := strings.Repeat("_", MaxFilterText+1)
	calls := map[string]func() error{
		"FailingHosts":  func() error { _, err := s.FailingHosts(ctx, TriageFilter{Search: long}); return err },
		"FailureCounts": func() error { _, err := s.FailureCounts(ctx, TriageFilter{Group: long}); return err },
		"Runs":          func() error { _, _, err := s.Runs(ctx, RunFilter{Host: long}); return err },
		"EachRun":       func() error { return s.EachRun(ctx, RunFilter{Who: long}, func(*Run) error { return nil }) },
		"AuditEntries":  func() error { _, _, err := s.AuditEntries(ctx, AuditFilter{Target: long}); return err },
		"EachAuditEntry": func() error {
			return s.EachAuditEntry(ctx, AuditFilter{Actor: long}, func(AuditEntry) error { return nil })
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrFilterTooLong) {
			t.Errorf("%s with %d bytes: %v, want ErrFilterTooLong", name, len(long), err)
		}
	}
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	// The store holds a host, so SQLite really evaluates the patterns.
	h, err := s.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureCheck, RequestedBy: "t"}); err != nil {
		t.Fatal(err)
	}
	most := strings.Repeat("%", MaxFilterText)
	if _, err := s.FailingHosts(ctx, TriageFilter{Search: most}); err != nil {
		t.Errorf("FailingHosts with %d wildcards: %v", MaxFilterText, err)
	}
	if _, _, err := s.Runs(ctx, RunFilter{Host: most}); err != nil {
		t.Errorf("Runs with %d wildcards: %v", MaxFilterText, err)
	}
	if err := s.EachRun(ctx, RunFilter{Host: most}, func(*Run) error { return nil }); err != nil {
		t.Errorf("EachRun with %d wildcards: %v", MaxFilterText, err)
	}
}
