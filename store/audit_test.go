package store

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestStore_Audit ensures entries are appended and listed newest first with
// filters, and that the log cannot be changed or emptied through SQL.
func TestStore_Audit(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	for i, e := range []AuditEntry{
		{Actor: "alice", Client: "10.0.0.1", Action: ActionLoginOK, Outcome: OutcomeOK},
		{Actor: "", Client: "10.0.0.9", Action: ActionLoginFailed, Target: "mallory", Outcome: OutcomeFailed},
		{Actor: "alice", Client: "10.0.0.1", Action: ActionUserRole, Target: "bob", Outcome: OutcomeOK, Detail: "viewer → operator"},
		{Actor: "alice", Client: "10.0.0.1", Action: ActionUserDisable, Target: "bob", Outcome: OutcomeOK},
	} {
		e.At = fixedNow.Add(time.Duration(i) * time.Minute)
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		f     AuditFilter
		want  []string
		total int
	}{
		{"all", AuditFilter{}, []string{ActionUserDisable, ActionUserRole, ActionLoginFailed, ActionLoginOK}, 4},
		{"actor", AuditFilter{Actor: "ALICE"}, []string{ActionUserDisable, ActionUserRole, ActionLoginOK}, 3},
		{"action prefix", AuditFilter{Action: "user."}, []string{ActionUserDisable, ActionUserRole}, 2},
		{"outcome", AuditFilter{Outcome: OutcomeFailed}, []string{ActionLoginFailed}, 1},
		{"target", AuditFilter{Target: "BO"}, []string{ActionUserDisable, ActionUserRole}, 2},
		{"since", AuditFilter{Since: fixedNow.Add(2 * time.Minute)}, []string{ActionUserDisable, ActionUserRole}, 2},
		{"paged", AuditFilter{Limit: 2, Offset: 1}, []string{ActionUserRole, ActionLoginFailed}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, total, err := s.AuditEntries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Action)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || total != tt.total {
				t.Errorf("got %v (total %d), want %v (total %d)", got, total, tt.want, tt.total)
			}
		})
	}
	if _, err := s.write.quiet().Exec(`UPDATE audit_log SET actor = 'nobody'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("UPDATE of the audit log: %v", err)
	}
	if _, err := s.write.quiet().Exec(`DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("DELETE from the audit log: %v", err)
	}
	actions, err := s.AuditActions(ctx)
	if err != nil || len(actions) != 4 {
		t.Fatalf("actions %v, %v", actions, err)
	}
}

// TestStore_Sessions ensures the session store finds unexpired sessions
// only, replaces on commit, deletes, and deletes by match.
func TestStore_Sessions(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	ss := s.Sessions()
	soon := time.Now().Add(time.Hour)
	ss.CommitCtx(ctx, "a", []byte("one"), soon)
	ss.CommitCtx(ctx, "a", []byte("two"), soon)
	ss.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Second))
	ss.CommitCtx(ctx, "b", []byte("bob"), soon)
	if b, ok, err := ss.FindCtx(ctx, "a"); err != nil || !ok || string(b) != "two" {
		t.Fatalf("find a: %q %v %v", b, ok, err)
	}
	if _, ok, _ := ss.FindCtx(ctx, "old"); ok {
		t.Error("expired session found")
	}
	if all, _ := ss.AllCtx(ctx); len(all) != 2 {
		t.Errorf("all: %v", all)
	}
	n, err := ss.DeleteMatching(ctx, func(b []byte) bool { return string(b) == "bob" })
	if err != nil || n != 1 {
		t.Fatalf("delete matching: %d, %v", n, err)
	}
	ss.DeleteCtx(ctx, "a")
	if _, ok, _ := ss.FindCtx(ctx, "a"); ok {
		t.Error("deleted session found")
	}
	var left int
	s.read.QueryRow(`SELECT count(*) FROM sessions WHERE expiry > ?`, time.Now().UnixMilli()).Scan(&left)
	if left != 0 {
		t.Errorf("%d live sessions left", left)
	}
}

// TestStore_AuditCaps ensures no audit field is stored longer than its cap:
// a 900 KB target becomes AuditTargetMax characters ending in "…", cut
// between characters, while values up to the cap are stored whole.
func TestStore_AuditCaps(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	huge := "/export/hosts.csv?" + strings.Repeat("é", 450_000)
	exact := strings.Repeat("ü", AuditTargetMax)
	for _, e := range []AuditEntry{
		{Actor: strings.Repeat("a", 500), Action: ActionExport, Target: huge, Outcome: OutcomeOK, Detail: strings.Repeat("d", 5000)},
		{Actor: "b", Action: ActionExport, Target: exact, Outcome: OutcomeOK},
	} {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := s.AuditEntries(ctx, AuditFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	byActor := map[string]AuditEntry{}
	for _, e := range got {
		byActor[e.Actor[:1]] = e
	}
	a := byActor["a"]
	if n := utf8.RuneCountInString(a.Target); n != AuditTargetMax || !strings.HasSuffix(a.Target, "é…") || !utf8.ValidString(a.Target) {
		t.Errorf("huge target stored as %d characters ending %q", n, a.Target[len(a.Target)-8:])
	}
	if n := utf8.RuneCountInString(a.Detail); n != AuditDetailMax || !strings.HasSuffix(a.Detail, "…") {
		t.Errorf("long detail stored as %d characters", n)
	}
	if n := utf8.RuneCountInString(a.Actor); n != 128 {
		t.Errorf("long actor stored as %d characters", n)
	}
	if b := byActor["b"]; b.Target != exact {
		t.Errorf("a target of exactly %d characters was changed to %d", AuditTargetMax, utf8.RuneCountInString(b.Target))
	}
}
