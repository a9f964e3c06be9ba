package handlers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec encodes a session as JSON with its values by type: the
// session holds only whole numbers (who signed in, the epoch, when the
// directory last confirmed the role), and JSON's objects come out in key
// order. scs's own GobCodec writes the values' map in Go's random order,
// so the same session gave different bytes at each request and the
// session store could not tell an unchanged session from a changed one;
// with the same bytes for the same session it skips the write a plain GET
// would otherwise make (store.Sessions.CommitCtx). Gob also compiled a
// decoder for every request, a tenth of a cached page's time.
type sessionCodec struct{}

// sessionJSON is the encoded form. Format tells it from GobCodec's bytes.
type sessionJSON struct {
	Format   int              `json:"wsusfix_session"`
	Deadline time.Time        `json:"deadline"`
	Ints     map[string]int64 `json:"ints,omitempty"`
}

const sessionFormat = 1

// Encode writes the deadline and values. A value of a type the session
// does not hold is an error, so a change that stores one fails at once.
func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	s := sessionJSON{Format: sessionFormat, Deadline: deadline, Ints: make(map[string]int64, len(values))}
	for k, v := range values {
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("session value %q is a %T; sessions hold int64 only", k, v)
		}
		s.Ints[k] = n
	}
	return json.Marshal(s)
}

// Decode reads what Encode wrote. A session stored by an earlier version
// in GobCodec's form still decodes, so an upgrade signs nobody out. A
// session neither can read is an empty one that ends now: its user signs
// in again, rather than meeting an error on every page.
func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	var s sessionJSON
	if err := json.Unmarshal(b, &s); err != nil || s.Format != sessionFormat {
		if d, values, err := (scs.GobCodec{}).Decode(b); err == nil {
			return d, values, nil
		}
		return time.Now(), map[string]any{}, nil
	}
	values := make(map[string]any, len(s.Ints))
	for k, n := range s.Ints {
		values[k] = n
	}
	return s.Deadline, values, nil
}
