package sim

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"

	"wsusfix/remote/scripts"
)

// createWith opens a shell whose Create carries the given WINRS options in
// place of the library's (WINRS_NOPROFILE=FALSE, WINRS_CODEPAGE=65001); an
// empty value drops the option.
func (r *rawClient) createWith(noProfile, codePage string) (shellID string, status int, body string) {
	r.t.Helper()
	req := winrm.NewOpenShellRequest(r.url, r.params).String()
	for name, value := range map[string]string{"WINRS_NOPROFILE": noProfile, "WINRS_CODEPAGE": codePage} {
		re := regexp.MustCompile(`<w:Option Name="` + name + `">[^<]*</w:Option>`)
		if !re.MatchString(req) {
			r.t.Fatalf("the library's Create has no %s option: %s", name, req)
		}
		repl := ""
		if value != "" {
			repl = `<w:Option Name="` + name + `">` + value + `</w:Option>`
		}
		req = re.ReplaceAllLiteralString(req, repl)
	}
	status, body = r.do(req)
	if m := reShellID.FindStringSubmatch(body); m != nil {
		shellID = m[1]
	}
	return shellID, status, body
}

var reStdout = regexp.MustCompile(`<rsp:Stream Name="stdout" CommandId="[^"]+">([^<]*)</rsp:Stream>`)

// output runs cmd in the shell and returns its stdout bytes as sent.
func (r *rawClient) output(shellID, cmd string) []byte {
	r.t.Helper()
	id, _ := r.command(shellID, cmd)
	r.waitDone(shellID, id)
	status, body := r.receive(shellID, id)
	if status != 200 {
		r.t.Fatalf("receive: %d %s", status, body)
	}
	var out []byte
	for _, m := range reStdout.FindAllStringSubmatch(body, -1) {
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestShell_CodePage ensures output follows the shell's WINRS_CODEPAGE as
// on Windows: UTF-8 under 65001 (test_winrs_unicode.yml), the OEM code page
// 437 without the option, where characters it lacks become '?' and the
// others arrive as bytes a UTF-8 reader cannot read; a code page the
// simulator does not know is refused.
func TestShell_CodePage(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	r := newRaw(t, s, "HOST-0001")
	tests := []struct {
		codePage string
		want     string
	}{
		{"65001", "héllo ✓\r\n"},
		{"", "h\x82llo ?\r\n"},
		{"437", "h\x82llo ?\r\n"},
		{"1252", "h\xe9llo ?\r\n"},
	}
	for _, tt := range tests {
		t.Run("codepage "+tt.codePage, func(t *testing.T) {
			shellID, status, body := r.createWith("FALSE", tt.codePage)
			if status != 200 {
				t.Fatalf("create: %d %s", status, body)
			}
			if got := string(r.output(shellID, "cmd /c echo héllo ✓")); got != tt.want {
				t.Errorf("output %q, want %q", got, tt.want)
			}
		})
	}
	if _, status, body := r.createWith("FALSE", "12345"); status != 500 || !strings.Contains(body, "w:InvalidParameter") {
		t.Errorf("unknown code page: %d %s", status, body)
	}
}

// TestShell_NoProfile ensures WINRS_NOPROFILE is honoured as in the
// captures: with TRUE the profile is not loaded (USERPROFILE is the
// Default profile, TEMP under %windir%, no APPDATA).
func TestShell_NoProfile(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	r := newRaw(t, s, "HOST-0001")
	for _, tt := range []struct {
		noProfile  string
		want, lack string
	}{
		{"TRUE", `USERPROFILE=C:\Users\Default` + "\r\n" + `windir=`, `APPDATA=`},
		{"FALSE", `USERPROFILE=C:\Users\Administrator` + "\r\n", `TEMP=C:\Windows\TEMP`},
	} {
		shellID, status, body := r.createWith(tt.noProfile, "65001")
		if status != 200 {
			t.Fatalf("create: %d %s", status, body)
		}
		env := string(r.output(shellID, "cmd.exe /c set"))
		if !strings.Contains(env, tt.want) || strings.Contains(env, tt.lack) {
			t.Errorf("WINRS_NOPROFILE=%s: set printed\n%s", tt.noProfile, env)
		}
	}
}

// TestReceive_WithoutCommandID ensures a Receive that names no command gets
// Windows' own answer: the cmd plugin's InvalidParameter fault, code 87
// (test_winrs_fail_poll_process.yml), element for element.
func TestReceive_WithoutCommandID(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	r := newRaw(t, s, "HOST-0001")
	shellID, _ := r.create()
	req := winrm.NewGetOutputRequest(r.url, shellID, "", "stdout stderr", r.params).String()
	req = regexp.MustCompile(` CommandId="[^"]*"`).ReplaceAllString(req, "")
	status, body := r.do(req)
	if status != 500 {
		t.Fatalf("status %d: %s", status, body)
	}
	want := captured(t, "test_winrs_fail_poll_process.yml", actionReceive, "w:InvalidParameter")
	if diff := cmp.Diff(outline(t, want), outline(t, body)); diff != "" {
		t.Errorf("differs from Windows (-captured +sim):\n%s", diff)
	}
}

// TestCommand_ConsoleModeStdin ensures the bootstrap sees its payload only
// when stdin is a pipe: masterzen/winrm's Command sends
// WINRS_CONSOLEMODE_STDIN=TRUE, under which powershell.exe's $input holds
// nothing, so the very step the product runs fails bad_payload; the
// product's client (FALSE) gets the step's own result.
func TestCommand_ConsoleModeStdin(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	payload, err := scripts.Payload(scripts.Preflight, scripts.PreflightParams{MinFreeGB: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	stdout, stderr, code, err := newClient(t, s, win2022).RunWithContextWithString(ctx, scripts.Bootstrap, string(payload))
	if err != nil {
		t.Fatal(err)
	}
	expectResult(t, parseOutput(t, stdout, stderr, code), scripts.ExitBadParams, scripts.StatusFailed, scripts.ReasonBadPayload)

	o := runPayload(t, newScriptClient(t, s, win2022), string(payload))
	expectResult(t, o, scripts.ExitOK, scripts.StatusOK, "")
	if o.lines[len(o.lines)-1].Step != scripts.Preflight {
		t.Errorf("result from %q, want preflight", o.lines[len(o.lines)-1].Step)
	}
}
