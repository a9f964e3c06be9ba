package handlers_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/handlers/directory"
	"wsusfix/sim/ldap"
	"wsusfix/store"
	"wsusfix/store/secret"
)

// helpdesk is the directory behind these tests: L1 looks, L2 repairs,
// server admins administer, each nested as estates nest them.
var helpdesk = ldap.Config{
	Users: []ldap.User{
		{Name: "carol", Password: "Carol-Pa55-word"},
		{Name: "alice", Password: "Alice-Pa55-word"},
		{Name: "frank", Password: "Frank-Pa55-word"},
		{Name: "erin", Password: "Erin-Pa55-word"},
		{Name: "dave", Password: "Dave-Pa55-word"},
		{Name: "bob", Password: "Bob-Pa55-word", Disabled: true},
	},
	Groups: []ldap.Group{
		{Name: "GG-Helpdesk-L1", Members: []string{"carol"}},
		{Name: "GG-Helpdesk-L2", Members: []string{"alice", "bob", "GG-Site-Techs"}},
		{Name: "GG-Site-Techs", Members: []string{"frank"}},
		{Name: "GG-Server-Admins", Members: []string{"GG-Infra"}},
		{Name: "GG-Infra", Members: []string{"erin"}},
		{Name: "GG-Printers", Members: []string{"dave"}},
	},
}

// directoryConfig configures the client for s as an OpenLDAP estate is
// configured: uid names, mail for address-style sign-in, memberOf walked.
func directoryConfig(s *ldap.Server) directory.Config {
	return directory.Config{
		URL: s.URL(), CAPEM: s.CAPEM(), CAFile: "/etc/wsusfix/corp-ca.pem", BindDN: s.ServiceDN(),
		BindPassword: secret.Secret(s.ServicePassword()), BindPasswordFile: "/etc/wsusfix/ldap-bind.pw",
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

// withDirectory serves the app with a directory client for cfg (and a
// fake runner and a host, so repairs can start).
func withDirectory(t testing.TB, cfg directory.Config) appOption {
	t.Helper()
	c, err := directory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return func(ac *appConfig) { ac.deps.Directory = c }
}

// withRecheck makes the app read a directory user's role again after d.
func withRecheck(d time.Duration) appOption {
	return func(ac *appConfig) { ac.deps.DirectoryRecheck = d }
}

// logged returns the handler's log records whose message contains msg.
func (a *app) logged(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.log.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.Contains(rec["msg"].(string), msg) {
			out = append(out, rec)
		}
	}
	return out
}

// header returns who the page header says is signed in, and as what.
func (a *app) header(t *testing.T, c *http.Client) (name, role string) {
	t.Helper()
	_, doc := get(t, c, a.srv.URL+"/")
	return doc.Find(`[data-testid="user-name"]`).Text(), doc.Find(`[data-testid="user-role"]`).Text()
}

const refusedText = "That user name and password do not match an enabled account."

// TestDirectorySignIn_Roles ensures people sign in with their domain
// password and get the role of their highest group, nested groups
// included, under a name that says the account is the directory's.
func TestDirectorySignIn_Roles(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)))
	if _, doc := get(t, newClient(false), a.srv.URL+"/login"); doc.Find(`[data-testid="login-directory"]`).Length() != 1 {
		t.Fatal("the sign-in page does not say domain accounts work")
	}
	tests := []struct{ typed, password, wantName, wantRole string }{
		{"carol", "Carol-Pa55-word", "dir:carol", "viewer"},
		{"alice", "Alice-Pa55-word", "dir:alice", "operator"},
		{"frank", "Frank-Pa55-word", "dir:frank", "operator"}, // site techs ⊂ L2
		{"erin", "Erin-Pa55-word", "dir:erin", "admin"},       // infra ⊂ server admins
		{"erin@corp.example", "Erin-Pa55-word", "dir:erin", "admin"},
	}
	for _, tt := range tests {
		c := newClient(false)
		if res, doc := a.login(t, c, tt.typed, tt.password, "/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: sign-in answered %d: %s", tt.typed, res.StatusCode, doc.Find(`[data-testid="login-problem"]`).Text())
		}
		if name, role := a.header(t, c); name != tt.wantName || role != tt.wantRole {
			t.Errorf("%s: header shows %q as %q, want %q as %q", tt.typed, name, role, tt.wantName, tt.wantRole)
		}
	}
	carol := loginFor(t, a, "carol", "Carol-Pa55-word")
	if res := do(t, carol, http.MethodGet, a.srv.URL+"/admin/users", nil, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer from the directory opened the admin page: %d", res.StatusCode)
	}
	erin := loginFor(t, a, "erin", "Erin-Pa55-word")
	if res := do(t, erin, http.MethodGet, a.srv.URL+"/admin/users", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("an admin from the directory could not open the admin page: %d", res.StatusCode)
	}
}

// loginFor signs typed in with password and fails the test unless it works.
func loginFor(t *testing.T, a *app, typed, password string) *http.Client {
	t.Helper()
	c := newClient(false)
	if res, doc := a.login(t, c, typed, password, "/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d: %s", typed, res.StatusCode, doc.Find(`[data-testid="login-problem"]`).Text())
	}
	return c
}

// TestDirectorySignIn_Refusals ensures a wrong password, an unknown or
// disabled account and an account in no mapped group all get the plain
// refusal, no session, and an audit entry saying which it was.
func TestDirectorySignIn_Refusals(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)))
	tests := []struct{ name, typed, password, wantDetail string }{
		{"wrong password", "alice", "not-her-password", "directory: refused"},
		{"unknown user", "mallory", "Mallory-Pa55", "directory: refused"},
		{"disabled in the directory", "bob", "Bob-Pa55-word", "directory: refused"},
		{"in no mapped group", "dave", "Dave-Pa55-word", "directory: in no mapped group"},
		{"a directory row's stored name", "dir:alice", "Alice-Pa55-word", "directory: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(false)
			res, doc := a.login(t, c, tt.typed, tt.password, "/")
			if res.StatusCode != http.StatusUnauthorized || doc.Find(`[data-testid="login-problem"]`).Text() != refusedText {
				t.Fatalf("sign-in answered %d %q, want 401 with the plain refusal", res.StatusCode, doc.Find(`[data-testid="login-problem"]`).Text())
			}
			if name, _ := a.header(t, c); name != "" {
				t.Fatalf("refused, yet signed in as %q", name)
			}
			entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionLoginFailed, Target: tt.typed})
			if err != nil || len(entries) == 0 || entries[0].Detail != tt.wantDetail {
				t.Fatalf("audit = %+v, %v; want detail %q", entries, err, tt.wantDetail)
			}
		})
	}
	recs := a.logged(t, "directory sign-in refused")
	if len(recs) != len(tests) {
		t.Fatalf("%d refusals logged, want %d with their reasons", len(recs), len(tests))
	}
	for _, rec := range recs {
		if rec["level"] != "INFO" {
			t.Errorf("a person's own refusal logged at %v, want INFO (no administrator needed): %v", rec["level"], rec)
		}
		if rec["user"] == "dave" && !strings.Contains(rec["error"].(string), "in no mapped group") {
			t.Errorf("dave's refusal does not say he is in no mapped group: %v", rec["error"])
		}
	}
}

// TestDirectorySignIn_AdminErrors ensures what only an administrator can
// fix (directory unreachable, certificate not trusted, service account
// refused, search base wrong, a name attribute whose values cannot be user
// names) is logged at error level with the reason,
// while the person signing in sees the same plain refusal as for a typo.
func TestDirectorySignIn_AdminErrors(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	other, err := ldap.OtherCA()
	if err != nil {
		t.Fatal(err)
	}
	// A listener that drops every connection, open for the whole test so
	// no other test's slapd can be given its port.
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
	closed := "ldaps://" + l.Addr().String()
	tests := []struct {
		name       string
		change     func(*directory.Config)
		wantReason string
	}{
		{"unreachable", func(c *directory.Config) { c.URL = closed }, "directory: unreachable"},
		{"certificate not trusted", func(c *directory.Config) { c.CAPEM = other }, "server certificate not trusted"},
		{"service bind refused", func(c *directory.Config) { c.BindPassword = "stale" }, "service account bind refused"},
		{"search base wrong", func(c *directory.Config) { c.Base = "ou=staff," + s.Suffix() }, "search base not found"},
		// entryDN holds the whole DN, commas and all: no user name.
		{"account name unusable", func(c *directory.Config) { c.NameAttr = "entryDN" }, "a user name may hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := directoryConfig(s)
			tt.change(&cfg)
			a := newApp(t, withDirectory(t, cfg))
			res, doc := a.login(t, newClient(false), "alice", "Alice-Pa55-word", "/")
			if res.StatusCode != http.StatusUnauthorized || doc.Find(`[data-testid="login-problem"]`).Text() != refusedText {
				t.Fatalf("sign-in answered %d %q, want the plain refusal", res.StatusCode, doc.Find(`[data-testid="login-problem"]`).Text())
			}
			recs := a.logged(t, "an administrator must fix")
			if len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(recs[0]["error"].(string), tt.wantReason) {
				t.Fatalf("log = %v, want one error record with %q", recs, tt.wantReason)
			}
			if strings.Contains(a.log.String(), s.ServicePassword()) || strings.Contains(a.log.String(), "Alice-Pa55-word") {
				t.Fatal("a password reached the log")
			}
		})
	}
}

// TestDirectorySignIn_LocalAccountsApart ensures a local account and a
// directory account with the same name never meet: the name alone signs
// in the local one with its own password, the directory password does not
// open it (and is never tried against the directory), and the directory
// account signs in by its address under its own dir: name.
func TestDirectorySignIn_LocalAccountsApart(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)))
	ensureUser(t, a.st, "alice", store.RoleAdmin) // the break-glass admin, password testPassword
	local := loginFor(t, a, "alice", testPassword)
	if name, role := a.header(t, local); name != "alice" || role != "admin" {
		t.Fatalf("local sign-in shows %q as %q", name, role)
	}
	if res, _ := a.login(t, newClient(false), "alice", "Alice-Pa55-word", "/"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the directory password opened the local account: %d", res.StatusCode)
	}
	if n := len(a.logged(t, "directory sign-in refused")); n != 0 {
		t.Fatalf("a local name was sent to the directory (%d log records)", n)
	}
	dir := loginFor(t, a, "alice@corp.example", "Alice-Pa55-word")
	if name, role := a.header(t, dir); name != "dir:alice" || role != "operator" {
		t.Fatalf("directory sign-in shows %q as %q", name, role)
	}
	for _, actor := range []string{"alice", "dir:alice"} {
		entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Actor: actor, Action: store.ActionLoginOK})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit sign-ins by %q = %d entries, %v; want exactly one", actor, len(entries), err)
		}
	}
}

// TestDirectorySignIn_Throttled ensures directory sign-ins are throttled
// like local ones, so wsusfix stops guessing long before a domain would
// lock the account: after five failures, in whichever form the name was
// typed, even the right password waits.
func TestDirectorySignIn_Throttled(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)))
	// Three guesses by name and two by address: one account in the
	// directory's lockout count, so one count here too.
	for _, typed := range []string{"alice", "ALICE", "alice@corp.example", "alice", "CORP\\alice"} {
		a.login(t, newClient(false), typed, "guess", "/")
	}
	res, _ := a.login(t, newClient(false), "alice", "Alice-Pa55-word", "/")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d, want 429", res.StatusCode)
	}
}

// TestDirectorySettings_Shown ensures admins see how directory sign-in is
// configured on the settings page, and never the service password; and
// that the users page shows a directory user's role as the directory's,
// with no way to set it or a password by hand.
func TestDirectorySettings_Shown(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	cfg := directoryConfig(s)
	a := newApp(t, withDirectory(t, cfg), signedInAs("root", store.RoleAdmin))
	res, doc := get(t, a.client, a.srv.URL+"/admin/settings")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("settings: %d", res.StatusCode)
	}
	if got := doc.Find(`[data-testid="directory-url"] code`).Text(); got != s.URL() {
		t.Errorf("directory URL shown %q, want %q", got, s.URL())
	}
	if got := doc.Find(`[data-testid="directory-bind"]`).Text(); !strings.Contains(got, s.ServiceDN()) || !strings.Contains(got, "/etc/wsusfix/ldap-bind.pw") {
		t.Errorf("service account shown as %q", got)
	}
	if n := doc.Find(`[data-testid="directory-group"]`).Length(); n != 3 {
		t.Errorf("%d group mappings shown, want 3", n)
	}
	if html, _ := doc.Html(); strings.Contains(html, s.ServicePassword()) {
		t.Fatal("the service password is on the settings page")
	}
	loginFor(t, a, "carol", "Carol-Pa55-word")
	_, doc = get(t, a.client, a.srv.URL+"/admin/users")
	row := doc.Find(`[data-testid="user-row"][data-user="dir:carol"]`)
	if row.Find(`[data-testid="user-role-directory"]`).Text() != "viewer" || row.Find(`[data-testid="user-role-select"]`).Length() != 0 ||
		row.Find(`[data-testid="user-reset"]`).Length() != 0 {
		t.Fatalf("the users page offers to change dir:carol's role or password: %s", row.Text())
	}
	res, doc = postForm(t, a.client, a.srv.URL+"/admin/users/dir:carol/role", url.Values{"role": {"admin"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="form-problem"]`).Text(), "The directory decides") {
		t.Fatalf("setting a directory user's role: %d %q", res.StatusCode, doc.Find(`[data-testid="form-problem"]`).Text())
	}
}

// TestDirectorySettings_Off ensures the page says when there is no
// directory, and that local sign-in is all there is then.
func TestDirectorySettings_Off(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("root", store.RoleAdmin), withDeps(handlers.Deps{}))
	_, doc := get(t, a.client, a.srv.URL+"/admin/settings")
	if doc.Find(`[data-testid="directory-off"]`).Length() != 1 {
		t.Fatal("the settings page does not say directory sign-in is off")
	}
}
