package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// newTestStore opens a fresh database file under t.TempDir, made from the
// migrated schema (NewFile; TestMigrations runs the migrations).
func newTestStore(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	if err := NewFile(path); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.now = func() time.Time { return fixedNow }
	return s
}

// TestMigrations ensures the embedded migrations are numbered 1..N with no
// gap, and that reopening a database applies nothing twice.
func TestMigrations(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Fatalf("migration %s has version %d at position %d", m.name, m.version, i+1)
		}
	}
	path := filepath.Join(t.TempDir(), "m.db")
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		var v int
		if err := s.read.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(ms) {
			t.Fatalf("user_version = %d, %v; want %d", v, err, len(ms))
		}
		var jm string
		if err := s.read.QueryRow("PRAGMA journal_mode").Scan(&jm); err != nil || jm != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", jm, err)
		}
		s.Close()
	}
}

// TestOpen_NewerSchema ensures a database from a newer program is refused
// instead of being used with a schema this one does not know.
func TestOpen_NewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.quiet().Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(t.Context(), path); err == nil {
		t.Fatal("opened a database with schema version 999")
	}
}

// TestStore_ReadPoolIsReadOnly ensures the read pool cannot write, so a
// write sent to the wrong pool fails loudly instead of racing the writer.
func TestStore_ReadPoolIsReadOnly(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	_, err := s.read.Exec("INSERT INTO hosts (name, created_at, updated_at) VALUES ('X', 0, 0)")
	if err == nil {
		t.Fatal("insert through the read pool succeeded")
	}
}

// TestMapErr ensures constraint violations become ErrConflict and missing
// rows ErrNotFound, by result code rather than message text.
func TestMapErr(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC1"}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.write.ExecContext(ctx, "INSERT INTO hosts (name, created_at, updated_at) VALUES ('pc1', 0, 0)")
	if err = mapErr("insert", err); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: got %v, want ErrConflict", err)
	}
	if _, err := s.HostByName(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown host: got %v, want ErrNotFound", err)
	}
}

func addHosts(t *testing.T, s *Store, hosts ...HostInput) {
	t.Helper()
	if _, err := s.UpsertHosts(context.Background(), hosts); err != nil {
		t.Fatal(err)
	}
}

func addEvents(t *testing.T, s *Store, ev ...EventInput) EventCounts {
	t.Helper()
	c, err := s.AddUpdateEvents(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(d int) time.Time { return time.Date(2026, 10, d, 10, 0, 0, 0, time.UTC) }
