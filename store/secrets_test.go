package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyring_SealOpen ensures a sealed value opens with the same key and
// additional data only, names its key, and differs every time.
func TestKeyring_SealOpen(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 32)
	k, err := NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.Seal([]byte("s3cret"), "settings:x:value"), k.Seal([]byte("s3cret"), "settings:x:value")
	if a == b {
		t.Error("two seals of one value are equal: nonce reuse")
	}
	if !strings.HasPrefix(a, "v1:"+KeyID(key)+":") || strings.Contains(a, "s3cret") {
		t.Errorf("sealed %q", a)
	}
	if pt, err := k.Open(a, "settings:x:value"); err != nil || string(pt) != "s3cret" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	if _, err := k.Open(a, "settings:y:value"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("opened with another row's additional data: %v", err)
	}
	other, _ := NewKeyring(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(a, "settings:x:value"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("opened with another key: %v", err)
	}
	tampered := a[:len(a)-4] + "AAA="
	if _, err := k.Open(tampered, "settings:x:value"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("opened a tampered value: %v", err)
	}
	// Rotation: a new key in front still opens values of the old one.
	rotated, _ := NewKeyring(bytes.Repeat([]byte{9}, 32), key)
	if pt, err := rotated.Open(a, "settings:x:value"); err != nil || string(pt) != "s3cret" {
		t.Fatalf("rotated keyring: %q, %v", pt, err)
	}
	if rotated.ActiveID() == k.ActiveID() {
		t.Error("rotated keyring seals with the old key")
	}
}

// TestLoadKeyFile ensures a missing key file is created 0600 with a random
// key, and that loading it again gives the same key.
func TestLoadKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db.key")
	k1, created, err := LoadKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v, created %v", err, created)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, created, err := LoadKeyFile(path)
	if err != nil || created || k2.ActiveID() != k1.ActiveID() {
		t.Fatalf("reload: %v, created %v, ids %s %s", err, created, k1.ActiveID(), k2.ActiveID())
	}
	os.WriteFile(path, []byte("not base64!\n"), 0o600)
	if _, _, err := LoadKeyFile(path); err == nil {
		t.Error("garbage key file accepted")
	}
}

// TestStore_WinRMSettings ensures the WinRM password is stored encrypted:
// the raw row holds no plaintext, it decrypts only with the key file and in
// its own row, and saving without a password keeps the stored one.
func TestStore_WinRMSettings(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	k, _ := NewKeyring(bytes.Repeat([]byte{1}, 32))
	const pw = "Winrm-Pa55word!"
	if _, err := s.WinRMCredentials(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nothing stored: %v", err)
	}
	in := WinRMSettings{User: `CORP\svc-wsusfix`, Auth: "ntlm", HTTPS: true, Port: 5986, Password: pw}
	if err := s.SaveWinRMSettings(ctx, k, in, "admin"); err != nil {
		t.Fatal(err)
	}

	var raw string
	if err := s.read.QueryRow(`SELECT group_concat(name || '=' || value, ';') FROM settings`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, pw) || !strings.Contains(raw, "winrm.password=v1:"+k.ActiveID()+":") {
		t.Fatalf("raw settings rows: %s", raw)
	}
	shown, err := s.WinRMSettings(ctx)
	if err != nil || shown.Password != "" || !shown.PasswordSet || shown.PasswordSetBy != "admin" || shown.User != in.User {
		t.Fatalf("settings for the page: %+v, %v", shown, err)
	}
	got, err := s.WinRMCredentials(ctx, k)
	if err != nil || got.Password != pw || got.Port != 5986 || !got.HTTPS || got.Auth != "ntlm" {
		t.Fatalf("credentials: %+v, %v", got, err)
	}

	in.Password, in.Port = "", 15986
	if err := s.SaveWinRMSettings(ctx, k, in, "admin2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WinRMCredentials(ctx, k); err != nil || got.Password != pw || got.Port != 15986 {
		t.Fatalf("after save without password: %+v, %v", got, err)
	}
	other, _ := NewKeyring(bytes.Repeat([]byte{2}, 32))
	if _, err := s.WinRMCredentials(ctx, other); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("other key file: %v", err)
	}
	// A ciphertext moved to another row does not decrypt there.
	s.write.quiet().Exec(`UPDATE settings SET value = (SELECT value FROM settings WHERE name = 'winrm.password') WHERE name = 'winrm.user'`)
	var moved string
	s.read.QueryRow(`SELECT value FROM settings WHERE name = 'winrm.user'`).Scan(&moved)
	if _, err := k.Open(moved, secretAAD(settingWinRMUser)); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("moved ciphertext opened: %v", err)
	}
}
