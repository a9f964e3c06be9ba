package scripts

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// TestPayload_RoundTrip ensures ParsePayload recovers the name, parameters
// and script text of every script's payload.
func TestPayload_RoundTrip(t *testing.T) {
	t.Parallel()
	samples := sampleParams()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			payload, err := Payload(name, samples[name])
			if err != nil {
				t.Fatal(err)
			}
			gotName, b64, script, err := ParsePayload(payload)
			if err != nil {
				t.Fatal(err)
			}
			if gotName != name {
				t.Errorf("name = %q, want %q", gotName, name)
			}
			out, _ := NewParams(name)
			if err := DecodeParams(b64, out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(samples[name], reflect.ValueOf(out).Elem().Interface()); diff != "" {
				t.Errorf("parameters changed (-sent +parsed):\n%s", diff)
			}
			src, _ := Source(name)
			if !strings.HasPrefix(script, prelude) || !strings.Contains(script, src) {
				t.Error("script text lacks the prelude or the script")
			}
			if string(payload) != b64+"\n"+script {
				t.Error("payload is not the parameters line followed by the script text")
			}
		})
	}
}

// TestPayload_Params ensures Payload takes the script's own struct, a
// pointer to it, or nil (all defaults), and nothing else.
func TestPayload_Params(t *testing.T) {
	t.Parallel()
	if _, err := Payload(Cleanup, &CleanupParams{Keep: 2}); err != nil {
		t.Errorf("pointer: %v", err)
	}
	p, err := Payload(Cleanup, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b64, _, err := ParsePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(b64); string(raw) != `{"keep":0}` {
		t.Errorf("nil parameters sent as %s, want the zero struct", raw)
	}
	if _, err := Payload(Cleanup, RenameParams{}); err == nil {
		t.Error("Payload accepted another script's parameters")
	}
	if _, err := Payload(Cleanup, map[string]any{"keep": 1}); err == nil {
		t.Error("Payload accepted a map")
	}
	if _, err := Payload("format-c", nil); err == nil {
		t.Error("Payload accepted an unknown script")
	}
}

// TestParsePayload_Rejects ensures the simulator cannot be fed a payload the
// bootstrap would not run as one of the embedded scripts.
func TestParsePayload_Rejects(t *testing.T) {
	t.Parallel()
	good, err := Payload(Rename, sampleParams()[Rename])
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := bytes.Cut(good, []byte("\n"))
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"no line break", first},
		{"no parameters", append([]byte("\n"), rest...)},
		{"parameters not base64", append([]byte("$(calc)\n"), rest...)},
		{"no script header", append(append([]byte{}, first...), []byte("\nWrite-Output 1\n")...)},
		{"tampered script", bytes.Replace(good, []byte("Start-Sleep"), []byte("Remove-Item"), 1)},
		{"appended code", append(append([]byte{}, good...), []byte("Remove-Item C:\\\n")...)},
		{"unknown script", bytes.Replace(good, []byte("# wsusfix-script: rename"), []byte("# wsusfix-script: format-c"), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := ParsePayload(tt.payload); err == nil {
				t.Error("ParsePayload accepted it")
			}
		})
	}
	// A CR before the first line break is tolerated: the bootstrap reads
	// lines, which drops it.
	crlf := append(append(append([]byte{}, first...), '\r', '\n'), rest...)
	if name, b64, _, err := ParsePayload(crlf); err != nil || name != Rename || b64 != string(first) {
		t.Errorf("CRLF after the parameters: %q %q %v", name, b64, err)
	}
}

// TestBootstrap ensures the command line is the documented fixed one, that
// it decodes to BootstrapScript, and that it fits cmd.exe's limit.
func TestBootstrap(t *testing.T) {
	t.Parallel()
	const prefix = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
	b64, ok := strings.CutPrefix(Bootstrap, prefix)
	if !ok {
		t.Fatalf("Bootstrap does not start with %q", prefix)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%2 != 0 {
		t.Fatal("encoded command is not UTF-16")
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	if units[0] == 0xFEFF {
		t.Error("encoded command starts with a byte-order mark")
	}
	if got := string(utf16.Decode(units)); got != BootstrapScript() {
		t.Error("Bootstrap does not decode to BootstrapScript()")
	}
	if len(Bootstrap) > MaxCommandLine {
		t.Errorf("Bootstrap is %d characters, over cmd.exe's %d", len(Bootstrap), MaxCommandLine)
	}
	t.Logf("Bootstrap is %d of %d characters", len(Bootstrap), MaxCommandLine)
}

// TestBootstrap_Lines ensures the result lines the bootstrap prints itself
// parse, and use the declared vocabulary.
func TestBootstrap_Lines(t *testing.T) {
	t.Parallel()
	n := 0
	for line := range strings.Lines(BootstrapScript()) {
		// [Console]::Out.WriteLine('...'), or a bare '...' string where
		// constrained language allows nothing else.
		_, quoted, ok := strings.Cut(line, "WriteLine('"+Tag)
		if !ok {
			if quoted, ok = strings.CutPrefix(strings.TrimSpace(line), "'"+Tag); !ok {
				continue
			}
			quoted += ")"
		}
		text := Tag + strings.TrimSuffix(strings.TrimSpace(quoted), "')")
		l, ok := ParseLine(text)
		if !ok {
			t.Errorf("bootstrap line does not parse: %s", text)
			continue
		}
		var r Result
		if err := l.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if l.Kind != KindResult || l.Step != "bootstrap" || !reasons[r.Reason] || !statuses[r.Status] {
			t.Errorf("bootstrap line %+v uses an undeclared kind, step, status or reason", r)
		}
		n++
	}
	if n != 5 {
		t.Errorf("found %d bootstrap result lines, want 5", n)
	}
}

// TestBootstrap_ConstrainedLanguage ensures the bootstrap checks the
// language mode before anything constrained language refuses, refuses with
// the message Go declares, and writes nothing of its own to stderr.
func TestBootstrap_ConstrainedLanguage(t *testing.T) {
	t.Parallel()
	src := BootstrapScript()
	check := strings.Index(src, "$ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage'")
	console := strings.Index(src, "[Console]::")
	if check < 0 || console < 0 || check > console {
		t.Fatalf("the language mode check (at %d) does not come before the first [Console] call (at %d)", check, console)
	}
	if !strings.Contains(src, `"reason":"constrained_language","message":"`+ConstrainedLanguageMessage+`"`) {
		t.Error("the bootstrap's refusal does not carry ConstrainedLanguageMessage")
	}
	if strings.Contains(src, "[Console]::Error") {
		t.Error("the bootstrap writes to stderr, which belongs to PowerShell's CLIXML")
	}
}
