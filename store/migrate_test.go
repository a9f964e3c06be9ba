package store

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// migratedTo makes a database under t.TempDir with the migrations up to
// version applied, as a program of that version left it; it returns its
// path and its connection (one, as the store's writer), which the test
// closes before it opens the database with the store.
func migratedTo(t *testing.T, version int) (string, *sql.DB) {
	t.Helper()
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
	if err := migrateTo(t.Context(), db, ms, version); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// TestMigration_RunsRebuiltWithTheirEvents ensures migration 6, which
// rebuilds runs to allow the history procedure, keeps every run and event
// of an existing database, leaves run_events pointing at runs (a deleted
// host still takes its runs and their events with it), and then takes a
// history run.
func TestMigration_RunsRebuiltWithTheirEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path, db := migratedTo(t, 5)
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

// TestMigration_HistoryRebuiltWithItsChecks ensures migration 16, which
// rebuilds update_events to write its source check as comparisons, keeps
// every entry of an existing database as it was, with its id, and every
// rule the table had: the source and HRESULT checks, the unique key, and
// the cascade from a deleted host.
func TestMigration_HistoryRebuiltWithItsChecks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path, db := migratedTo(t, 15)
	for _, q := range []string{
		`INSERT INTO hosts (id, name, created_at, updated_at) VALUES (1, 'PC-1', 1, 1), (2, 'PC-2', 1, 1)`,
		`INSERT INTO hosts_search (rowid, name) SELECT id, name FROM hosts`, // as UpsertHosts does
		`INSERT INTO update_events (id, host_id, at, update_id, kb, title, operation, result, hresult, source) VALUES
			(5, 1, 10, 'KB1', 'KB1', 'One', 'Installation', 'Failed', 4294967295, 'wsus'),
			(9, 1, 11, '{guid}', '', '', 'Uninstallation', 'Succeeded', 0, 'host'),
			(12, 2, 10, 'KB1', 'KB1', 'Ünï', 'Installation', 'Aborted', 2147942402, 'repair'),
			(13, 2, 12, 'KB2', 'KB2', 'Two', 'Installation', 'Succeeded', 0, 'import')`,
		`UPDATE hosts SET state = 'failing', fail_event_id = 5 WHERE id = 1`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const all = "SELECT * FROM update_events"
	before := dbRows(t, db, all)
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d := cmp.Diff(before, tableRows(t, s, all)); d != "" {
		t.Errorf("history after the migration (-before +after):\n%s", d)
	}
	var parent string
	if err := s.read.QueryRowContext(ctx, `SELECT "table" FROM pragma_foreign_key_list('update_events')`).Scan(&parent); err != nil || parent != "hosts" {
		t.Fatalf("update_events refers to %q, %v", parent, err)
	}
	for _, bad := range []struct{ what, q string }{
		{"an unknown source", `INSERT INTO update_events (host_id, at, update_id, operation, result, source) VALUES (1, 20, 'x', 'Installation', 'Failed', 'other')`},
		{"an HRESULT above 32 bits", `INSERT INTO update_events (host_id, at, update_id, operation, result, hresult, source) VALUES (1, 20, 'x', 'Installation', 'Failed', 4294967296, 'wsus')`},
		{"a negative HRESULT", `INSERT INTO update_events (host_id, at, update_id, operation, result, hresult, source) VALUES (1, 20, 'x', 'Installation', 'Failed', -1, 'wsus')`},
		{"an unknown host", `INSERT INTO update_events (host_id, at, update_id, operation, result, source) VALUES (3, 20, 'x', 'Installation', 'Failed', 'wsus')`},
		{"a repeated entry", `INSERT INTO update_events (host_id, at, update_id, operation, result, source) VALUES (1, 10, 'KB1', 'Installation', 'Succeeded', 'import')`},
	} {
		if _, err := s.write.ExecContext(ctx, bad.q); err == nil {
			t.Errorf("%s was stored", bad.what)
		}
	}
	for _, src := range []string{SourceWSUS, SourceHost, SourceImport, SourceRepair} {
		if _, err := s.write.ExecContext(ctx, `INSERT INTO update_events (host_id, at, update_id, operation, result, source)
			VALUES (2, 30, ?, 'Installation', 'Succeeded', ?)`, src, src); err != nil {
			t.Errorf("source %s refused: %v", src, err)
		}
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM hosts WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if rows := tableRows(t, s, "SELECT count(*) FROM update_events WHERE host_id = 1"); len(rows) != 1 || rows[0] != "0" {
		t.Errorf("a deleted host's history: %v; want none", rows)
	}
}
