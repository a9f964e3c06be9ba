package ldap

import (
	"errors"
	"testing"

	"wsusfix/sim/internal/daemon"
)

// StartTest starts a directory for a test, in a directory of its own, and
// stops it when the test ends. Where slapd is not installed the test is
// skipped with a message saying what to install, unless the environment
// variable CI is set: there the test fails, so a CI machine that lacks the
// packages can never pass by skipping the directory tests.
func StartTest(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	daemon.Need(tb, Available(), "slapd ldap-utils")
	s, err := Start(tb.Context(), tb.TempDir(), cfg)
	if errors.Is(err, ErrNoBinaries) { // a binary Available did not look for
		daemon.Need(tb, err, "slapd ldap-utils")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
