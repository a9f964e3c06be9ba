package sheet

import (
	"encoding/json"
	"testing"
)

// FuzzJSONString ensures appendJSONString writes every text exactly as
// encoding/json's Marshal does.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\b\f\x00\x1f\x7f", "<a href='x'>&</a>", "\u2028\u2029",
		"bad\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: wrote %s, encoding/json %s", s, got, want)
		}
	})
}
