package sim

import (
	"context"
	"encoding/base64"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/remote/scripts"
)

// TestScripts_NotTheBootstrap ensures powershell.exe with any other command
// line fails like PowerShell: a CLIXML error record on stderr, exit 1.
func TestScripts_NotTheBootstrap(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(1), Options{})
	c := newClient(t, s, "HOST-0001")
	enc := func(script string) string {
		var b []byte
		for _, r := range script {
			b = append(b, byte(r), 0)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct{ cmd, term string }{
		{"powershell -NoProfile -Command Get-Foo -Bar", "Get-Foo"},
		{"powershell.exe -NoProfile -NonInteractive -EncodedCommand " + enc("Stop-Service wuauserv"), "Stop-Service"},
		{"pwsh -c Remove-Item x", "Remove-Item"},
		{strings.Replace(scripts.Bootstrap, "-NoProfile", "-NoProfil", 1), ""},
	}
	clixml := regexp.MustCompile(`^#< CLIXML\r\n<Objs Version="1\.1\.0\.1" xmlns="http://schemas\.microsoft\.com/powershell/2004/04">` +
		`<Obj S="progress" RefId="0">.*?</Obj>(<S S="Error">[^<>]+_x000D__x000A_</S>)+</Objs>\r\n$`)
	for _, tt := range tests {
		t.Run(tt.cmd[:min(len(tt.cmd), 40)], func(t *testing.T) {
			stdout, stderr, code, err := runCmd(t, c, tt.cmd)
			if err != nil || code != 1 || stdout != "" || !clixml.MatchString(stderr) {
				t.Fatalf("= %q, %q, %d, %v", stdout, stderr, code, err)
			}
			if tt.term != "" && !strings.Contains(stderr, `<S S="Error">`+tt.term+" : The term '"+tt.term+"' is not") {
				t.Errorf("stderr %q does not name %s", stderr, tt.term)
			}
		})
	}
}

// TestScripts_Bootstrap ensures the bootstrap's own answers are the bytes
// bootstrap.ps1 prints, for a bad payload, an old PowerShell and a script
// the simulator does not know.
func TestScripts_Bootstrap(t *testing.T) {
	t.Parallel()
	literal := map[string]string{}
	for _, m := range regexp.MustCompile(`'(WSUSFIX \{[^']*\})'`).FindAllStringSubmatch(scripts.BootstrapScript(), -1) {
		l, _ := scripts.ParseLine(m[1])
		var r scripts.Result
		_ = l.Decode(&r)
		literal[r.Reason+r.Message] = m[1]
	}
	s := startScriptServer(t, testFleet(2), Options{})
	c := newScriptClient(t, s, "HOST-0001")
	payload, _ := scripts.Payload(scripts.Preflight, nil)
	tampered := strings.Replace(string(payload), "Preflight passed.", "Preflight passed!", 1)

	tests := []struct {
		name, stdin string
		old, clm    bool
		code        int
		key         string
	}{
		{"one line", "e30=\n", false, false, scripts.ExitBadParams, "bad_payloadstdin did not hold parameters and a script"},
		{"tampered script", tampered, false, false, scripts.ExitUnexpected, "unexpected_errorthe step stopped on an error it did not handle; see its output"},
		{"PowerShell 2.0", string(payload), true, false, scripts.ExitRefused, "ps_too_oldPowerShell 3.0 or later is required"},
		{"Constrained Language Mode", string(payload), false, true, scripts.ExitRefused, "constrained_language" + scripts.ConstrainedLanguageMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := s.Machine("HOST-0001")
			m.Update(func(st *HostState) {
				st.PSVersion = "5.1.26100.2033"
				if tt.old {
					st.PSVersion = "2.0"
				}
				st.ConstrainedLanguage = tt.clm
			})
			o := runPayload(t, c, tt.stdin)
			want, ok := literal[tt.key]
			if !ok {
				t.Fatalf("bootstrap.ps1 has no line for %q", tt.key)
			}
			// The bootstrap's own words come first on stdout; stderr stays
			// PowerShell's alone.
			got := o.stdout
			if tt.code == scripts.ExitUnexpected {
				first, rest, _ := strings.Cut(got, "\r\n")
				if !strings.HasPrefix(first, "wsusfix bootstrap: ") {
					t.Errorf("stdout does not start with the bootstrap's error: %q", o.stdout)
				}
				got = rest
			}
			if o.code != tt.code || got != want+"\r\n" || o.stderr != "" {
				t.Errorf("= %d %q (stderr %q), want %d %q and no stderr", o.code, o.stdout, o.stderr, tt.code, want+"\r\n")
			}
		})
	}
}

// TestScripts_BadParams ensures parameters the scripts refuse end with
// bad_params and exit 3, except in cleanup, which never fails.
func TestScripts_BadParams(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(1), Options{})
	c := newScriptClient(t, s, "HOST-0001")
	o := runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: "2026-11-23"})
	expectResult(t, o, scripts.ExitBadParams, scripts.StatusFailed, scripts.ReasonBadParams)
	o = runScript(t, c, scripts.StopServices, scripts.StopServicesParams{Services: []string{"wuauserv", "a;b"}})
	expectResult(t, o, scripts.ExitBadParams, scripts.StatusFailed, scripts.ReasonBadParams)

	payload, _ := scripts.Payload(scripts.Cleanup, nil)
	_, rest, _ := strings.Cut(string(payload), "\n")
	o = runPayload(t, c, base64.StdEncoding.EncodeToString([]byte(`{"keep":"x"}`))+"\n"+rest)
	expectResult(t, o, 0, scripts.StatusOK, scripts.ReasonIncomplete)
	if w := records[scripts.Warning](t, o, scripts.KindWarning); len(w) != 1 || w[0].Code != scripts.ReasonBadParams {
		t.Errorf("warnings %+v", w)
	}
}

// lineWatcher is an io.Writer that signals once a line containing want has
// been written.
type lineWatcher struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

// String returns what was written so far.
func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Write records p and signals when the awaited text has arrived.
func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestScripts_CancelStop ensures a stop-services cancelled part-way ends
// promptly and leaves every service Running or Stopped (the stop Windows
// had accepted completes), so start-services brings the host back.
func TestScripts_CancelStop(t *testing.T) {
	t.Parallel()
	// A stop takes 0.6 to 2 s here, far longer than the cancellation needs
	// to arrive, so the run is cut while wuauserv stops.
	s := startScriptServer(t, testFleet(3), Options{ScriptTimeScale: 2})
	c := newScriptClient(t, s, win2022)
	payload, _ := scripts.Payload(scripts.StopServices, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := &lineWatcher{want: "Stopping wuauserv, BITS, DoSvc", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, scripts.Bootstrap, payload, w, io.Discard)
		done <- err
	}()
	select {
	case <-w.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("stop-services never started")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not end after cancellation")
	}
	deadline := time.Now().Add(2 * time.Second)
	var st HostState
	for {
		st, _ = s.HostState(win2022)
		settled := true
		for _, svc := range st.Services {
			settled = settled && (svc.Status == StatusRunning || svc.Status == StatusStopped)
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("services still changing: %+v", st.Services)
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := map[string]string{"wuauserv": StatusStopped, "BITS": StatusRunning, "DoSvc": StatusRunning,
		"CryptSvc": StatusRunning, "UsoSvc": StatusRunning}
	if diff := cmp.Diff(want, statuses(st)); diff != "" {
		t.Errorf("after cancel (-want +got):\n%s", diff)
	}
	if out := w.String(); strings.Contains(out, scripts.Tag) {
		t.Errorf("a cancelled run printed result lines:\n%s", out)
	}
	o := runScript(t, c, scripts.StartServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	st, _ = s.HostState(win2022)
	for name, status := range statuses(st) {
		if status != StatusRunning {
			t.Errorf("%s is %s after start-services", name, status)
		}
	}
}

// TestScripts_OutputOverTime ensures a script's output reaches the client
// over several Receives while it runs, as the dashboard streams it.
func TestScripts_OutputOverTime(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{ScriptTimeScale: 0.2})
	c := newScriptClient(t, s, win2022)
	before := s.Counters(win2022).Requests[ActionReceive]
	o := runScript(t, c, scripts.StopServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	if n := s.Counters(win2022).Requests[ActionReceive] - before; n < 3 {
		t.Errorf("%d Receives, want the output spread over several", n)
	}
}
