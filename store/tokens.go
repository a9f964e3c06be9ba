package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"wsusfix/store/secret"
)

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners, logs) as wsusfix's.
const TokenPrefix = "wsf_"

// Token bounds.
const (
	maxTokenName  = 64
	MaxTokenDays  = 365
	tokenUseGrain = time.Minute // last use is written at most this often
)

// ErrTokenRefused is returned (wrapped) for a token that does not exist,
// is revoked or expired, or whose user is disabled: one error for all, so
// a caller learns nothing about which.
var ErrTokenRefused = errors.New("token refused")

// Token is an API token as stored: never its secret.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Role       Role
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero when never used
	RevokedAt  time.Time // zero while usable
}

// Usable reports whether the token may still be used at now.
func (t Token) Usable(now time.Time) bool { return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) }

func tokenHash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// CreateToken makes a token named name for user u, with role (at most
// u's) for days days (1 to MaxTokenDays), and returns its secret, which
// is shown once and stored only as a hash.
func (s *Store) CreateToken(ctx context.Context, u User, name string, role Role, days int) (secret.Secret, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxTokenName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Token{}, &InvalidError{Reason: fmt.Sprintf("Name the token in 1 to %d characters.", maxTokenName)}
	}
	if role.rank() == 0 || role.rank() > u.Role.rank() {
		return "", Token{}, &InvalidError{Reason: "A token's role can be at most yours (" + string(u.Role) + ")."}
	}
	if days < 1 || days > MaxTokenDays {
		return "", Token{}, &InvalidError{Reason: fmt.Sprintf("A token lasts 1 to %d days.", MaxTokenDays)}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, err
	}
	sec := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	t := Token{UserID: u.ID, Name: name, Role: role, CreatedAt: now.UTC().Truncate(time.Millisecond),
		ExpiresAt: now.AddDate(0, 0, days).UTC().Truncate(time.Millisecond)}
	err := s.write.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, role, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, u.ID, name, tokenHash(sec), role, t.CreatedAt.UnixMilli(), t.ExpiresAt.UnixMilli()).Scan(&t.ID)
	if err := mapErr("create token", err); err != nil {
		if errors.Is(err, ErrConflict) {
			return "", Token{}, &InvalidError{Reason: "You already have a token named " + name + "; revoke it or choose another name."}
		}
		return "", Token{}, err
	}
	return secret.Secret(sec), t, nil
}

const tokenColumns = "id, user_id, name, role, created_at, expires_at, last_used_at, revoked_at"

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created, expires, used, revoked sql.NullInt64
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Role, &created, &expires, &used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromMS(expires), fromMS(used), fromMS(revoked)
	return t, err
}

// AuthenticateToken returns the user a token acts for, with the role it
// acts with (the lower of the token's and the user's, as the user stands
// now), and the token. Anything wrong is ErrTokenRefused.
func (s *Store) AuthenticateToken(ctx context.Context, presented secret.Secret) (User, Token, error) {
	if !strings.HasPrefix(string(presented), TokenPrefix) {
		return User{}, Token{}, fmt.Errorf("store: %w", ErrTokenRefused)
	}
	t, err := scanToken(s.read.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE hash = ?", tokenHash(string(presented))))
	if err != nil {
		return User{}, Token{}, fmt.Errorf("store: %w", ErrTokenRefused)
	}
	now := s.now()
	if !t.Usable(now) {
		return User{}, Token{}, fmt.Errorf("store: %w", ErrTokenRefused)
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil || u.Disabled {
		return User{}, Token{}, fmt.Errorf("store: %w", ErrTokenRefused)
	}
	if t.Role.rank() < u.Role.rank() {
		u.Role = t.Role
	}
	if now.Sub(t.LastUsedAt) >= tokenUseGrain {
		_, _ = s.write.quiet().ExecContext(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now.UnixMilli(), t.ID)
		t.LastUsedAt = now
	}
	return u, t, nil
}

// Tokens lists a user's tokens, newest first.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC", userID)
	if err != nil {
		return nil, mapErr("tokens", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, mapErr("tokens", err)
		}
		out = append(out, t)
	}
	return out, mapErr("tokens", rows.Err())
}

// RevokeToken revokes the user's token id; revoking one already revoked
// changes nothing. A token of another user is not found.
func (s *Store) RevokeToken(ctx context.Context, userID, id int64) (Token, error) {
	res, err := s.write.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ?",
		s.now().UnixMilli(), id, userID)
	if err != nil {
		return Token{}, mapErr("revoke token", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Token{}, mapErr(fmt.Sprintf("token %d", id), sql.ErrNoRows)
	}
	t, err := scanToken(s.read.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = ?", id))
	return t, mapErr("revoke token", err)
}

// revokeUserTokens revokes every token of a user, inside tx: disabling a
// user ends what their scripts can do, not only their sessions.
func revokeUserTokens(ctx context.Context, tx *sql.Tx, userID int64, now int64) error {
	_, err := tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, userID)
	return err
}
