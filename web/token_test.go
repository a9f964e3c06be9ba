package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"wsusfix/store"
	"wsusfix/store/secret"
)

// TestToken_Create ensures `wsusfix token create` prints a working secret
// and nothing else on stdout, refuses a role above the user's with the
// reason, and audits what it made.
func TestToken_Create(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "t.db")
	st := openTestStore(t, db)
	if _, err := st.CreateUser(ctx, "olga", store.RoleOperator, "a long password 1"); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	err := run(ctx, []string{"token", "create", "-db", db, "-user", "olga", "-name", "nightly", "-role", "operator", "-days", "7"},
		fakeEnv(map[string]string{"USER": "root"}), &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	sec := strings.TrimSpace(out.String())
	if strings.Count(out.String(), "\n") != 1 || !strings.HasPrefix(sec, store.TokenPrefix) {
		t.Fatalf("stdout %q: want the secret alone", out.String())
	}
	u, tok, err := st.AuthenticateToken(ctx, secret.Secret(sec))
	if err != nil || u.Name != "olga" || u.Role != store.RoleOperator || tok.Name != "nightly" {
		t.Errorf("the printed token: %+v %+v, %v", u, tok, err)
	}
	err = run(ctx, []string{"token", "create", "-db", db, "-user", "olga", "-name", "root", "-role", "admin"}, fakeEnv(nil), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "at most yours") {
		t.Errorf("an admin token for an operator: %v", err)
	}
	entries, _, err := st.AuditEntries(ctx, store.AuditFilter{Action: store.ActionTokenCreate})
	if err != nil || len(entries) != 1 || entries[0].Target != "token nightly of olga" || entries[0].Actor != "cli:root" ||
		entries[0].Client != "local" {
		t.Errorf("audit %+v, %v; want the token, made by cli:root at the server", entries, err)
	}
	err = run(ctx, []string{"token", "create", "-db", db, "-user", "nobody", "-name", "x"}, fakeEnv(nil), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), `no user called "nobody"`) {
		t.Errorf("a token for no one: %v", err)
	}
}
