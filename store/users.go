package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/argon2"

	"wsusfix/store/secret"
)

// Role is what a user may do. Roles are ranked: an admin may do everything
// an operator may, and an operator everything a viewer may.
type Role string

// The roles, lowest first.
const (
	RoleViewer   Role = "viewer"   // sees every page, exports
	RoleOperator Role = "operator" // also repairs, cancels, refreshes history
	RoleAdmin    Role = "admin"    // also users, settings, the audit log
)

// Roles lists every role, lowest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

// rank orders roles; an unknown role ranks below every real one.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a user with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ParseRole accepts a role name in any case.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", &InvalidError{Reason: fmt.Sprintf("role %q: want viewer, operator or admin", s)}
	}
	return r, nil
}

// InvalidError is a value a validator refused. Reason is written for the
// person who typed the value and holds nothing but what they typed and the
// rule, so pages may show it; Error returns the same text.
type InvalidError struct {
	Reason string
}

// Error is the reason.
func (e *InvalidError) Error() string { return e.Reason }

// ErrBadCredentials is returned by Authenticate for an unknown user, a wrong
// password or a disabled account alike, so callers cannot tell them apart.
var ErrBadCredentials = errors.New("store: bad credentials")

// ErrLastAdmin is returned when a change would leave no enabled admin.
var ErrLastAdmin = errors.New("store: at least one enabled admin must remain")

// User is an account that may sign in.
type User struct {
	ID                int64
	Name              string
	Role              Role
	Disabled          bool
	SessionEpoch      int64 // sessions begun under another epoch are void
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time
	LastLoginAt       time.Time // zero when never
	// Source is where the account is defined; a directory user's Name is
	// "dir:" + their account name (see DirectoryUserName).
	Source      Source
	DirectoryDN string // the directory entry at the last sign-in; "" for local users
}

// ValidateUserName reports why name cannot be a user name, or nil.
// Names are 1–64 letters, digits and . _ - @ \ (DOMAIN\user and UPNs fit).
func ValidateUserName(name string) error {
	if name == "" || len(name) > 64 {
		return &InvalidError{Reason: "a user name has 1 to 64 characters"}
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune(`._-@\`, c) {
			return &InvalidError{Reason: fmt.Sprintf("a user name may hold letters, digits and . _ - @ \\ only, not %q", c)}
		}
	}
	return nil
}

// ValidatePassword reports why pw is too weak to set, or nil.
func ValidatePassword(pw secret.Secret) error {
	switch n := len([]rune(string(pw))); {
	case n < 12:
		return &InvalidError{Reason: "a password has at least 12 characters"}
	case len(pw) > 1024:
		return &InvalidError{Reason: "a password has at most 1024 bytes"}
	}
	return nil
}

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alikes (about 100 bits).
func GeneratePassword() secret.Secret {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		// Rejection sampling keeps every character equally likely.
		for {
			var c [1]byte
			_, _ = rand.Read(c[:]) // never fails (crypto/rand, Go 1.24+)
			if int(c[0]) < 256/len(alphabet)*len(alphabet) {
				b[i] = alphabet[int(c[0])%len(alphabet)]
				break
			}
		}
	}
	return secret.Secret(b)
}

const userCols = `id, name, role, disabled, session_epoch, created_at, updated_at, password_changed_at, last_login_at, source, directory_dn`

// scanUser reads userCols, then any extra columns into extra.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	var created, updated, changed, login sql.NullInt64
	err := row.Scan(append([]any{&u.ID, &u.Name, &u.Role, &u.Disabled, &u.SessionEpoch, &created, &updated, &changed, &login,
		&u.Source, &u.DirectoryDN}, extra...)...)
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt, u.LastLoginAt = fromMS(created), fromMS(updated), fromMS(changed), fromMS(login)
	return u, err
}

// CreateUser adds an enabled user. A taken name (in any case) is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, name string, role Role, pw secret.Secret) (User, error) {
	if err := ValidateUserName(name); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	if role.rank() == 0 {
		return User{}, fmt.Errorf("store: create user: unknown role %q", role)
	}
	hash, err := hashPassword(pw)
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	now := s.now().UnixMilli()
	row := s.write.QueryRowContext(ctx, `INSERT INTO users (name, role, password_hash, created_at, updated_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+userCols, name, role, hash, now, now, now)
	u, err := scanUser(row)
	return u, mapErr("create user", err)
}

// UserByName returns the user called name (in any case), or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	return u, mapErr("user "+name, err)
}

// UserByID returns the user with id, or ErrNotFound.
//
// Every signed-in request asks for its user, so the answer is kept while
// the store's generation stands (genMemo): a role change, a disabled
// account or a new session epoch moves it, and the next request reads the
// row again.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	gen := s.Generation()
	if u, ok := s.users.get(id, gen); ok {
		return u, nil
	}
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return u, mapErr("user by id", err)
	}
	s.users.put(id, gen, u)
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, mapErr("users", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr("users", err)
		}
		out = append(out, u)
	}
	return out, mapErr("users", rows.Err())
}

// CountUsers returns how many users exist, enabled or not.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	return n, mapErr("count users", s.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n))
}

// SetRole changes a user's role. Demoting the last enabled admin is ErrLastAdmin.
func (s *Store) SetRole(ctx context.Context, name string, role Role) (User, error) {
	if role.rank() == 0 {
		return User{}, fmt.Errorf("store: set role: unknown role %q", role)
	}
	return s.updateUser(ctx, "set role", name, func(tx *sql.Tx, u User) error {
		if u.Source == SourceDirectory {
			return ErrDirectoryManaged
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, role, s.now().UnixMilli(), u.ID)
		return err
	})
}

// SetDisabled disables or enables a user. Disabling bumps the session epoch,
// which ends every session of the user; disabling the last enabled admin is
// ErrLastAdmin.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) (User, error) {
	return s.updateUser(ctx, "set disabled", name, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ?,
			session_epoch = session_epoch + ? WHERE id = ?`, disabled, s.now().UnixMilli(), disabled, u.ID)
		if err != nil || !disabled {
			return err
		}
		return revokeUserTokens(ctx, tx, u.ID, s.now().UnixMilli())
	})
}

// SetPassword replaces a user's password and ends every session of the user.
func (s *Store) SetPassword(ctx context.Context, name string, pw secret.Secret) (User, error) {
	hash, err := hashPassword(pw)
	if err != nil {
		return User{}, fmt.Errorf("store: set password: %w", err)
	}
	return s.updateUser(ctx, "set password", name, func(tx *sql.Tx, u User) error {
		if u.Source == SourceDirectory {
			return ErrDirectoryManaged
		}
		now := s.now().UnixMilli()
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ?,
			session_epoch = session_epoch + 1 WHERE id = ?`, hash, now, now, u.ID)
		return err
	})
}

// updateUser runs change on the named user in one transaction, then checks
// that an enabled admin remains, so two admins demoting each other at once
// cannot both succeed.
func (s *Store) updateUser(ctx context.Context, op, name string, change func(*sql.Tx, User) error) (User, error) {
	var u User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name)); err != nil {
			return err
		}
		if err := change(tx, u); err != nil {
			return err
		}
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled`).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return ErrLastAdmin
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, u.ID))
		return err
	})
	if errors.Is(err, ErrLastAdmin) || errors.Is(err, ErrDirectoryManaged) {
		return User{}, err
	}
	return u, mapErr(op+" "+name, err)
}

// Authenticate checks a user name and password. An unknown user, a wrong
// password and a disabled account all return ErrBadCredentials after the
// same amount of hashing work, so neither the answer nor its timing tells
// which names exist.
func (s *Store) Authenticate(ctx context.Context, name string, pw secret.Secret) (User, error) {
	dummy := dummyHash() // made on the first sign-in of any kind, so even that one tells nothing
	var hash string
	// Directory users have no password here: their rows are never read.
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE name = ? AND source = 'local'`, name), &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, _ = verifyPassword(dummy, pw)
		return User{}, ErrBadCredentials
	case err != nil:
		return User{}, mapErr("authenticate", err)
	}
	ok, err := verifyPassword(hash, pw)
	if err != nil {
		return User{}, fmt.Errorf("store: authenticate %s: %w", name, err)
	}
	if !ok || u.Disabled {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// RecordLogin notes a successful sign-in and removes expired sessions, which
// keeps the sessions table small without a background reaper.
func (s *Store) RecordLogin(ctx context.Context, id int64) error {
	return mapErr("record login", s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, s.now().UnixMilli(), id); err != nil {
			return err
		}
		// Session expiries come from the session manager's wall clock.
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, time.Now().UnixMilli())
		return err
	}))
}

// argon2id parameters: OWASP's recommended m=19 MiB, t=2, p=1. They are
// stored in each hash, so raising them later only affects new hashes.
const (
	argonMemory = 19 * 1024
	argonTime   = 2
	argonThread = 1
	argonKeyLen = 32
)

// hashSlots bounds concurrent hashing: each one holds 19 MiB, and a burst of
// sign-in attempts must not exhaust memory.
var hashSlots = make(chan struct{}, 4)

// dummyHash is verified against for unknown users so they cost the same.
// It is made on first use, not at start, so commands that never sign
// anyone in do not pay for it.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("not a real password, only here to spend time")
	return h
})

// hashPassword returns pw's argon2id hash in PHC string format.
func hashPassword(pw secret.Secret) (string, error) {
	if pw == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThread, argonKeyLen)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThread,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether pw matches a hash from hashPassword, using
// the parameters stored in the hash.
func verifyPassword(hash string, pw secret.Secret) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unknown password hash format")
	}
	var version int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 {
		return false, errors.New("bad argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil || len(want) == 0 {
		return false, errors.New("bad argon2 hash encoding")
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
