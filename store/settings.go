package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"wsusfix/store/secret"
)

// Setting names of the WinRM account entered on the settings page.
const (
	settingWinRMUser     = "winrm.user"
	settingWinRMAuth     = "winrm.auth"
	settingWinRMHTTPS    = "winrm.https"
	settingWinRMPort     = "winrm.port"
	settingWinRMPassword = "winrm.password" // ciphertext only
)

// secretAAD binds a sealed value to its table, row and column, so a
// ciphertext copied into another row does not decrypt.
func secretAAD(name string) string { return "settings:" + name + ":value" }

// WinRMSettings is the WinRM account stored on the settings page.
type WinRMSettings struct {
	User     string
	Auth     string // an authentication method of package remote: ntlm or basic
	HTTPS    bool
	Port     int           // 0: the default for the scheme
	Password secret.Secret // empty unless read with WinRMCredentials

	PasswordSet   bool      // a password is stored
	PasswordSetAt time.Time // when it was last replaced
	PasswordSetBy string
	UpdatedAt     time.Time // zero when never saved
	UpdatedBy     string
}

// WinRMSettings returns the stored WinRM settings without decrypting the
// password (PasswordSet says whether one is stored), for showing on a page.
// Nothing stored yet gives a zero value and no error.
func (s *Store) WinRMSettings(ctx context.Context) (WinRMSettings, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, value, updated_at, updated_by FROM settings
		WHERE name IN (?, ?, ?, ?, ?)`, settingWinRMUser, settingWinRMAuth, settingWinRMHTTPS, settingWinRMPort, settingWinRMPassword)
	if err != nil {
		return WinRMSettings{}, mapErr("winrm settings", err)
	}
	defer rows.Close()
	var w WinRMSettings
	for rows.Next() {
		var name, value, by string
		var at sql.NullInt64
		if err := rows.Scan(&name, &value, &at, &by); err != nil {
			return WinRMSettings{}, mapErr("winrm settings", err)
		}
		if t := fromMS(at); t.After(w.UpdatedAt) {
			w.UpdatedAt, w.UpdatedBy = t, by
		}
		switch name {
		case settingWinRMUser:
			w.User = value
		case settingWinRMAuth:
			w.Auth = value
		case settingWinRMHTTPS:
			w.HTTPS = value == "true"
		case settingWinRMPort:
			w.Port, _ = strconv.Atoi(value)
		case settingWinRMPassword:
			w.PasswordSet, w.PasswordSetAt, w.PasswordSetBy = value != "", fromMS(at), by
		}
	}
	return w, mapErr("winrm settings", rows.Err())
}

// WinRMCredentials returns the stored WinRM settings with the password
// decrypted by k, for the moment a connection is made; keep the result no
// longer than that. ErrNotFound means nothing usable is stored (no user or
// no password); ErrUndecryptable means the key file does not match.
//
// The settings a run should use are the environment's when it configures
// WinRM, and these otherwise: see the caller in package main.
func (s *Store) WinRMCredentials(ctx context.Context, k *Keyring) (WinRMSettings, error) {
	w, err := s.WinRMSettings(ctx)
	if err != nil {
		return WinRMSettings{}, err
	}
	if w.User == "" || !w.PasswordSet {
		return WinRMSettings{}, fmt.Errorf("store: winrm credentials: %w", ErrNotFound)
	}
	if k == nil {
		return WinRMSettings{}, fmt.Errorf("store: winrm credentials: no key file: %w", ErrUndecryptable)
	}
	var sealed string
	err = s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingWinRMPassword).Scan(&sealed)
	if err != nil {
		return WinRMSettings{}, mapErr("winrm credentials", err)
	}
	pw, err := k.Open(sealed, secretAAD(settingWinRMPassword))
	if err != nil {
		return WinRMSettings{}, err
	}
	w.Password = secret.Secret(pw)
	return w, nil
}

// SaveWinRMSettings stores w, sealing w.Password with k. An empty password
// keeps the stored one, so the form never needs to show it again.
func (s *Store) SaveWinRMSettings(ctx context.Context, k *Keyring, w WinRMSettings, by string) error {
	if w.Password != "" && k == nil {
		return errors.New("store: save winrm settings: no key file to encrypt the password with")
	}
	now := s.now().UnixMilli()
	vals := [][2]string{
		{settingWinRMUser, w.User},
		{settingWinRMAuth, w.Auth},
		{settingWinRMHTTPS, strconv.FormatBool(w.HTTPS)},
		{settingWinRMPort, strconv.Itoa(w.Port)},
	}
	if w.Password != "" {
		vals = append(vals, [2]string{settingWinRMPassword, k.Seal([]byte(w.Password), secretAAD(settingWinRMPassword))})
	}
	return mapErr("save winrm settings", s.withTx(ctx, func(tx *sql.Tx) error {
		for _, v := range vals {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
				updated_by = excluded.updated_by`, v[0], v[1], now, by); err != nil {
				return err
			}
		}
		return nil
	}))
}
