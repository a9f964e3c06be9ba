package kdc

import (
	"errors"
	"testing"

	"wsusfix/sim/internal/daemon"
)

// StartTest starts a KDC for a test, in a directory of its own, and stops
// it when the test ends. Where MIT Kerberos is not installed the test is
// skipped with a message saying what to install, unless the environment
// variable CI is set: there the test fails, so a CI machine that lacks the
// packages can never pass by skipping the Kerberos tests.
func StartTest(tb testing.TB, cfg Config) *KDC {
	tb.Helper()
	daemon.Need(tb, Available(), "krb5-kdc krb5-admin-server")
	k, err := Start(tb.Context(), tb.TempDir(), cfg)
	if errors.Is(err, ErrNoBinaries) { // a binary Available did not look for
		daemon.Need(tb, err, "krb5-kdc krb5-admin-server")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = k.Close() })
	return k
}
