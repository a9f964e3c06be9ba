// Package ldap runs a real OpenLDAP slapd in a temporary directory, on
// loopback, for tests: users with passwords, groups nested in groups (the
// memberof overlay keeps each member's memberOf, the groups it is directly
// in, as Active Directory keeps its memberOf back-link: Microsoft's AD
// schema, attribute Is-Member-Of-DL, learn.microsoft.com/windows/win32/adschema/a-memberof),
// a service account that may read the tree, LDAPS and StartTLS with
// a CA generated for the run. It never touches /etc/ldap's configuration:
// slapd gets its own slapd.conf and database under the directory it is
// given. It imports nothing of wsusfix outside sim/internal.
//
// A disabled account is modelled as Active Directory shows it: the
// attribute userAccountControl (AD's own OID, 1.2.840.113556.1.4.8, from a
// small schema written next to slapd.conf) with bit 2 (ACCOUNTDISABLE) set,
// 514 rather than 512 (NORMAL_ACCOUNT), the flag values of Microsoft's "Use
// the UserAccountControl flags to manipulate user account properties"
// (learn.microsoft.com/troubleshoot/windows-server/active-directory/useraccountcontrol-manipulate-account-properties). slapd itself still accepts such a user's password,
// which is exactly what a client must not rely on a server to refuse.
package ldap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"wsusfix/sim/internal/daemon"
)

// Config chooses the directory's suffix and content.
type Config struct {
	// Suffix is the naming context; default "dc=corp,dc=example".
	Suffix string
	// ServicePassword is the service account's password; default random.
	ServicePassword string
	// Users are people under ou=people, by uid.
	Users []User
	// Groups are groupOfNames under ou=groups, by cn. A member names a
	// user or another group; a group may contain groups listed after it.
	Groups []Group
}

// User is one person in the directory.
type User struct {
	Name     string // uid and cn
	Password string
	// Mail is the address-style name; default name@ the suffix's domain.
	// OpenLDAP's schemas have no userPrincipalName, so mail stands in for
	// it here, holding the user@domain form AD's userPrincipalName takes
	// (learn.microsoft.com/windows/win32/adschema/a-userprincipalname);
	// the stand-in is this simulator's choice, not a directory's behaviour.
	Mail string
	// Disabled sets userAccountControl to 514 (ACCOUNTDISABLE) instead of 512.
	Disabled bool
}

// Group is a groupOfNames; Members are user or group names.
type Group struct {
	Name    string
	Members []string
}

// Server is a running slapd. Close stops it.
type Server struct {
	suffix       string
	ldapAddr     string // 127.0.0.1:port: ldap://, StartTLS required for binds
	ldapsAddr    string // 127.0.0.1:port: ldaps://
	ca           []byte
	rootPassword string
	svcPassword  string
	users        map[string]bool
	groups       map[string]bool

	cmd    *exec.Cmd
	exited chan struct{} // closed when slapd has been waited for
	out    *daemon.LockedBuffer
	once   sync.Once
}

var (
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	suffixPattern = regexp.MustCompile(`^dc=[a-z0-9-]+(,dc=[a-z0-9-]+)*$`)
)

// check fills defaults and refuses names that would need escaping in a
// DN, so the harness never builds one from arbitrary text.
func (c *Config) check() error {
	if c.Suffix == "" {
		c.Suffix = "dc=corp,dc=example"
	}
	if !suffixPattern.MatchString(c.Suffix) {
		return fmt.Errorf("ldap: suffix %q: want dc=…,dc=… in lower case", c.Suffix)
	}
	if c.ServicePassword == "" {
		c.ServicePassword = randomHex(12)
	}
	seen := map[string]bool{"svc-wsusfix": true}
	for _, u := range c.Users {
		if !namePattern.MatchString(u.Name) || seen[strings.ToLower(u.Name)] {
			return fmt.Errorf("ldap: user %q: want a unique bare name", u.Name)
		}
		seen[strings.ToLower(u.Name)] = true
	}
	for _, g := range c.Groups {
		if !namePattern.MatchString(g.Name) || seen[strings.ToLower(g.Name)] {
			return fmt.Errorf("ldap: group %q: want a unique bare name, not also a user's", g.Name)
		}
		if len(g.Members) == 0 {
			return fmt.Errorf("ldap: group %q: groupOfNames needs at least one member", g.Name)
		}
		seen[strings.ToLower(g.Name)] = true
	}
	return nil
}

// Start writes slapd.conf and a CA under dir (which must exist and should
// be private, e.g. t.TempDir()), starts slapd on two free loopback ports
// (ldap:// and ldaps://) and adds the configured entries over LDAPS as the
// root DN, so the memberof overlay sees every group change. ctx bounds the
// setup only; slapd runs until Close. The error wraps ErrNoBinaries when
// slapd is not installed.
func Start(ctx context.Context, dir string, cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	in, err := findInstall()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	p, err := newPKI("wsusfix sim directory CA")
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	if err := p.write(dir); err != nil {
		return nil, err
	}
	s := &Server{suffix: cfg.Suffix, ca: p.caPEM, rootPassword: randomHex(16), svcPassword: cfg.ServicePassword,
		users: map[string]bool{}, groups: map[string]bool{}}
	if err := s.writeConfig(dir, in); err != nil {
		return nil, err
	}
	// The ports are chosen before slapd binds them; one taken in between
	// is rare, and met by trying again.
	var lastErr error
	for range 5 {
		addrs, err := freeAddrs(2)
		if err != nil {
			return nil, err
		}
		s.ldapAddr, s.ldapsAddr = addrs[0], addrs[1]
		if lastErr = s.serve(ctx, dir, in); lastErr == nil {
			break
		}
		if !strings.Contains(lastErr.Error(), "in use") {
			return nil, lastErr
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if err := s.populate(ctx, cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// testSchema adds AD's userAccountControl, so a disabled account looks as
// it does in Active Directory. The object class's OID is a UUID-based one
// (ITU-T X.667, arc 2.25), which needs no registration.
const testSchema = `attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
	DESC 'Active Directory account flags: 0x2 is ACCOUNTDISABLE'
	EQUALITY integerMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )

objectclass ( 2.25.93902069794163448793543698163094629287 NAME 'wsusfixTestAccount'
	DESC 'an account with Active Directory flags'
	AUXILIARY MAY userAccountControl )
`

// writeConfig writes the schema and slapd.conf. Simple binds need a TLS
// layer (security simple_bind), so a client that forgot StartTLS on
// ldap:// is refused, as a domain controller requiring LDAP signing
// rejects simple binds on a connection without SSL/TLS (Microsoft, "How to
// enable LDAP signing in Windows Server",
// learn.microsoft.com/troubleshoot/windows-server/active-directory/enable-ldap-signing-in-windows-server).
// The result code is slapd's own; no claim is made that it is the one a
// domain controller sends.
func (s *Server) writeConfig(dir string, in install) error {
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
include %[2]s/wsusfix-test.schema

modulepath %[3]s
moduleload back_mdb
moduleload memberof

pidfile %[2]s/slapd.pid
argsfile %[2]s/slapd.args

TLSCACertificateFile %[2]s/ca.pem
TLSCertificateFile %[2]s/server.pem
TLSCertificateKeyFile %[2]s/server.key

security simple_bind=1

database mdb
suffix "%[4]s"
rootdn "cn=admin,%[4]s"
rootpw %[5]s
directory %[2]s/db
maxsize 67108864

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by dn.exact="cn=svc-wsusfix,ou=service,%[4]s" read
	by self read
	by * none
`, in.schema, dir, in.modules, s.suffix, s.rootPassword)
	if err := os.WriteFile(filepath.Join(dir, "wsusfix-test.schema"), []byte(testSchema), 0o600); err != nil {
		return fmt.Errorf("ldap: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		return fmt.Errorf("ldap: %w", err)
	}
	return os.MkdirAll(filepath.Join(dir, "db"), 0o700)
}

// serve starts slapd in the foreground (-d 0 keeps it from forking) and
// waits, at most 10 s, until both ports accept connections.
func (s *Server) serve(ctx context.Context, dir string, in install) error {
	urls := "ldap://" + s.ldapAddr + "/ ldaps://" + s.ldapsAddr + "/"
	cmd := exec.Command(in.slapd, "-f", filepath.Join(dir, "slapd.conf"), "-h", urls, "-d", "0")
	cmd.Dir = dir
	orphanProof(cmd)
	s.out = &daemon.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ldap: starting slapd: %w", err)
	}
	s.cmd, s.exited, s.once = cmd, make(chan struct{}), sync.Once{}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{s.ldapAddr, s.ldapsAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case <-s.exited:
				return fmt.Errorf("ldap: slapd exited at start: %s%s", daemon.LastLines(s.out.String(), 5), apparmorHint(s.out.String()))
			case <-ctx.Done():
				s.Close()
				return fmt.Errorf("ldap: waiting for slapd: %w", ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				s.Close()
				return fmt.Errorf("ldap: slapd did not listen on %s within 10s: %s", addr, daemon.LastLines(s.out.String(), 5))
			}
		}
	}
	return nil
}

// apparmorProfile is where Ubuntu's slapd package puts its AppArmor
// profile (Debian 12's ships none). The profile confines slapd to the
// files it lists, so a configuration in a temporary directory may be
// refused.
const apparmorProfile = "/etc/apparmor.d/usr.sbin.slapd"

// apparmorHint explains a refused file when an AppArmor profile for slapd
// is installed, or says nothing.
func apparmorHint(out string) string {
	if !strings.Contains(out, "Permission denied") {
		return ""
	}
	if _, err := os.Stat(apparmorProfile); err != nil {
		return ""
	}
	return " (AppArmor's " + apparmorProfile + " may confine slapd to its own files; for tests, " +
		"put it in complain mode: aa-complain /usr/sbin/slapd)"
}

// URL is the directory's LDAPS address, ldaps://127.0.0.1:port.
func (s *Server) URL() string { return "ldaps://" + s.ldapsAddr }

// StartTLSURL is the plain-port address, ldap://127.0.0.1:port, where
// binds succeed only after StartTLS.
func (s *Server) StartTLSURL() string { return "ldap://" + s.ldapAddr }

// CAPEM returns the CA certificate that signed the server's, as PEM. The
// caller owns the result.
func (s *Server) CAPEM() []byte { return bytes.Clone(s.ca) }

// Suffix is the naming context, e.g. dc=corp,dc=example.
func (s *Server) Suffix() string { return s.suffix }

// PeopleBase is where users live.
func (s *Server) PeopleBase() string { return "ou=people," + s.suffix }

// UserDN is the DN of the user called name.
func (s *Server) UserDN(name string) string { return "uid=" + name + ",ou=people," + s.suffix }

// GroupDN is the DN of the group called name.
func (s *Server) GroupDN(name string) string { return "cn=" + name + ",ou=groups," + s.suffix }

// ServiceDN is the DN of the service account that may read the tree.
func (s *Server) ServiceDN() string { return "cn=svc-wsusfix,ou=service," + s.suffix }

// ServicePassword is the service account's password.
func (s *Server) ServicePassword() string { return s.svcPassword }

// Close stops slapd and waits for it to exit (at most 5 s before it is
// killed). It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return nil
}

// freeAddrs finds n distinct free loopback TCP addresses: each listener
// stays open until all are chosen, so no two are the same.
func freeAddrs(n int) ([]string, error) {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("ldap: finding a free port: %w", err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errUnknown names a user or group the directory does not hold.
var errUnknown = errors.New("ldap: no such user or group")
