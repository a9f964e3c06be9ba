//go:build unix

package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsusfix/sim"
)

// withUmask runs the test body under umask m, restoring the old one after.
// The umask is the process's, so these tests never run in parallel.
func withUmask(t *testing.T, m int) {
	t.Helper()
	old := syscall.Umask(m)
	t.Cleanup(func() { syscall.Umask(old) })
}

// modeOf is path's permission bits, failing the test when it is missing.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestPrivateFiles_Created ensures what the commands create is the owner's
// only, under an umask that would share it: the database and its
// companions (user add), the key file (serve's access setup), and the
// simulator's output folder and files.
func TestPrivateFiles_Created(t *testing.T) {
	withUmask(t, 0)
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	var out syncBuffer
	if err := run(t.Context(), []string{"user", "add", "-db", db, "alice"}, fakeEnv(nil), &out, &out); err != nil {
		t.Fatalf("user add: %v\n%s", err, out.String())
	}
	a := &access{sessionIdle: time.Minute, sessionLifetime: time.Hour}
	if err := a.load(db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, db + ".key"} {
		if m := modeOf(t, p); m != 0o600 {
			t.Errorf("%s is %v, want -rw-------", filepath.Base(p), m)
		}
	}
	if strings.Contains(out.String(), "chmod") {
		t.Errorf("a warning about files wsusfix made itself:\n%s", out.String())
	}

	fleet := sim.NewFleet(sim.FleetConfig{Seed: 1, Hosts: 3, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	srv := sim.StartTest(t, fleet, sim.Options{User: "a", Password: "b", TLS: true})
	simDir := filepath.Join(dir, "fleet")
	if err := writeFleetFiles(simDir, fleet, srv); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, simDir); m != 0o700 {
		t.Errorf("the fleet folder is %v, want drwx------", m)
	}
	for _, name := range []string{"hosts.csv", "history.csv", "sim-ca.pem"} {
		if m := modeOf(t, filepath.Join(simDir, name)); m != 0o600 {
			t.Errorf("%s is %v, want -rw-------", name, m)
		}
	}
}

// TestPrivateFiles_Warning ensures opening a database, or a key file, that
// other users can read logs a warning naming the chmod to run, with every
// such file in it, and says nothing when all are private.
func TestPrivateFiles_Warning(t *testing.T) {
	withUmask(t, 0o022)
	dir := filepath.Join(t.TempDir(), "a dir")
	os.Mkdir(dir, 0o700)
	db := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	if err := run(t.Context(), []string{"user", "list", "-db", db}, fakeEnv(nil), &out, &out); err != nil {
		t.Fatalf("user list: %v\n%s", err, out.String())
	}
	want := "chmod 600 '" + db + "' '" + db + "-wal' '" + db + "-shm'"
	if !strings.Contains(out.String(), want) {
		t.Errorf("no warning naming %q:\n%s", want, out.String())
	}

	var log bytes.Buffer
	key := filepath.Join(dir, "k.key")
	a := &access{keyFile: key, sessionIdle: time.Minute, sessionLifetime: time.Hour}
	if err := a.load(db, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "chmod") {
		t.Errorf("a warning about a key file made 0600:\n%s", log.String())
	}
	os.Chmod(key, 0o640)
	if err := a.load(db, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "chmod 600 '"+key+"'") {
		t.Errorf("no warning naming chmod 600 for the key file:\n%s", log.String())
	}
}
