package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestStore_Tokens ensures a token's secret is shown once and kept only as
// a hash, acts with the lower of its role and its user's, records its last
// use, and is refused once revoked, expired, or its user disabled; and that
// a token above its user's role, or named twice, is refused with a reason.
func TestStore_Tokens(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "admin", RoleAdmin, "a long password 0"); err != nil {
		t.Fatal(err)
	}
	op, err := s.CreateUser(ctx, "olga", RoleOperator, "a long password 1")
	if err != nil {
		t.Fatal(err)
	}
	var ie *InvalidError
	if _, _, err := s.CreateToken(ctx, op, "too high", RoleAdmin, 30); !errors.As(err, &ie) {
		t.Errorf("an admin token for an operator: %v", err)
	}
	sec, tok, err := s.CreateToken(ctx, op, "nightly report", RoleViewer, 30)
	if err != nil || !strings.HasPrefix(string(sec), TokenPrefix) || len(sec) < 40 {
		t.Fatalf("token %q, %v", sec, err)
	}
	if _, _, err := s.CreateToken(ctx, op, "nightly report", RoleViewer, 30); !errors.As(err, &ie) {
		t.Errorf("a second token of the same name: %v", err)
	}
	var stored int
	if err := s.read.QueryRow("SELECT count(*) FROM api_tokens WHERE instr(hash, ?) > 0", string(sec)).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the secret is stored as given (%d, %v)", stored, err)
	}
	u, got, err := s.AuthenticateToken(ctx, sec)
	if err != nil || u.Name != "olga" || u.Role != RoleViewer || got.ID != tok.ID || got.LastUsedAt.IsZero() {
		t.Fatalf("authenticated %+v %+v, %v; want olga acting as a viewer", u, got, err)
	}
	if _, _, err := s.AuthenticateToken(ctx, sec+"x"); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("a wrong secret: %v", err)
	}
	s.now = func() time.Time { return fixedNow.AddDate(0, 0, 31) }
	if _, _, err := s.AuthenticateToken(ctx, sec); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("an expired token: %v", err)
	}
	s.now = func() time.Time { return fixedNow }
	sec2, tok2, _ := s.CreateToken(ctx, op, "ci", RoleOperator, 1)
	if _, err := s.RevokeToken(ctx, op.ID, tok2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, sec2); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("a revoked token: %v", err)
	}
	sec3, _, _ := s.CreateToken(ctx, op, "ci 2", RoleOperator, 1)
	if _, err := s.SetDisabled(ctx, "olga", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, "olga", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, sec3); !errors.Is(err, ErrTokenRefused) {
		t.Errorf("a token of a user disabled (and enabled again) still works: %v", err)
	}
	all, err := s.Tokens(ctx, op.ID)
	if err != nil || len(all) != 3 {
		t.Errorf("tokens %+v, %v", all, err)
	}
	for _, tk := range all {
		if tk.Name == "ci 2" && tk.RevokedAt.IsZero() {
			t.Error("disabling the user did not revoke its tokens")
		}
	}
}
