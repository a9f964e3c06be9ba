//go:build unix

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// withUmask runs the test body under umask m, restoring the old one after.
// The umask is the process's, so these tests never run in parallel.
func withUmask(t *testing.T, m int) {
	t.Helper()
	old := syscall.Umask(m)
	t.Cleanup(func() { syscall.Umask(old) })
}

// TestOpen_PrivateFiles ensures a new database, its -wal and -shm files
// and a new key file are 0600 whatever the umask: under 0 (which would
// give 0644 or 0666) and under 0277 (which would leave them unwritable).
func TestOpen_PrivateFiles(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o277} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			withUmask(t, umask)
			dir := t.TempDir()
			path := filepath.Join(dir, "wsusfix.db")
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A write, so the WAL holds something and both companions exist.
			if err := s.Audit(t.Context(), AuditEntry{Actor: "t", Action: ActionLogout, Outcome: OutcomeOK}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadKeyFile(filepath.Join(dir, "wsusfix.db.key")); err != nil {
				t.Fatal(err)
			}
			for _, p := range append(Files(path), filepath.Join(dir, "wsusfix.db.key")) {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s is %v, want -rw-------", filepath.Base(p), fi.Mode().Perm())
				}
			}
		})
	}
}

// TestOpen_ExistingModeKept ensures opening an existing database leaves
// its mode alone (fixing it is the administrator's call; the server warns)
// and SQLite gives the companions the same mode, which is why the warning
// names all three.
func TestOpen_ExistingModeKept(t *testing.T) {
	withUmask(t, 0)
	path := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range Files(path) {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want it left at 0644", filepath.Base(p), fi.Mode(), err)
		}
	}
}
