package scripts

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sampleParams returns a parameter struct with every field set, per script.
func sampleParams() map[string]any {
	return map[string]any{
		Preflight:     PreflightParams{MinFreeGB: 12},
		SaveHistory:   SaveHistoryParams{PageSize: 40, Max: 300},
		StopServices:  StopServicesParams{Services: []string{"wuauserv", "BITS"}, TimeoutSec: 30},
		Rename:        RenameParams{Stamp: "20261123T224501Z", Attempts: 4, RetryDelaySec: 3, Services: DefaultServices(), TimeoutSec: 45},
		StartServices: StartServicesParams{Services: []string{"wuauserv"}, TimeoutSec: 20},
		Detect:        DetectParams{Retries: 2, TimeoutSec: 900},
		Verify:        VerifyParams{Since: "2026-11-23T22:45:01Z", KBs: []string{"KB5031364", "KB890830"}},
		Cleanup:       CleanupParams{Keep: 2},
		WSUSInventory: WSUSInventoryParams{
			Server: "wsus01.corp.example", Port: 8531, UseSSL: true, Since: "2026-11-23T22:45:01Z", EventDays: 20, BatchSize: 100,
		},
	}
}

// TestEncodeDecodeParams ensures every parameter struct survives the trip
// through base64 JSON unchanged, into the struct NewParams hands out.
func TestEncodeDecodeParams(t *testing.T) {
	t.Parallel()
	samples := sampleParams()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			in, ok := samples[name]
			if !ok {
				t.Fatalf("no sample for %s", name)
			}
			b64, err := EncodeParams(in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(b64, "\r\n") {
				t.Errorf("encoded parameters contain a line break: %q", b64)
			}
			out, err := NewParams(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := DecodeParams(b64, out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in, reflect.ValueOf(out).Elem().Interface()); diff != "" {
				t.Errorf("round trip changed the parameters (-in +out):\n%s", diff)
			}
		})
	}
}

// TestEncodeParams_JSON ensures the wire form is the documented one: compact
// snake_case JSON with HTML characters left alone, in padded standard base64.
func TestEncodeParams_JSON(t *testing.T) {
	t.Parallel()
	b64, err := EncodeParams(VerifyParams{Since: "<&>", KBs: nil})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), `{"since":"<&>","kbs":null,"update_ids":null,"kinds":null}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

// TestDecodeParams_Strict ensures DecodeParams refuses what EncodeParams
// never produces, so a simulator notices a caller that drifted.
func TestDecodeParams_Strict(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		b64  string
	}{
		{"not base64", "not base64!"},
		{"unpadded", strings.TrimRight(enc(`{"keep":1}`), "=")},
		{"line break", enc(`{"keep":1}`)[:4] + "\n" + enc(`{"keep":1}`)[4:]},
		{"unknown field", enc(`{"keep":1,"extra":2}`)},
		{"wrong type", enc(`{"keep":"one"}`)},
		{"two values", enc(`{"keep":1}{"keep":2}`)},
		{"trailing garbage", enc(`{"keep":1} x`)},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p CleanupParams
			if err := DecodeParams(tt.b64, &p); err == nil {
				t.Errorf("DecodeParams(%q) = nil error, want one", tt.b64)
			}
		})
	}
}

// TestNewParams ensures every script has a parameter type and unknown names
// are refused.
func TestNewParams(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		p, err := NewParams(name)
		if err != nil {
			t.Fatalf("NewParams(%q): %v", name, err)
		}
		if reflect.TypeOf(p).Kind() != reflect.Pointer {
			t.Errorf("NewParams(%q) = %T, want a pointer", name, p)
		}
	}
	if _, err := NewParams("format-c"); err == nil {
		t.Error("NewParams of an unknown script succeeded")
	}
}

// TestStamp ensures stamps are UTC, fixed width, and what rename accepts.
func TestStamp(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 23, 45, 1, 999, time.FixedZone("CET", 3600))
	if got, want := Stamp(at), "20261123T224501Z"; got != want {
		t.Errorf("Stamp = %q, want %q", got, want)
	}
}
