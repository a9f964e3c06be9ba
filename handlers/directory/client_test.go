package directory_test

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"wsusfix/handlers/directory"
	"wsusfix/sim/ldap"
	"wsusfix/store"
	"wsusfix/store/secret"
)

// estate is the directory the tests sign in against: helpdesk groups
// nested as a real estate nests them, a disabled member, a user in no
// mapped group.
var estate = ldap.Config{
	Users: []ldap.User{
		{Name: "carol", Password: "Carol-Pa55-word"}, // L1: looks
		{Name: "alice", Password: "Alice-Pa55-word"}, // L2: repairs
		{Name: "frank", Password: "Frank-Pa55-word"}, // site techs ⊂ L2: repairs, two levels down
		{Name: "erin", Password: "Erin-Pa55-word"},   // infra ⊂ server admins: administers
		{Name: "dave", Password: "Dave-Pa55-word"},   // only in an unmapped group
		{Name: "bob", Password: "Bob-Pa55-word", Disabled: true},
	},
	Groups: []ldap.Group{
		{Name: "GG-Helpdesk-L1", Members: []string{"carol", "GG-Helpdesk-L2"}},
		{Name: "GG-Helpdesk-L2", Members: []string{"alice", "bob", "GG-Site-Techs"}},
		{Name: "GG-Site-Techs", Members: []string{"frank"}},
		{Name: "GG-Server-Admins", Members: []string{"GG-Infra"}},
		{Name: "GG-Infra", Members: []string{"erin"}},
		{Name: "GG-Printers", Members: []string{"dave"}},
	},
}

// config is a client configuration for s as an OpenLDAP estate would set
// it: uid names, mail as the address-style name, memberOf walked.
func config(s *ldap.Server) directory.Config {
	return directory.Config{
		URL: s.URL(), CAPEM: s.CAPEM(), BindDN: s.ServiceDN(), BindPassword: secret.Secret(s.ServicePassword()),
		Base: s.PeopleBase(), UserFilter: "(&(objectClass=inetOrgPerson)(uid={user}))",
		UPNFilter: "(&(objectClass=inetOrgPerson)(mail={user}))", NameAttr: "uid", Nested: directory.Recursive,
		Groups: []directory.Mapping{
			{Group: s.GroupDN("GG-Helpdesk-L1"), Role: store.RoleViewer},
			{Group: s.GroupDN("GG-Helpdesk-L2"), Role: store.RoleOperator},
			{Group: s.GroupDN("GG-Server-Admins"), Role: store.RoleAdmin},
		},
		Timeout: 5 * time.Second,
	}
}

func newClient(t *testing.T, cfg directory.Config) *directory.Client {
	t.Helper()
	c, err := directory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignIn_Roles ensures each person gets the highest role of the
// mapped groups they are in at any depth, under the account name the
// directory holds, whether they typed it or their address.
func TestSignIn_Roles(t *testing.T) {
	s := ldap.StartTest(t, estate)
	c := newClient(t, config(s))
	tests := []struct {
		typed, password string
		wantName        string
		wantRole        store.Role
	}{
		{"carol", "Carol-Pa55-word", "carol", store.RoleViewer},
		{"alice", "Alice-Pa55-word", "alice", store.RoleOperator},        // L2, and L1 through L2: the higher wins
		{"frank", "Frank-Pa55-word", "frank", store.RoleOperator},        // two levels of nesting
		{"erin", "Erin-Pa55-word", "erin", store.RoleAdmin},              // through GG-Infra
		{"ALICE", "Alice-Pa55-word", "alice", store.RoleOperator},        // the directory's spelling is kept
		{"erin@corp.example", "Erin-Pa55-word", "erin", store.RoleAdmin}, // address-style (UPN) sign-in
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			a, err := c.SignIn(t.Context(), tt.typed, secret.Secret(tt.password))
			if err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			if a.Name != tt.wantName || a.Role != tt.wantRole {
				t.Fatalf("signed in as %q with role %q, want %q as %q (groups %v)", a.Name, a.Role, tt.wantName, tt.wantRole, a.Groups)
			}
		})
	}
}

// TestSignIn_Refusals ensures the person is refused for their own
// mistakes and for missing membership, and that an administrator can
// tell the cases apart from the error alone.
func TestSignIn_Refusals(t *testing.T) {
	s := ldap.StartTest(t, estate)
	c := newClient(t, config(s))
	tests := []struct {
		name, typed, password string
		want                  error
	}{
		{"wrong password", "alice", "not-her-password", directory.ErrRefused},
		{"unknown user", "mallory", "Mallory-Pa55", directory.ErrRefused},
		{"disabled account with the right password", "bob", "Bob-Pa55-word", directory.ErrRefused},
		{"empty password", "alice", "", directory.ErrRefused},
		{"in no mapped group", "dave", "Dave-Pa55-word", directory.ErrNoRole},
		{"filter wildcard is a literal", "*", "Alice-Pa55-word", directory.ErrRefused},
		{"filter injection is a literal", "alice)(uid=*", "Alice-Pa55-word", directory.ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := c.SignIn(t.Context(), tt.typed, secret.Secret(tt.password))
			if !errors.Is(err, tt.want) {
				t.Fatalf("SignIn(%q) = %+v, %v; want %v", tt.typed, a, err, tt.want)
			}
			if directory.IsAdminError(err) {
				t.Fatalf("%v counts as an administrator's problem; it is the user's", err)
			}
		})
	}
}

// TestSignIn_EmptyPasswordNeverReachesTheDirectory ensures an empty
// password is refused before any connection: pointed at a closed port,
// the answer is still "refused", not "unreachable".
func TestSignIn_EmptyPasswordNeverReachesTheDirectory(t *testing.T) {
	s := ldap.StartTest(t, estate)
	cfg := config(s)
	cfg.URL = "ldaps://" + closedAddr(t)
	_, err := newClient(t, cfg).SignIn(t.Context(), "alice", "")
	if !errors.Is(err, directory.ErrRefused) {
		t.Fatalf("empty password: %v, want a refusal before connecting", err)
	}
}

// TestSignIn_AdminErrors ensures what an administrator must fix is named
// by its own error: the directory unreachable, its certificate not
// trusted (LDAPS and StartTLS), the service account refused, the search
// base wrong.
func TestSignIn_AdminErrors(t *testing.T) {
	s := ldap.StartTest(t, estate)
	other, err := ldap.OtherCA()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*directory.Config)
		want   error
	}{
		{"unreachable", func(c *directory.Config) { c.URL = "ldaps://" + closedAddr(t) }, directory.ErrUnreachable},
		{"untrusted certificate over LDAPS", func(c *directory.Config) { c.CAPEM = other }, directory.ErrUntrusted},
		{"untrusted certificate over StartTLS", func(c *directory.Config) { c.URL, c.CAPEM = s.StartTLSURL(), other }, directory.ErrUntrusted},
		{"service password wrong", func(c *directory.Config) { c.BindPassword = "wrong" }, directory.ErrServiceBind},
		{"search base wrong", func(c *directory.Config) { c.Base = "ou=nowhere," + s.Suffix() }, directory.ErrBase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s)
			tt.change(&cfg)
			start := time.Now()
			_, err := newClient(t, cfg).SignIn(t.Context(), "alice", "Alice-Pa55-word")
			if !errors.Is(err, tt.want) || !directory.IsAdminError(err) {
				t.Fatalf("SignIn = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > cfg.Timeout+time.Second {
				t.Fatalf("the failure took %v, more than the %v timeout", d, cfg.Timeout)
			}
		})
	}
}

// TestSignIn_StartTLS ensures ldap:// works by StartTLS: this slapd
// refuses simple binds without TLS, so a client that skipped it fails.
func TestSignIn_StartTLS(t *testing.T) {
	s := ldap.StartTest(t, estate)
	cfg := config(s)
	cfg.URL = s.StartTLSURL()
	a, err := newClient(t, cfg).SignIn(t.Context(), "alice", "Alice-Pa55-word")
	if err != nil || a.Role != store.RoleOperator {
		t.Fatalf("SignIn over StartTLS = %+v, %v", a, err)
	}
}

// TestSignIn_DepthCap ensures the recursive walk stops at MaxDepth: frank
// is an operator only two levels up, so with a cap of one he has no role.
func TestSignIn_DepthCap(t *testing.T) {
	s := ldap.StartTest(t, estate)
	cfg := config(s)
	cfg.MaxDepth = 1
	if _, err := newClient(t, cfg).SignIn(t.Context(), "frank", "Frank-Pa55-word"); !errors.Is(err, directory.ErrNoRole) {
		t.Fatalf("frank with depth 1: %v, want no role", err)
	}
	if a, err := newClient(t, cfg).SignIn(t.Context(), "alice", "Alice-Pa55-word"); err != nil || a.Role != store.RoleOperator {
		t.Fatalf("alice, a direct member, with depth 1: %+v, %v", a, err)
	}
}

// TestSignIn_GroupCycle ensures groups that contain each other do not
// stall sign-in: the walk reads each group once.
func TestSignIn_GroupCycle(t *testing.T) {
	s := ldap.StartTest(t, estate)
	if err := s.AddMember(t.Context(), "GG-Site-Techs", "GG-Helpdesk-L2"); err != nil {
		t.Fatal(err)
	}
	a, err := newClient(t, config(s)).SignIn(t.Context(), "frank", "Frank-Pa55-word")
	if err != nil || a.Role != store.RoleOperator {
		t.Fatalf("SignIn through a cycle = %+v, %v", a, err)
	}
}

// TestLookup_FollowsTheDirectory ensures a re-check without the password
// sees today's directory: a user taken out of their group, or disabled,
// no longer gets a role.
func TestLookup_FollowsTheDirectory(t *testing.T) {
	s := ldap.StartTest(t, estate)
	c := newClient(t, config(s))
	if a, err := c.Lookup(t.Context(), "alice"); err != nil || a.Role != store.RoleOperator {
		t.Fatalf("Lookup before = %+v, %v", a, err)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(t.Context(), "alice"); !errors.Is(err, directory.ErrNoRole) {
		t.Fatalf("Lookup after removal = %v, want no role", err)
	}
	if err := s.SetDisabled(t.Context(), "carol", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(t.Context(), "carol"); !errors.Is(err, directory.ErrRefused) {
		t.Fatalf("Lookup of a disabled user = %v, want refused", err)
	}
}

// closedAddr is a loopback address where no directory answers: a
// listener that drops every connection at once. It stays open until the
// test ends, so no other test's slapd can be given its port meanwhile.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// TestSignIn_HungDirectory ensures a directory that accepts connections
// but never answers cannot hold a sign-in: it fails as unreachable within
// the configured timeout, over LDAPS and over StartTLS.
func TestSignIn_HungDirectory(t *testing.T) {
	s := ldap.StartTest(t, estate)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // kept open, never read or written
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	for _, scheme := range []string{"ldaps://", "ldap://"} {
		cfg := config(s)
		cfg.URL, cfg.Timeout = scheme+l.Addr().String(), 300*time.Millisecond
		start := time.Now()
		_, err := newClient(t, cfg).SignIn(t.Context(), "alice", "Alice-Pa55-word")
		if !errors.Is(err, directory.ErrUnreachable) {
			t.Fatalf("%s: %v, want unreachable", scheme, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s: gave up after %v with a 300ms timeout", scheme, d)
		}
	}
}
