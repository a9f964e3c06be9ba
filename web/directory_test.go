package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsusfix/sim/ldap"
)

// directoryArgs are serve's flags for the test directory s, its password
// and CA in files under dir, as an administrator would set them.
func directoryArgs(t *testing.T, s *ldap.Server, dir string) []string {
	t.Helper()
	pw, ca := filepath.Join(dir, "ldap-bind.pw"), filepath.Join(dir, "corp-ca.pem")
	if err := os.WriteFile(pw, []byte(s.ServicePassword()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, s.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-ldap-url", s.StartTLSURL(), "-ldap-ca", ca, "-ldap-bind-dn", s.ServiceDN(),
		"-ldap-bind-password-file", pw, "-ldap-base", s.PeopleBase(),
		"-ldap-user-filter", "(&(objectClass=inetOrgPerson)(uid={user}))", "-ldap-upn-filter", "none",
		"-ldap-name-attr", "uid", "-ldap-nested", "recursive",
		"-ldap-groups", "viewer:" + s.GroupDN("GG-Helpdesk-L1") + "; operator:" + s.GroupDN("GG-Helpdesk-L2")}
}

// TestServe_DirectorySignIn ensures serve's -ldap-… flags sign people in
// against the directory (here over StartTLS), beside the first local
// admin, and that the service password reaches neither the output nor
// the settings page.
func TestServe_DirectorySignIn(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, ldap.Config{
		Users: []ldap.User{{Name: "alice", Password: "Alice-Pa55-word"}, {Name: "carol", Password: "Carol-Pa55-word"}},
		Groups: []ldap.Group{
			{Name: "GG-Helpdesk-L1", Members: []string{"carol", "GG-Helpdesk-L2"}},
			{Name: "GG-Helpdesk-L2", Members: []string{"alice"}},
		},
	})
	dir := t.TempDir()
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "dir.db")}, directoryArgs(t, s, dir)...)
	base, out, stop := startProgramEnv(t, nil, args...)
	alice := signIn(t, base, "alice", "Alice-Pa55-word")
	_, doc := getDocAs(t, alice, base+"/")
	if name, role := doc.Find(`[data-testid="user-name"]`).Text(), doc.Find(`[data-testid="user-role"]`).Text(); name != "dir:alice" || role != "operator" {
		t.Fatalf("alice from the directory is shown as %q with role %q", name, role)
	}
	m := firstAdminRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no first admin password printed:\n%s", out)
	}
	admin := signIn(t, base, "admin", m[1])
	status, doc := getDocAs(t, admin, base+"/admin/settings")
	if status != http.StatusOK || doc.Find(`[data-testid="directory-url"] code`).Text() != s.StartTLSURL() ||
		doc.Find(`[data-testid="directory-group"]`).Length() != 2 {
		t.Fatalf("settings page: %d, directory %q, %d groups", status, doc.Find(`[data-testid="directory-url"]`).Text(),
			doc.Find(`[data-testid="directory-group"]`).Length())
	}
	if html, _ := doc.Html(); strings.Contains(html, s.ServicePassword()) {
		t.Fatal("the service password is on the settings page")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), s.ServicePassword()) {
		t.Fatal("the service password was printed")
	}
}

// TestServe_DirectoryFlagsChecked ensures a directory setting that cannot
// work stops serve at start with a message naming the flag, rather than
// failing everyone's first sign-in.
func TestServe_DirectoryFlagsChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := []string{"-ldap-url", "ldaps://dc01.corp.example.com", "-ldap-bind-dn", "svc@corp.example.com",
		"-ldap-bind-password-file", pw, "-ldap-base", "DC=corp,DC=example,DC=com",
		"-ldap-groups", "viewer:CN=GG-Helpdesk-L1,OU=Groups,DC=corp,DC=example,DC=com"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		say  string
	}{
		{"plain LDAP", []string{"-ldap-url", "http://dc01.corp.example.com"}, nil, "plain LDAP is refused"},
		{"no password file", []string{"-ldap-bind-password-file", filepath.Join(dir, "missing")}, nil, "-ldap-bind-password-file"},
		{"group without role", []string{"-ldap-groups", "CN=GG-Helpdesk-L1,DC=corp"}, nil, "-ldap-groups"},
		{"unknown strategy", []string{"-ldap-nested", "deep"}, nil, "in-chain, token-groups or recursive"},
		{"bad timeout variable", nil, map[string]string{"WSUSFIX_LDAP_TIMEOUT": "soon"}, "WSUSFIX_LDAP_TIMEOUT"},
		{"no re-check", []string{"-ldap-recheck", "0s"}, nil, "-ldap-recheck"},
		{"settings without a URL", []string{"-ldap-url", ""}, nil, "-ldap-url is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "x.db")}, good...)
			args = append(args, tt.args...)
			var out syncBuffer
			err := run(t.Context(), args, fakeEnv(tt.env), io.Discard, &out)
			if err == nil || !strings.Contains(err.Error(), tt.say) {
				t.Fatalf("serve = %v, want an error saying %q", err, tt.say)
			}
			if strings.Contains(err.Error()+out.String(), "secret-value") {
				t.Fatal("the service password appears in the error or the log")
			}
		})
	}
}
