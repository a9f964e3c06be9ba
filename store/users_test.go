package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"wsusfix/store/secret"
)

// TestStore_CreateUser ensures users are created with a hashed password,
// names are unique in any case, and bad names or roles are refused.
func TestStore_CreateUser(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	t.Run("ok", func(t *testing.T) {
		u, err := s.CreateUser(ctx, "alice", RoleOperator, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Name != "alice" || u.Role != RoleOperator || u.Disabled || !u.CreatedAt.Equal(fixedNow) {
			t.Fatalf("created %+v", u)
		}
		var hash string
		if err := s.read.QueryRow(`SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, "horse") {
			t.Fatalf("stored hash %q", hash)
		}
	})
	t.Run("duplicate name", func(t *testing.T) {
		if _, err := s.CreateUser(ctx, "ALICE", RoleViewer, "another long password"); !errors.Is(err, ErrConflict) {
			t.Fatalf("got %v, want ErrConflict", err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			role Role
		}{{"", RoleViewer}, {"a b", RoleViewer}, {"x;drop", RoleViewer}, {"bob", "root"}} {
			if _, err := s.CreateUser(ctx, tt.name, tt.role, "long enough password"); err == nil {
				t.Errorf("CreateUser(%q, %q) accepted", tt.name, tt.role)
			}
		}
	})
}

// TestStore_Authenticate ensures the right password signs in, and that an
// unknown user, a wrong password and a disabled account all give the same
// error after about the same time.
func TestStore_Authenticate(t *testing.T) {
	// Not parallel: the other tests' password hashing would share the hash
	// slots and blur the timing this compares.
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "admin", RoleAdmin, "admin password 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "carol", RoleViewer, "carol password 1"); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Authenticate(ctx, "CAROL", "carol password 1"); err != nil || u.Name != "carol" {
		t.Fatalf("right password: %+v, %v", u, err)
	}
	// The fastest of three tries, so a busy machine does not fake a difference.
	timeOf := func(name string, pw secret.Secret) time.Duration {
		var best time.Duration
		for i := range 3 {
			start := time.Now()
			if _, err := s.Authenticate(ctx, name, pw); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("Authenticate(%q): %v, want ErrBadCredentials", name, err)
			}
			if d := time.Since(start); i == 0 || d < best {
				best = d
			}
		}
		return best
	}
	wrong := timeOf("carol", "not her password")
	unknown := timeOf("nobody", "not her password")
	if unknown < wrong/3 || unknown > wrong*3 {
		t.Errorf("unknown user took %v, wrong password %v: timing tells them apart", unknown, wrong)
	}
	if _, err := s.SetDisabled(ctx, "carol", true); err != nil {
		t.Fatal(err)
	}
	timeOf("carol", "carol password 1")
}

// TestStore_UserChanges ensures role changes, disabling and password resets
// work, that the latter two end sessions (epoch), and that the last enabled
// admin can be neither demoted nor disabled.
func TestStore_UserChanges(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	admin, err := s.CreateUser(ctx, "admin", RoleAdmin, "admin password 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "dave", RoleViewer, "dave password 11"); err != nil {
		t.Fatal(err)
	}

	if u, err := s.SetRole(ctx, "dave", RoleOperator); err != nil || u.Role != RoleOperator {
		t.Fatalf("set role: %+v, %v", u, err)
	}
	if _, err := s.SetRole(ctx, "admin", RoleViewer); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.SetDisabled(ctx, "admin", true); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if _, err := s.SetRole(ctx, "nobody", RoleViewer); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	u, err := s.SetDisabled(ctx, "dave", true)
	if err != nil || !u.Disabled || u.SessionEpoch != 2 {
		t.Fatalf("disable: %+v, %v", u, err)
	}
	u, _ = s.SetDisabled(ctx, "dave", false)
	if u.Disabled || u.SessionEpoch != 2 {
		t.Fatalf("enable: %+v", u)
	}
	u, err = s.SetPassword(ctx, "admin", "new admin password")
	if err != nil || u.SessionEpoch != admin.SessionEpoch+1 {
		t.Fatalf("set password: %+v, %v", u, err)
	}
	if _, err := s.Authenticate(ctx, "admin", "admin password 1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("old password still works")
	}
	if _, err := s.Authenticate(ctx, "admin", "new admin password"); err != nil {
		t.Fatal(err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "admin" {
		t.Fatalf("users %+v, %v", users, err)
	}
}

// TestSecret_Redacted ensures a secret.Secret prints and logs as [redacted].
func TestSecret_Redacted(t *testing.T) {
	t.Parallel()
	pw := secret.Secret("hunter2-hunter2")
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "password", pw, "any", any(pw))
	for _, out := range []string{fmt.Sprint(pw), fmt.Sprintf("%v %s %q %#v %+v", pw, pw, pw, pw, pw), b.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
}

// TestGeneratePassword ensures generated passwords are long, valid and distinct.
func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[secret.Secret]bool{}
	for range 100 {
		p := GeneratePassword()
		if len(p) != 20 || ValidatePassword(p) != nil || seen[p] {
			t.Fatalf("bad or repeated password %d chars", len(p))
		}
		seen[p] = true
	}
}
