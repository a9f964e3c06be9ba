package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"wsusfix/store/run"

	"github.com/google/go-cmp/cmp"
)

// TestStore_UpsertHosts ensures new hosts are inserted, changed ones
// updated, and identical ones left alone and counted as unchanged.
func TestStore_UpsertHosts(t *testing.T) {
	t.Parallel()
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
	want := Host{ID: h.ID, Name: "FIN-LT-0002", Address: "192.0.2.10:5986", Group: "Broad", Groups: []string{"Broad"},
		State: StateUnknown}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("host (-want +got):\n%s", diff)
	}
	h1, err := s.HostByName(ctx, "FIN-LT-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !h1.LastReportAt.Equal(day(1)) {
		t.Fatalf("last report %v, want %v", h1.LastReportAt, day(1))
	}
}

// TestStore_FailingGroups ensures the group menu lists each group with a
// failing host once, sorted, and leaves out groups with none.
func TestStore_FailingGroups(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	addHosts(t, s, HostInput{Name: "A", Group: "Servers"}, HostInput{Name: "B", Group: "Pilot"},
		HostInput{Name: "C", Group: "Servers"}, HostInput{Name: "D"}, HostInput{Name: "E", Group: "Kiosks"},
		HostInput{Name: "F", Group: "Healthy"})
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		addEvents(t, s, ev(n, 1, "1", run.ResultFailed, 0x80070002))
	}
	addEvents(t, s, ev("F", 1, "1", run.ResultSucceeded, 0))
	got, err := s.FailingGroups(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Kiosks", "Pilot", "Servers"}, got); diff != "" {
		t.Fatal(diff)
	}
}

// TestStore_SearchFollowsRenames ensures the name search index follows
// inserts, renames and deletes made through SQL triggers.
func TestStore_SearchFollowsRenames(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "OLD-NAME-1"})
	addEvents(t, s, ev("OLD-NAME-1", 1, "1", run.ResultFailed, 0x80070002))
	if _, err := s.write.ExecContext(ctx, "UPDATE hosts SET name = 'NEW-NAME-1'"); err != nil {
		t.Fatal(err)
	}
	for search, want := range map[string]int{"old-name": 0, "new-name": 1} {
		got, err := s.FailingHosts(ctx, TriageFilter{Search: search})
		if err != nil || len(got) != want {
			t.Fatalf("search %q: %d hosts, %v; want %d", search, len(got), err, want)
		}
	}
	if _, err := s.write.ExecContext(ctx, "DELETE FROM hosts"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM hosts_search WHERE name LIKE '%name%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("search index still holds %d deleted hosts (%v)", n, err)
	}
}

// TestValidateHostName ensures NetBIOS names and FQDNs pass and anything
// else is refused with a reason naming what is wrong.
func TestValidateHostName(t *testing.T) {
	t.Parallel()
	label := strings.Repeat("a", 63)
	longest := strings.Join([]string{label, label, label, label[:61]}, ".") // 253
	tests := []struct {
		name, in, wantReason string
	}{
		{"netbios", "FIN-LT-0042", ""},
		{"fqdn", "fin-lt-0042.corp.example", ""},
		{"digits only", "123", ""},
		{"longest", longest, ""},
		{"empty", "", "is empty"},
		{"too long", longest + "x", "is longer than 253 characters"},
		{"long label", label + "a.corp", `label "` + label + `a" is longer than 63 characters`},
		{"two dots", "pc2..corp", "has an empty label (two dots, or a dot at an end)"},
		{"trailing dot", "pc2.corp.", "has an empty label"},
		{"leading hyphen", "-lead", `label "-lead" starts with a hyphen`},
		{"trailing hyphen", "pc.trail-", `label "trail-" ends with a hyphen`},
		{"space", "BAD HOST", `has ' ': only letters, digits, hyphens and dots are allowed`},
		{"underscore", "under_score", `has '_'`},
		{"non-ASCII", "café", `has 'é'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateHostName(tt.in)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("ValidateHostName(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			var he *HostNameError
			if !errors.As(err, &he) || !errors.Is(err, ErrInvalidHostName) {
				t.Fatalf("ValidateHostName(%q) = %v, want a *HostNameError wrapping ErrInvalidHostName", tt.in, err)
			}
			if he.Name != tt.in || !strings.HasPrefix(he.Reason, tt.wantReason) {
				t.Errorf("refused %q because %q, want %q because %q", he.Name, he.Reason, tt.in, tt.wantReason)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error quotes the whole name: %d bytes", len(err.Error()))
			}
		})
	}
}

// TestStore_UpsertHostsRefusesBadNames ensures no writer can store a host
// whose name or FQDN is not a host name: the whole call fails with
// ErrInvalidHostName and nothing is written.
func TestStore_UpsertHostsRefusesBadNames(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	tests := []struct {
		name string
		bad  HostInput
	}{
		{"name", HostInput{Name: "BAD HOST"}},
		{"empty name", HostInput{}},
		{"fqdn", HostInput{Name: "PC-9", FQDN: "pc-9..corp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpsertHosts(t.Context(), []HostInput{{Name: "PC-1"}, tt.bad})
			if !errors.Is(err, ErrInvalidHostName) {
				t.Fatalf("UpsertHosts(%+v) = %v, want ErrInvalidHostName", tt.bad, err)
			}
			if n, err := s.CountHosts(t.Context()); err != nil || n != 0 {
				t.Errorf("store holds %d hosts (%v), want 0", n, err)
			}
		})
	}
}

// TestStore_UpsertHostsRepeated ensures a name given twice in one call is
// inserted once and then updated from the later row, as rows of separate
// calls would be, WSUS facts included.
func TestStore_UpsertHostsRepeated(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	facts := &WSUSFacts{Server: "WSUS01", ComputerID: "1", Failed: 2, SeenAt: day(2)}
	c, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", Group: "A"}, {Name: "pc-1", Group: "B"},
		{Name: "PC-1", Group: "B"}, {Name: "PC-1", Group: "B", WSUS: facts}})
	if err != nil || c != (UpsertCounts{Inserted: 1, Updated: 2, Unchanged: 1}) {
		t.Fatalf("upsert = %+v, %v", c, err)
	}
	h, err := s.HostByName(ctx, "PC-1")
	if err != nil || h.Name != "PC-1" || h.Group != "B" || h.WSUS == nil || *h.WSUS != *facts {
		t.Fatalf("host %+v (wsus %+v), %v", h, h.WSUS, err)
	}
}

// TestStore_SearchFindsNewHosts ensures every host UpsertHosts inserts is
// in the name search, across the statements of a large batch, a name given
// twice in one call, and calls that add to hosts already stored.
func TestStore_SearchFindsNewHosts(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	var first []HostInput
	for i := range insertChunk + 10 {
		first = append(first, HostInput{Name: fmt.Sprintf("SRCH-%04d", i)})
	}
	first = append(first, HostInput{Name: "srch-0003", Group: "again"})
	addHosts(t, s, first...)
	addHosts(t, s, HostInput{Name: "SRCH-0001"}, HostInput{Name: "LATER-1", WSUS: &WSUSFacts{Server: "WSUS01", ComputerID: "x", SeenAt: day(1)}})
	for search, want := range map[string]int{"srch-": insertChunk + 10, "srch-000": 10, "later-1": 1, "srch-0003": 1} {
		_, n, err := s.SearchHosts(ctx, search, 1, 0)
		if err != nil || n != want {
			t.Errorf("search %q: %d hosts, %v; want %d", search, n, err, want)
		}
	}
}
