package store

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// schemaOf lists the schema of the database s: every object's SQL, its
// user_version and journal mode.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.read.Query("SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	var v int
	var jm string
	if err := s.read.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRow("PRAGMA journal_mode").Scan(&jm); err != nil {
		t.Fatal(err)
	}
	return append(out, "user_version "+strconv.Itoa(v), "journal_mode "+jm)
}

// TestNewFile ensures a database made by NewFile is, to Open, what one
// made by migrating is: the same objects and version, nothing left to
// migrate, private, and usable; and that it never overwrites a file.
func TestNewFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	migratedPath, copied := filepath.Join(dir, "migrated.db"), filepath.Join(dir, "copied.db")
	m, err := Open(t.Context(), migratedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := NewFile(copied); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(copied); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v: want 0600", fi.Mode(), err)
	}
	c, err := Open(t.Context(), copied)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, got := schemaOf(t, m), schemaOf(t, c)
	if !slices.Equal(got, want) || len(want) < 40 {
		t.Errorf("schema of the copy:\n%q\nof a migrated database:\n%q", got, want)
	}
	if _, err := c.UpsertHosts(t.Context(), []HostInput{{Name: "PC-1"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.CountHosts(t.Context()); err != nil || n != 1 {
		t.Errorf("%d hosts, %v", n, err)
	}
	if err := NewFile(copied); err == nil {
		t.Error("NewFile replaced a database that exists")
	}
	if n, err := c.CountHosts(t.Context()); err != nil || n != 1 {
		t.Errorf("after a refused NewFile: %d hosts, %v", n, err)
	}
}
