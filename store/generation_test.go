package store

import (
	"path/filepath"
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestGeneration ensures the generation moves with every change a page
// shows, whoever commits it (this Store, or another process: a second
// Store over the same file), and stands still for the writes no page
// shows (audit entries, run log lines, a session's renewed expiry) and
// for reads.
func TestGeneration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	settle := func() uint64 { // past the poll interval, so other processes' commits are seen
		time.Sleep(2 * externalPollInterval)
		return s.Generation()
	}
	moved := func(what string, before uint64) uint64 {
		t.Helper()
		after := settle()
		if after == before {
			t.Errorf("%s: the generation did not move", what)
		}
		return after
	}
	stood := func(what string, before uint64) {
		t.Helper()
		if after := settle(); after != before {
			t.Errorf("%s: the generation moved from %d to %d", what, before, after)
		}
	}

	g := settle()
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	g = moved("a host upserted", g)
	h, err := s.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountHosts(ctx); err != nil {
		t.Fatal(err)
	}
	stood("reads", g)
	r, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureCheck, RequestedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	g = moved("a run created", g)
	ss := s.Sessions()
	exp := time.Now().Add(time.Hour)
	if err := ss.CommitCtx(ctx, "tok", []byte("data"), exp); err != nil {
		t.Fatal(err)
	}
	g = moved("a new session", g) // (see CommitCtx); its renewal must not move it
	if _, err := s.AppendRunEvent(ctx, run.Event{RunID: r.ID, Kind: run.EventOutput, Text: "line"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, AuditEntry{Actor: "t", Action: "export", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "tok", []byte("data"), exp.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	stood("a run's log line, an audit entry and a session renewed", g)
	if err := ss.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	g = moved("a session deleted", g)

	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	g = settle()
	if _, err := other.UpsertHosts(ctx, []HostInput{{Name: "PC-2"}}); err != nil {
		t.Fatal(err)
	}
	g = moved("another process's upsert", g)

	// What the memos keep follows another process too: a user disabled
	// there (`wsusfix user disable`) and a session deleted there are no
	// longer given here once the generation has moved.
	if _, err := s.CreateUser(ctx, "gen-admin", RoleAdmin, "gen admin password 1"); err != nil { // the one enabled admin the store keeps
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, "gen-user", RoleOperator, "gen user password 1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByID(ctx, u.ID); err != nil || got.Disabled {
		t.Fatalf("the user before: %+v, %v", got, err)
	}
	if err := ss.CommitCtx(ctx, "tok2", []byte("data"), exp.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, err := ss.FindCtx(ctx, "tok2"); err != nil || !found {
		t.Fatalf("the session before: %v, %v", found, err)
	}
	g = settle()
	if _, err := other.SetDisabled(ctx, "gen-user", true); err != nil {
		t.Fatal(err)
	}
	if err := other.Sessions().DeleteCtx(ctx, "tok2"); err != nil {
		t.Fatal(err)
	}
	moved("another process disabling a user and deleting a session", g)
	if got, err := s.UserByID(ctx, u.ID); err != nil || !got.Disabled {
		t.Errorf("the user after another process disabled it: %+v, %v", got, err)
	}
	if _, found, err := ss.FindCtx(ctx, "tok2"); err != nil || found {
		t.Errorf("the session after another process deleted it: found %v, %v", found, err)
	}
}
