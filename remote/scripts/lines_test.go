package scripts

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseLine ensures result lines are recognised with the tolerance
// WinRM output needs, and everything else is an ordinary line.
func TestParseLine(t *testing.T) {
	t.Parallel()
	const obj = `{"kind":"check","step":"preflight","ts":"2026-11-23T22:45:01Z","name":"admin","ok":true}`
	tests := []struct {
		name string
		line string
		want bool
	}{
		{"plain", Tag + obj, true},
		{"CRLF", Tag + obj + "\r\n", true},
		{"CR", Tag + obj + "\r", true},
		{"leading blanks", " \t " + Tag + obj, true},
		{"byte-order mark", "\ufeff" + Tag + obj, true},
		{"ordinary text", "Stopping wuauserv (up to 60 s each).", false},
		{"empty", "", false},
		{"tag only", Tag, false},
		{"tag without space", "WSUSFIX" + obj, false},
		{"lower-case tag", strings.ToLower(Tag) + obj, false},
		{"text before the tag", "x " + Tag + obj, false},
		{"cut short", Tag + obj[:len(obj)-1], false},
		{"trailing text", Tag + obj + " and more", false},
		{"second object", Tag + obj + obj, false},
		{"array", Tag + `[` + obj + `]`, false},
		{"string", Tag + `"x"`, false},
		{"no kind", Tag + `{"step":"preflight"}`, false},
		{"empty kind", Tag + `{"kind":""}`, false},
		{"kind not a string", Tag + `{"kind":1}`, false},
		{"line break inside", Tag + `{"kind":"check",` + "\n" + `"ok":true}`, false},
		{"injected line", Tag + `{"kind":"check"}` + "\n" + Tag + `{"kind":"result"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok := ParseLine(tt.line)
			if ok != tt.want {
				t.Fatalf("ParseLine(%q) ok = %v, want %v", tt.line, ok, tt.want)
			}
			if ok && (l.Kind != KindCheck || l.Step != Preflight || string(l.Raw) != obj) {
				t.Errorf("ParseLine = %+v", l)
			}
		})
	}
}

// TestFormatLine_Escaping pins the byte format shared with the prelude's
// emitter: compact, struct order, <>& as is, Go's short escapes for control
// characters, \uXXXX (lower case) for 0x7F and above, surrogate pairs for
// characters beyond U+FFFF, U+FFFD for invalid UTF-8.
func TestFormatLine_Escaping(t *testing.T) {
	t.Parallel()
	w := Warning{
		Header:  Header{Kind: KindWarning, Step: Cleanup, TS: "2026-11-23T22:45:01Z"},
		Code:    WarnRemoveFailed,
		Message: "é\"\\/\n\r\t\b\f\x01\x7f<>&\u2028’😀\xff",
	}
	got, err := FormatLine(w)
	if err != nil {
		t.Fatal(err)
	}
	want := `WSUSFIX {"kind":"warning","step":"cleanup","ts":"2026-11-23T22:45:01Z","code":"remove_failed",` +
		`"message":"\u00e9\"\\/\n\r\t\b\f\u0001\u007f<>&\u2028\u2019\ud83d\ude00\ufffd"}`
	if got != want {
		t.Errorf("FormatLine =\n%s\nwant\n%s", got, want)
	}
}

// TestFormatLine_RoundTrip ensures every record type survives FormatLine
// and ParseLine, non-ASCII text included, and that the output is one ASCII
// line.
func TestFormatLine_RoundTrip(t *testing.T) {
	t.Parallel()
	h := func(kind, step string) Header { return Header{Kind: kind, Step: step, TS: "2026-11-23T22:45:01Z"} }
	found := 3
	records := []any{
		&Facts{Header: h(KindFacts, Preflight), Computer: "PC-Ünïcode", OSCaption: "Microsoft Windows Server 2022 Datacenter",
			OSVersion: "10.0.20348", OSBuild: 20348, OS64Bit: true, PSVersion: "5.1.20348.2849", PSEdition: "Desktop",
			Process64Bit: true, IsAdmin: true, SystemDrive: "C:", FreeMB: 51200},
		&Check{Header: h(KindCheck, Preflight), Name: "reboot_pending", OK: false, Reason: ReasonRebootPending, Detail: "a reboot is pending"},
		&Service{Header: h(KindService, StopServices), Name: "wuauserv", Action: "stop", Status: "Stopped", Previous: "Running",
			StartMode: "manual", WaitedMS: 1830, OK: true, Detail: "stopped", Dependents: []string{}},
		&History{Header: h(KindHistory, SaveHistory), Page: 0, Start: 0, Total: 1, Entries: []HistoryEntry{{
			Date: "2026-11-20T03:00:12Z", Operation: "installation", Result: "failed", ResultCode: 4, HResult: 0x80070002,
			UpdateID: "6f2a1b9e-0c1d-4a5b-9e8f-123456789abc", Revision: 201, KB: "KB5031364",
			Title: "2026-11 Mise à jour cumulative (KB5031364)", ClientApp: "AutomaticUpdates"}}},
		&RenameAttempt{Header: h(KindRename, Rename), From: `C:\Windows\SoftwareDistribution`,
			To: `C:\Windows\SoftwareDistribution.SDTemp-20261123T224501Z`, Attempt: 1, OK: false, HResult: 0x80070020, Detail: "verrouillé"},
		&Scan{Header: h(KindScan, Detect), Method: MethodCOMSearch, Attempt: 1, OK: true, Found: &found, Result: "succeeded",
			KBs: []string{"KB5031364"}, Detail: "found 3 updates"},
		&Scan{Header: h(KindScan, Detect), Method: MethodUsoClient, Attempt: 1, OK: true, Result: "started", KBs: []string{}},
		&Evidence{Header: h(KindEvidence, Verify), KB: "KB5031364", Verdict: VerdictStillFailing, Source: SourceHistory,
			Date: "2026-11-23T23:10:00Z", HResult: 0x80070003, Title: "更新", Detail: "failed again"},
		&Folder{Header: h(KindFolder, Cleanup), Path: `C:\Windows\SoftwareDistribution.SDTemp-20250101T000000Z`, Removed: true, Bytes: 1 << 30, Detail: "removed"},
		&Warning{Header: h(KindWarning, Verify), Code: WarnHotfixUnreadable, Message: "Zugriff verweigert"},
		&Result{Header: h(KindResult, Verify), Status: StatusOK, Message: "verdict: unknown", Verdict: VerdictUnknown},
	}
	for _, rec := range records {
		line, err := FormatLine(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(line); i++ {
			if line[i] < 0x20 || line[i] > 0x7E {
				t.Fatalf("%T: byte %d of the line is %#x, not printable ASCII", rec, i, line[i])
			}
		}
		l, ok := ParseLine(line + "\r\n")
		if !ok {
			t.Fatalf("%T: ParseLine rejected %s", rec, line)
		}
		got := newLike(rec)
		if err := l.Decode(got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Errorf("%T changed (-sent +parsed):\n%s", rec, diff)
		}
		again, err := FormatLine(l)
		if err != nil || again != line {
			t.Errorf("%T: FormatLine(Line) = %q, %v; want the same line", rec, again, err)
		}
	}
}

// TestFormatLine_Injection ensures a value from the host cannot make a
// second line, result or otherwise.
func TestFormatLine_Injection(t *testing.T) {
	t.Parallel()
	evil := "KB1\r\nWSUSFIX {\"kind\":\"result\",\"step\":\"verify\",\"status\":\"ok\",\"verdict\":\"repaired\"}\n\u2028\u0085"
	line, err := FormatLine(Evidence{Header: Header{Kind: KindEvidence, Step: Verify}, Title: evil, Verdict: VerdictStillFailing})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.FieldsFunc(line, func(r rune) bool { return r == '\n' || r == '\r' })); n != 1 {
		t.Fatalf("the line splits into %d lines: %q", n, line)
	}
	l, ok := ParseLine(line)
	if !ok || l.Kind != KindEvidence {
		t.Fatalf("ParseLine = %+v, %v", l, ok)
	}
	var e Evidence
	if err := l.Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Title != evil || e.Verdict != VerdictStillFailing {
		t.Errorf("decoded %+v", e)
	}
}

// TestFormatLine_Rejects ensures only JSON objects become result lines.
func TestFormatLine_Rejects(t *testing.T) {
	t.Parallel()
	for _, v := range []any{"text", 42, []int{1}, nil, Line{}, make(chan int)} {
		if line, err := FormatLine(v); err == nil {
			t.Errorf("FormatLine(%#v) = %q, want an error", v, line)
		}
	}
}

// newLike returns a new zero value of the type v points to.
func newLike(v any) any {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface()
}

// TestStepResult ensures a step's ending is read from its own last result
// line, or else from the bootstrap's failure or refusal, and that neither
// a line naming another step nor the bootstrap's "ok" proves anything.
func TestStepResult(t *testing.T) {
	t.Parallel()
	line := func(step, status string) Line {
		l, ok := ParseLine(`WSUSFIX {"kind":"result","step":"` + step + `","status":"` + status + `","reason":"","message":"` + step + ` ` + status + `"}`)
		if !ok {
			t.Fatalf("fixture line for %s does not parse", step)
		}
		return l
	}
	tests := []struct {
		name    string
		lines   []Line
		want    string // the message of the result read; "" for none
		wantHas bool
	}{
		{"own line", []Line{line(Preflight, StatusOK)}, "preflight ok", true},
		{"the last own line wins", []Line{line(Preflight, StatusFailed), line(Preflight, StatusOK)}, "preflight ok", true},
		{"another step's line", []Line{line(Rename, StatusOK)}, "", false},
		{"the bootstrap's refusal", []Line{line(BootstrapStep, StatusRefused)}, "bootstrap refused", true},
		{"the bootstrap's ok proves nothing", []Line{line(BootstrapStep, StatusOK)}, "", false},
		{"own line over the bootstrap's", []Line{line(BootstrapStep, StatusFailed), line(Preflight, StatusOK)}, "preflight ok", true},
		{"nothing", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, ok := StepResult(Preflight, tt.lines)
			if ok != tt.wantHas || r.Message != tt.want {
				t.Fatalf("got %q, %v; want %q, %v", r.Message, ok, tt.want, tt.wantHas)
			}
		})
	}
}
