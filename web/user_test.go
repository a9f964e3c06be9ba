package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"wsusfix/store"
	"wsusfix/store/secret"
)

var printedPasswordRE = regexp.MustCompile(`Password: (\S+)`)

// TestUserCommands ensures `wsusfix user` adds, lists, re-roles, disables,
// enables and resets accounts, prints generated passwords once, takes a
// chosen password only from a file, audits each change as the command
// line's user, and protects the last admin.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "users.db")
	environ := fakeEnv(map[string]string{"WSUSFIX_DB": db, "USER": "root"})
	cmd := func(args ...string) (string, error) {
		var out syncBuffer
		err := run(t.Context(), append([]string{"user"}, args...), environ, &out, &out)
		return out.String(), err
	}

	out, err := cmd("add", "-role", "admin", "alice")
	if err != nil {
		t.Fatalf("add alice: %v\n%s", err, out)
	}
	m := printedPasswordRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password printed:\n%s", out)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("bob's chosen password\n"), 0o600)
	if out, err := cmd("add", "bob", "-role", "operator", "-password-file", pwFile); err != nil || strings.Contains(out, "Password:") {
		t.Fatalf("add bob (flags after the name): %v\n%s", err, out)
	}
	out, err = cmd("list")
	if err != nil || !regexp.MustCompile(`alice\s+admin\s+enabled`).MatchString(out) ||
		!regexp.MustCompile(`bob\s+operator\s+enabled`).MatchString(out) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"set-role", "bob", "viewer"}, {"disable", "bob"}, {"enable", "bob"}, {"reset-password", "bob"},
	} {
		if out, err := cmd(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "alice"}, "already exists"},
		{[]string{"add", "-role", "root", "carl"}, "role"},
		{[]string{"set-role", "nobody", "admin"}, "no user called"},
		{[]string{"set-role", "alice", "viewer"}, "at least one enabled admin"},
		{[]string{"disable", "alice"}, "at least one enabled admin"},
		{[]string{"add", "-password", "x", "carl"}, "flag provided but not defined: -password"},
		{[]string{"add", "-password-file", filepath.Join(t.TempDir(), "none"), "carl"}, "-password-file"},
		{[]string{"disable"}, "want 1 argument"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		if _, err := cmd(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error about %q", tt.args, err, tt.want)
		}
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.Authenticate(t.Context(), "alice", secret.Secret(m[1])); err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("alice with the printed password: %+v, %v", u, err)
	}
	if _, err := st.Authenticate(t.Context(), "bob", "bob's chosen password"); !errors.Is(err, store.ErrBadCredentials) {
		t.Fatalf("bob's old password still works after reset-password: %v", err)
	}
	entries, _, err := st.AuditEntries(t.Context(), store.AuditFilter{Action: "user."})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 || entries[0].Actor != "cli:root" || entries[0].Client != "local" {
		t.Fatalf("audit: %d entries, newest %+v", len(entries), entries[0])
	}
}
