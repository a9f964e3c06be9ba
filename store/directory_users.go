package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Source says where an account is defined.
type Source string

// The sources.
const (
	SourceLocal     Source = "local"     // name and password here
	SourceDirectory Source = "directory" // Active Directory or LDAP; role from its groups
)

// directoryPrefix starts every directory user's stored name. Local names
// cannot hold a colon, so the two kinds can never share a name.
const directoryPrefix = "dir:"

// ErrDirectoryManaged is returned when a change is asked of a directory
// user that only the directory can make (role, password).
var ErrDirectoryManaged = errors.New("store: the directory manages this user's role and password")

// DirectoryUserName is the stored name of the directory account called
// account: "dir:" + account.
func DirectoryUserName(account string) string { return directoryPrefix + account }

// Account is the name the user signs in with: the directory's account
// name for a directory user, the stored name otherwise.
func (u User) Account() string {
	if u.Source == SourceDirectory {
		return strings.TrimPrefix(u.Name, directoryPrefix)
	}
	return u.Name
}

// DirectorySignIn records a sign-in the directory vouched for: it creates
// the user "dir:<account>" on first sign-in, and otherwise sets the role
// and DN the directory gave now, so a role changed in the directory
// applies at once (roles are read from here on every request). A user an
// admin disabled here stays disabled: the caller must check Disabled.
// Directory users have no password here and count as admins like any
// other, but the last-admin rule does not hold them: the directory decides.
func (s *Store) DirectorySignIn(ctx context.Context, account, dn string, role Role) (User, error) {
	if err := ValidateUserName(account); err != nil {
		return User{}, fmt.Errorf("store: directory user: %w", err)
	}
	if role.rank() == 0 {
		return User{}, fmt.Errorf("store: directory user %s: unknown role %q", account, role)
	}
	name := DirectoryUserName(account)
	var u User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		// '!' is no password hash at all; Authenticate reads local users only.
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_at, updated_at, password_changed_at,
			source, directory_dn) VALUES (?, ?, '!', ?, ?, ?, 'directory', ?)
			ON CONFLICT (name) DO UPDATE SET role = excluded.role, directory_dn = excluded.directory_dn,
				updated_at = CASE WHEN role <> excluded.role OR directory_dn <> excluded.directory_dn THEN excluded.updated_at ELSE updated_at END
			WHERE source = 'directory'`, name, role, now, now, now, dn)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ? AND source = 'directory'`, name))
		return err
	})
	return u, mapErr("directory sign-in "+account, err)
}

// EndDirectoryAccess ends every session of the directory user id, and
// revokes their API tokens, for when the directory no longer grants them
// a role: the next request of any of their sessions finds the epoch moved
// on, and their tokens are refused. Signing in again, with the
// directory's consent, is the only way back.
func (s *Store) EndDirectoryAccess(ctx context.Context, id int64) error {
	now := s.now().UnixMilli()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET session_epoch = session_epoch + 1, updated_at = ?
			WHERE id = ? AND source = 'directory'`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return revokeUserTokens(ctx, tx, id, now)
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: end directory access of user %d: %w", id, ErrNotFound)
	}
	return mapErr("end directory access", err)
}

// HasLocalUser reports whether a local account called name (in any case)
// exists, enabled or not. Sign-in checks such a name here and never asks
// the directory about it.
func (s *Store) HasLocalUser(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ? AND source = 'local'`, name).Scan(&n)
	return n > 0, mapErr("has local user", err)
}
