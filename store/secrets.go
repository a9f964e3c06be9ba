package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Keyring holds the AES-256 keys that encrypt secrets at rest. The key file
// lives outside the database, so a copy of the database alone reveals no
// secret. The first key encrypts; every key decrypts, which lets a new key
// be added in front of an old one and values re-saved without downtime.
// Safe for concurrent use (it is never modified after creation).
type Keyring struct {
	active string                 // key id that seals
	aeads  map[string]cipher.AEAD // by key id
}

// ErrUndecryptable is returned (wrapped) when a stored secret cannot be
// decrypted: another key file, a copied row, or tampering.
var ErrUndecryptable = errors.New("secret cannot be decrypted with this key file")

// KeyID names a key without revealing it: the first 8 bytes of its SHA-256,
// base64url (the Semaphore scheme).
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// NewKeyring returns a keyring over 32-byte keys; the first one seals.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("store: keyring: no key")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("store: keyring: key %d has %d bytes, want 32", i+1, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("store: keyring: %w", err)
		}
		// The random nonce is generated and prefixed by the AEAD itself, so
		// no caller can ever reuse one.
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("store: keyring: %w", err)
		}
		id := KeyID(key)
		if i == 0 {
			k.active = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// LoadKeyFile reads the keyring from path: one base64 key per line, the
// first one active (a file of exactly 32 raw bytes is one key too). When the
// file does not exist it is created, mode 0600, with one new random key,
// and created reports so.
func LoadKeyFile(path string) (k *Keyring, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("store: create key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		// Chmod makes the mode exactly 0600 whatever the umask.
		if err := errors.Join(werr, f.Chmod(0o600), f.Sync(), f.Close()); err != nil {
			return nil, false, fmt.Errorf("store: write key file %s: %w", path, err)
		}
		k, err := NewKeyring(key)
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: read key file: %w", err)
	}
	if len(b) == 32 && !isBase64Text(b) {
		k, err := NewKeyring(b)
		return k, false, err
	}
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, false, fmt.Errorf("store: key file %s line %d: not base64", path, i+1)
		}
		keys = append(keys, key)
	}
	k, err = NewKeyring(keys...)
	if err != nil {
		return nil, false, fmt.Errorf("store: key file %s: %w", path, err)
	}
	return k, false, nil
}

func isBase64Text(b []byte) bool {
	return len(bytes.Trim(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n")) == 0
}

// ActiveID is the id of the key that seals.
func (k *Keyring) ActiveID() string { return k.active }

// Seal encrypts plaintext with the active key, bound to aad (which names
// where the value is stored, so it cannot be moved to another row). The
// result is "v1:<key id>:<base64(nonce || ciphertext)>".
func (k *Keyring) Seal(plaintext []byte, aad string) string {
	ct := k.aeads[k.active].Seal(nil, nil, plaintext, []byte(aad))
	return "v1:" + k.active + ":" + base64.StdEncoding.EncodeToString(ct)
}

// Open decrypts a value from Seal with the same aad.
func (k *Keyring) Open(sealed, aad string) ([]byte, error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, fmt.Errorf("store: open secret: unknown format: %w", ErrUndecryptable)
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return nil, fmt.Errorf("store: open secret: key %s is not in the key file: %w", parts[1], ErrUndecryptable)
	}
	ct, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("store: open secret: %w", ErrUndecryptable)
	}
	pt, err := aead.Open(nil, nil, ct, []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("store: open secret with key %s: %w", parts[1], ErrUndecryptable)
	}
	return pt, nil
}
