// Package secret holds Secret, the one type for a password or key held in
// memory: user passwords, the WinRM account's password, key material on its
// way to the store. Every way Go has of printing or encoding a value shows
// it as "[redacted]", so a Secret inside a config or user struct cannot
// leak through fmt, encoding/json, a text encoder or slog by accident; code
// that needs the value converts it explicitly with Reveal.
//
// It imports nothing of ours, so every layer may use it.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret shows instead of its value.
const Redacted = "[redacted]"

// Secret is a password or key. The zero value is empty.
type Secret string

// Reveal returns the value, for the one place that must send or hash it.
func (s Secret) Reveal() string { return string(s) }

// Empty reports whether no value is set.
func (s Secret) Empty() bool { return s == "" }

// String hides the value (%v, %s, and Print).
func (Secret) String() string { return Redacted }

// GoString hides the value from %#v.
func (Secret) GoString() string { return Redacted }

// Format hides the value whatever the verb and flags: %x, %q, %d and %+v
// included, which would otherwise reach the bytes of a string type.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON hides the value from encoding/json.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText hides the value from text encoders. (encoding/json writes a
// map key of a string type as it is, whatever its methods: never key a map
// by a Secret.)
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
