package kdc

import (
	"errors"
	"fmt"

	"wsusfix/sim/internal/daemon"
)

// The MIT Kerberos programs a KDC needs. Debian and Ubuntu ship them in
// krb5-kdc (krb5kdc, kdb5_util) and krb5-admin-server (kadmin.local), under
// /usr/sbin, which is often not on a non-root PATH.
const (
	progKDC    = "krb5kdc"
	progDBUtil = "kdb5_util"
	progKadmin = "kadmin.local"
)

// sbinDirs are searched after PATH.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/opt/homebrew/opt/krb5/sbin", "/usr/local/opt/krb5/sbin"}

// ErrNoBinaries says the MIT Kerberos KDC programs are not installed.
var ErrNoBinaries = errors.New("kdc: MIT Kerberos KDC programs not found (install krb5-kdc and krb5-admin-server)")

// binaries are the absolute paths of the programs.
type binaries struct {
	kdc, dbUtil, kadmin string
}

// findBinaries locates every program, on PATH first, then in sbinDirs. The
// error wraps ErrNoBinaries and names what is missing.
func findBinaries() (binaries, error) {
	var b binaries
	var missing []string
	for _, p := range []struct {
		name string
		dst  *string
	}{{progKDC, &b.kdc}, {progDBUtil, &b.dbUtil}, {progKadmin, &b.kadmin}} {
		path, ok := lookPath(p.name)
		if !ok {
			missing = append(missing, p.name)
			continue
		}
		*p.dst = path
	}
	if len(missing) > 0 {
		return binaries{}, fmt.Errorf("%w: missing %v", ErrNoBinaries, missing)
	}
	return b, nil
}

func lookPath(name string) (string, bool) { return daemon.LookProgram(name, sbinDirs) }

// Available reports whether the KDC programs are installed, and if not,
// why not.
func Available() error {
	_, err := findBinaries()
	return err
}
