package handlers

import (
	"bytes"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/go-cmp/cmp"
)

// TestSessionCodec ensures the same session always encodes to the same
// bytes (what lets the store skip rewriting it), that a session stored in
// scs's gob form before the upgrade still decodes, and that a value the
// session does not hold is refused rather than lost.
func TestSessionCodec(t *testing.T) {
	deadline := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	values := map[string]any{sessUserID: int64(7), sessEpoch: int64(3), sessDirChecked: int64(1764600000)}
	first, err := sessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 { // Go's map order changes from one range to the next
		again, err := sessionCodec{}.Encode(deadline, values)
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("encodings differ: %s and %s (%v)", first, again, err)
		}
	}
	for name, b := range map[string][]byte{"json": first, "gob": mustGob(t, deadline, values)} {
		d, got, err := sessionCodec{}.Decode(b)
		if err != nil || !d.Equal(deadline) {
			t.Fatalf("%s: decode: deadline %v, %v", name, d, err)
		}
		if diff := cmp.Diff(values, got); diff != "" {
			t.Errorf("%s: values (-want +got):\n%s", name, diff)
		}
	}
	if _, got, err := (sessionCodec{}).Decode([]byte("not a session")); err != nil || len(got) != 0 {
		t.Errorf("unreadable session: %v, %v; want an empty one and no error", got, err)
	}
	if _, err := (sessionCodec{}).Encode(deadline, map[string]any{"note": "text"}); err == nil {
		t.Error("a string value was encoded; want an error, since Decode would not give it back")
	}
}

func mustGob(t *testing.T, deadline time.Time, values map[string]any) []byte {
	t.Helper()
	b, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
