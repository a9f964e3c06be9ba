package ldap_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"wsusfix/sim/ldap"
)

func tlsConfig(t *testing.T, caPEM []byte) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA PEM holds no certificate")
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// memberOf reads dn's memberOf values as the service account sees them.
func memberOf(t *testing.T, c *goldap.Conn, dn string) []string {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 5, false,
		"(objectClass=*)", []string{"memberOf"}, nil))
	if err != nil {
		t.Fatalf("reading %s: %v", dn, err)
	}
	got := res.Entries[0].GetAttributeValues("memberOf")
	slices.Sort(got)
	return got
}

// TestStart ensures the started directory verifies with its CA, lets the
// service account read users' and groups' memberOf (nested groups
// included, kept up to date when a member is removed), accepts users'
// passwords, and shows a disabled user's userAccountControl with bit 2.
func TestStart(t *testing.T) {
	s := ldap.StartTest(t, ldap.Config{
		Users: []ldap.User{{Name: "alice", Password: "Alice-Pa55"}, {Name: "bob", Password: "Bob-Pa55", Disabled: true},
			{Name: "carol", Password: "Carol-Pa55"}},
		Groups: []ldap.Group{
			{Name: "GG-Server-Admins", Members: []string{"GG-Helpdesk-L2"}},
			{Name: "GG-Helpdesk-L2", Members: []string{"alice", "carol"}},
		},
	})
	c, err := goldap.DialURL(s.URL(), goldap.DialWithTLSConfig(tlsConfig(t, s.CAPEM())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(s.ServiceDN(), s.ServicePassword()); err != nil {
		t.Fatalf("service bind: %v", err)
	}
	if got, want := memberOf(t, c, s.UserDN("alice")), []string{s.GroupDN("GG-Helpdesk-L2")}; !slices.Equal(got, want) {
		t.Fatalf("alice's memberOf = %v, want %v", got, want)
	}
	if got, want := memberOf(t, c, s.GroupDN("GG-Helpdesk-L2")), []string{s.GroupDN("GG-Server-Admins")}; !slices.Equal(got, want) {
		t.Fatalf("the L2 group's memberOf = %v, want %v (the nested group)", got, want)
	}
	res, err := c.Search(goldap.NewSearchRequest(s.UserDN("bob"), goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 5, false,
		"(userAccountControl=514)", []string{"userAccountControl"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("bob should carry userAccountControl 514: %v %v", res, err)
	}

	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if got := memberOf(t, c, s.UserDN("alice")); len(got) != 0 {
		t.Fatalf("after removal alice's memberOf = %v, want none", got)
	}
	if err := c.Bind(s.UserDN("alice"), "Alice-Pa55"); err != nil {
		t.Fatalf("alice's bind: %v", err)
	}
	if err := c.Bind(s.UserDN("alice"), "wrong"); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Fatalf("a wrong password: %v, want invalid credentials", err)
	}
}

// TestStart_StartTLSRequired ensures the plain port refuses a simple bind
// until StartTLS, like a domain controller that requires signing or TLS,
// so a client that skipped StartTLS cannot pass the tests.
func TestStart_StartTLSRequired(t *testing.T) {
	s := ldap.StartTest(t, ldap.Config{})
	c, err := goldap.DialURL(s.StartTLSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(s.ServiceDN(), s.ServicePassword()); !goldap.IsErrorWithCode(err, goldap.LDAPResultConfidentialityRequired) {
		t.Fatalf("bind without TLS: %v, want confidentiality required", err)
	}
	if err := c.StartTLS(tlsConfig(t, s.CAPEM())); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(s.ServiceDN(), s.ServicePassword()); err != nil {
		t.Fatalf("bind after StartTLS: %v", err)
	}
}

// TestStart_RefusesUnsafeNames ensures no name that would need escaping in
// a DN reaches the directory.
func TestStart_RefusesUnsafeNames(t *testing.T) {
	for _, cfg := range []ldap.Config{
		{Users: []ldap.User{{Name: "a,b", Password: "x"}}},
		{Groups: []ldap.Group{{Name: "g=1", Members: []string{"x"}}}},
		{Suffix: "o=Corp"},
		{Groups: []ldap.Group{{Name: "empty"}}},
	} {
		if _, err := ldap.Start(t.Context(), t.TempDir(), cfg); err == nil || errors.Is(err, ldap.ErrNoBinaries) {
			t.Errorf("Start(%+v) = %v, want a refusal", cfg, err)
		}
	}
}
