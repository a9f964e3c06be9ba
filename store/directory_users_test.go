package store

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStore_DirectorySignIn ensures a directory user gets their own row
// on first sign-in, takes the directory's role at every later one, and
// never shares a row, a password or a name with a local user of the same
// account name.
func TestStore_DirectorySignIn(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	local, err := s.CreateUser(ctx, "alice", RoleAdmin, "local break-glass password")
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.DirectorySignIn(ctx, "alice", "uid=alice,ou=people,dc=corp", RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == local.ID || d.Name != "dir:alice" || d.Account() != "alice" || d.Source != SourceDirectory ||
		d.Role != RoleViewer || d.DirectoryDN != "uid=alice,ou=people,dc=corp" {
		t.Fatalf("directory user = %+v (local is %d)", d, local.ID)
	}
	again, err := s.DirectorySignIn(ctx, "ALICE", "uid=alice,ou=people,dc=corp", RoleOperator)
	if err != nil || again.ID != d.ID || again.Role != RoleOperator {
		t.Fatalf("second sign-in = %+v, %v; want the same row, now operator", again, err)
	}
	if l, err := s.UserByName(ctx, "alice"); err != nil || l.ID != local.ID || l.Role != RoleAdmin || l.Source != SourceLocal {
		t.Fatalf("the local alice after directory sign-ins = %+v, %v", l, err)
	}
	if _, err := s.Authenticate(ctx, "dir:alice", "local break-glass password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a password sign-in as the directory row: %v, want ErrBadCredentials", err)
	}
	if ok, err := s.HasLocalUser(ctx, "ALICE"); err != nil || !ok {
		t.Fatalf("HasLocalUser(ALICE) = %v, %v", ok, err)
	}
	if ok, err := s.HasLocalUser(ctx, "dir:alice"); err != nil || ok {
		t.Fatalf("HasLocalUser(dir:alice) = %v, %v; a directory row is not local", ok, err)
	}
}

// TestStore_DirectoryUsersAreManagedThere ensures an admin cannot give a
// directory user a role or a password here (the directory would undo the
// one, and the other would be a second way in), but may still disable one.
func TestStore_DirectoryUsersAreManagedThere(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "admin", RoleAdmin, "local break-glass password"); err != nil {
		t.Fatal(err)
	}
	d, err := s.DirectorySignIn(ctx, "bob", "uid=bob,dc=corp", RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, d.Name, RoleAdmin); !errors.Is(err, ErrDirectoryManaged) {
		t.Fatalf("SetRole on a directory user: %v", err)
	}
	if _, err := s.SetPassword(ctx, d.Name, "a password that must not exist"); !errors.Is(err, ErrDirectoryManaged) {
		t.Fatalf("SetPassword on a directory user: %v", err)
	}
	off, err := s.SetDisabled(ctx, d.Name, true)
	if err != nil || !off.Disabled || off.SessionEpoch == d.SessionEpoch {
		t.Fatalf("SetDisabled = %+v, %v; want disabled with sessions ended", off, err)
	}
	still, err := s.DirectorySignIn(ctx, "bob", "uid=bob,dc=corp", RoleOperator)
	if err != nil || !still.Disabled {
		t.Fatalf("a sign-in after an admin disabled him = %+v, %v; he must stay disabled", still, err)
	}
}

// TestStore_EndDirectoryAccess ensures ending a directory user's access
// voids their sessions (the epoch moves on) and touches no local user.
func TestStore_EndDirectoryAccess(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	d, err := s.DirectorySignIn(ctx, "carol", "uid=carol,dc=corp", RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndDirectoryAccess(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.UserByID(ctx, d.ID); after.SessionEpoch != d.SessionEpoch+1 {
		t.Fatalf("epoch %d → %d, want one more", d.SessionEpoch, after.SessionEpoch)
	}
	l, err := s.CreateUser(ctx, "carol", RoleViewer, "local break-glass password")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndDirectoryAccess(ctx, l.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EndDirectoryAccess on a local user: %v, want ErrNotFound", err)
	}
}

// TestStore_DirectoryNamesEnforced ensures the database itself refuses a
// row whose name and source disagree, so no code path can store a local
// "dir:alice" or a directory user without the prefix.
func TestStore_DirectoryNamesEnforced(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	for _, row := range []struct{ name, source string }{{"dir:alice", "local"}, {"alice", "directory"}, {"a:b", "local"}} {
		_, err := s.write.ExecContext(t.Context(), `INSERT INTO users (name, role, password_hash, created_at, updated_at,
			password_changed_at, source) VALUES (?, 'viewer', '!', 0, 0, 0, ?)`, row.name, row.source)
		if err == nil {
			t.Errorf("stored %s user %q", row.source, row.name)
		}
	}
	if _, err := s.DirectorySignIn(t.Context(), "dir:x", "uid=x", RoleViewer); err == nil {
		t.Error("an account name with a colon was accepted")
	}
}

// TestStore_DirectoryMigrationKeepsLocalUsers ensures a database made
// before directory sign-in keeps its users, as local accounts whose
// passwords still work, after the directory migration runs.
func TestStore_DirectoryMigrationKeepsLocalUsers(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	at := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_directory.sql") })
	if at < 0 {
		t.Fatal("no directory migration")
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:at] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	hash, err := hashPassword("an old local password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", at)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO users (name, role, password_hash, created_at, updated_at, password_changed_at)
		VALUES ('alice', 'admin', ?, 0, 0, 0)`, hash); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.Authenticate(t.Context(), "alice", "an old local password")
	if err != nil || u.Source != SourceLocal || u.Role != RoleAdmin {
		t.Fatalf("the old local alice after the migration = %+v, %v", u, err)
	}
}
