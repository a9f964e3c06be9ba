// Package daemon is what the simulator's real servers (sim/kdc's MIT KDC,
// sim/ldap's slapd) share: finding a program that may live outside PATH,
// collecting its output while it runs, and the rule that a test needing a
// server that is not installed skips, except in CI, where it fails.
package daemon

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// LookProgram finds name on PATH, then in dirs (sbin directories, which
// an ordinary user's PATH often leaves out).
func LookProgram(name string, dirs []string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// LastLines is the last n lines of s, joined on one line: the part of a
// program's output an error can quote.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// LockedBuffer collects a process's output; exec writes it from its own
// goroutine while errors read it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p under the lock.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Need skips tb when missing (why a server cannot run here) is not nil,
// saying what to install, unless the environment variable CI is set:
// there it fails, so a CI machine that lacks the packages can never pass
// by skipping.
func Need(tb testing.TB, missing error, install string) {
	tb.Helper()
	if missing == nil {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%v; CI is set, so this is a failure, not a skip", missing)
	}
	tb.Skipf("%v; skipping (apt-get install %s)", missing, install)
}
