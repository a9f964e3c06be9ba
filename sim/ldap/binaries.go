package ldap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"wsusfix/sim/internal/daemon"
)

// Debian and Ubuntu ship slapd in /usr/sbin (package slapd), which is often
// not on a non-root PATH, and its modules (back_mdb, memberof) in
// /usr/lib/ldap.
const progSlapd = "slapd"

// sbinDirs are searched after PATH.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/local/libexec", "/opt/homebrew/opt/openldap/libexec"}

// moduleDirs are where slapd's loadable modules may live, first match wins.
var moduleDirs = []string{"/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/local/lib/openldap"}

// schemaDirs hold the standard schema files (core, cosine, inetorgperson).
var schemaDirs = []string{"/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema"}

// ErrNoBinaries says OpenLDAP's slapd, its memberof module or its schema
// files are not installed.
var ErrNoBinaries = errors.New("ldap: OpenLDAP slapd not found (install slapd and ldap-utils)")

// install is where slapd and its parts were found.
type install struct {
	slapd, modules, schema string
}

// findInstall locates slapd, a module directory holding memberof and
// back_mdb, and the schema directory. The error wraps ErrNoBinaries and
// names what is missing.
func findInstall() (install, error) {
	var in install
	var missing []string
	if p, ok := daemon.LookProgram(progSlapd, sbinDirs); ok {
		in.slapd = p
	} else {
		missing = append(missing, progSlapd)
	}
	in.modules = firstDirWith(moduleDirs, "memberof.la", "back_mdb.la")
	if in.modules == "" {
		missing = append(missing, "the memberof and back_mdb modules")
	}
	in.schema = firstDirWith(schemaDirs, "core.schema", "cosine.schema", "inetorgperson.schema")
	if in.schema == "" {
		missing = append(missing, "the core, cosine and inetorgperson schema")
	}
	if len(missing) > 0 {
		return install{}, fmt.Errorf("%w: missing %v", ErrNoBinaries, missing)
	}
	return in, nil
}

// firstDirWith returns the first of dirs that holds every one of files.
func firstDirWith(dirs []string, files ...string) string {
next:
	for _, d := range dirs {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				continue next
			}
		}
		return d
	}
	return ""
}

// Available reports whether slapd and its parts are installed, and if not,
// why not.
func Available() error {
	_, err := findInstall()
	return err
}
