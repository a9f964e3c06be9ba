package store

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
)

// TestMigration_RunsRebuiltWithTheirEvents ensures migration 6, which
// rebuilds runs to allow the history procedure, keeps every run and event
// of an existing database, leaves run_events pointing at runs (a deleted
// host still takes its runs and their events with it), and then takes a
// history run.
func TestMigration_RunsRebuiltWithTheirEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+pragmas)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrateTo(ctx, db, ms, 5); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO hosts (id, name, created_at, updated_at) VALUES (1, 'PC-1', 1, 1)`,
		`INSERT INTO runs (id, host_id, procedure, requested_by, state, outcome, created_at) VALUES (7, 1, 'check', 'alice', 'succeeded', 'checked', 2)`,
		`INSERT INTO run_events (run_id, seq, at, kind, step, text) VALUES (7, 1, 3, 'step_started', 'connect', ''), (7, 2, 4, 'output', 'connect', 'hello')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Run(ctx, 7)
	if err != nil || r.RequestedBy != "alice" || string(r.Outcome) != "checked" {
		t.Fatalf("run after the migration: %+v, %v", r, err)
	}
	var events int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM run_events WHERE run_id = 7").Scan(&events); err != nil || events != 2 {
		t.Fatalf("events after the migration: %d, %v", events, err)
	}
	var parent string
	if err := s.read.QueryRowContext(ctx, `SELECT "table" FROM pragma_foreign_key_list('run_events')`).Scan(&parent); err != nil || parent != "runs" {
		t.Fatalf("run_events refers to %q, %v", parent, err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO runs (host_id, procedure, requested_by, created_at) VALUES (1, 'history', 'bob', 5)`); err != nil {
		t.Fatalf("a history run refused: %v", err)
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM hosts WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM run_events").Scan(&events); err != nil || events != 0 {
		t.Errorf("events of a deleted host's runs: %d, %v; want none", events, err)
	}
}
