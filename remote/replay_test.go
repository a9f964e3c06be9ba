package remote_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim/replay"
	"wsusfix/store/run"
)

// replayHost and clientFor are remotetest's.
var (
	replayHost = remotetest.ReplayHost
	clientFor  = remotetest.ClientFor
)

// actions lists the requests' actions in order.
func actions(rs *replay.Server) string {
	var out []string
	for _, r := range rs.Requests() {
		out = append(out, r.Action)
	}
	return strings.Join(out, ",")
}

// TestReplay_Session ensures the client reads real Windows answers: output
// and exit codes, stderr, UTF-8, Receives that time out before Done, and
// that it terminates each command after Done and deletes the shell.
func TestReplay_Session(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cassette       string
		cmd            string
		stdout, stderr string
		code           int
		sequence       string
	}{
		{"test_winrs_standard.yml", "cmd.exe /c echo hi", "hi", "", 0, "Create,Command,Receive,Signal,Delete"},
		{"test_winrs_stderr_rc.yml", "cmd.exe /c echo out && echo err>&2 && exit 1", "out ", "err ", 1, "Create,Command,Receive,Signal,Delete"},
		{"test_winrs_unicode.yml", "powershell.exe Write-Host こんにちは", "こんにちは", "", 0, "Create,Command,Receive,Signal,Delete"},
		{"test_winrs_operation_timeout.yml", "powershell.exe Write-Host hi; Start-Sleep 30", "hi|hi again", "", 0,
			"Create,Command,Receive,Receive,Receive,Receive,Signal,Delete"},
	}
	for _, tt := range tests {
		t.Run(tt.cassette, func(t *testing.T) {
			c, target, rs := replayHost(t, tt.cassette)
			s, err := c.Open(t.Context(), target)
			if err != nil {
				t.Fatal(err)
			}
			out, code, err := runCommand(t, s, t.Context(), tt.cmd, nil)
			if err != nil || code != tt.code {
				t.Fatalf("exit %d, %v", code, err)
			}
			if got := strings.Join(out.get(remote.Stdout), "|"); got != tt.stdout {
				t.Errorf("stdout %q, want %q", got, tt.stdout)
			}
			if got := strings.Join(out.get(remote.Stderr), "|"); got != tt.stderr {
				t.Errorf("stderr %q, want %q", got, tt.stderr)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := actions(rs); got != tt.sequence {
				t.Errorf("requests %s, want %s", got, tt.sequence)
			}
		})
	}
}

// TestReplay_Stdin ensures stdin goes as the recorded Windows client sent
// it: a pipe (WINRS_CONSOLEMODE_STDIN=FALSE) and End on the last chunk,
// one Send for a payload that fits.
func TestReplay_Stdin(t *testing.T) {
	t.Parallel()
	c, target, rs := replayHost(t, "test_winrs_send.yml")
	s, err := c.Open(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, code, err := runCommand(t, s, t.Context(), "powershell.exe -", []byte(`Write-Host "output 1"; Write-Host "output 2";`))
	if err != nil || code != 0 || strings.Join(out.get(remote.Stdout), "|") != "output 1|output 2" {
		t.Fatalf("%v, %d, %v", out.get(remote.Stdout), code, err)
	}
	var sends int
	for _, r := range rs.Requests() {
		switch r.Action {
		case replay.Command:
			if !strings.Contains(r.Body, `Name="WINRS_CONSOLEMODE_STDIN">FALSE<`) {
				t.Errorf("Command does not pipe stdin: %s", r.Body)
			}
		case replay.Send:
			sends++
			if !strings.Contains(r.Body, `End="true"`) {
				t.Errorf("the only Send lacks End: %s", r.Body)
			}
		}
	}
	if sends != 1 {
		t.Errorf("%d Sends, want 1", sends)
	}
}

// TestReplay_Faults ensures real fault answers come back as what they are.
func TestReplay_Faults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cassettes []string
		want      error
		fault     string
	}{
		{[]string{"test_winrs_bad_cmd_id.yml"}, remote.ErrCommandGone, "command identifier that does not exist"},
		{[]string{"test_winrs_fail_poll_process.yml", "test_winrs_standard.yml"}, remote.ErrInvalidParameter, "The parameter is incorrect."},
	}
	for _, tt := range tests {
		t.Run(tt.cassettes[0], func(t *testing.T) {
			c, target, _ := replayHost(t, tt.cassettes...)
			s, err := c.Open(t.Context(), target)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, _, err = runCommand(t, s, t.Context(), "cmd.exe /c echo hi", nil)
			var re *remote.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &re) || !strings.Contains(re.Fault, tt.fault) {
				t.Fatalf("got %v, want %v with %q", err, tt.want, tt.fault)
			}
		})
	}
}

// TestReplay_Check ensures a Check against a real Windows host that
// answers our step with plain output and exit 0 (the recorded "hi") fails,
// and says the step reported no result, instead of passing.
func TestReplay_Check(t *testing.T) {
	t.Parallel()
	c, target, rs := replayHost(t, "test_winrs_standard.yml", "test_winrs_send.yml")
	sink := &memSink{}
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureCheck, Target: target}
	res := repair.RunFunc(c, remotetest.FastProcedure)(t.Context(), job, sink)
	if res.State != run.StateFailed || !strings.Contains(res.Summary, "reported no result") || strings.Contains(res.Summary, "Preflight passed") || strings.Contains(res.Summary, "history entries were saved") {
		t.Fatalf("check against recorded Windows answers: %+v", res)
	}
	ev, ok := sink.FinishedEvent(run.StepPreflight)
	if !ok || ev.Status != "failed" {
		t.Fatalf("preflight %+v", ev)
	}
	if !sink.Printed(run.StepPreflight, "hi") {
		t.Error("the host's own output is not in the log")
	}
	if got := actions(rs); got != "Create,Command,Send,Receive,Signal,Delete" {
		t.Errorf("requests %s", got)
	}
}

// TestReplay_RefreshHistory ensures Refresh history, against recorded
// Windows answers that run a command but print no result line of ours,
// fails its save-history step as "reported no result", stores no history,
// keeps the host's own output in the log, and runs no preflight: the
// procedure is connect and save-history alone.
func TestReplay_RefreshHistory(t *testing.T) {
	t.Parallel()
	c, target, rs := replayHost(t, "test_winrs_standard.yml", "test_winrs_send.yml")
	sink := &memSink{}
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureHistory, Target: target}
	res := repair.RunFunc(c, remotetest.FastProcedure)(t.Context(), job, sink)
	if res.State != run.StateFailed || !strings.Contains(res.Summary, "reported no result") {
		t.Fatalf("refresh history against recorded Windows answers: %+v", res)
	}
	if ev, ok := sink.FinishedEvent(run.StepSaveHistory); !ok || ev.Status != "failed" {
		t.Fatalf("save-history %+v", ev)
	}
	if _, ok := sink.FinishedEvent(run.StepPreflight); ok {
		t.Error("a preflight ran; Refresh history has none")
	}
	if h := sink.History(); len(h) != 0 {
		t.Errorf("history stored from a host that reported none: %+v", h)
	}
	if !sink.Printed(run.StepSaveHistory, "hi") {
		t.Error("the host's own output is not in the log")
	}
	if got := actions(rs); got != "Create,Command,Send,Receive,Signal,Delete" {
		t.Errorf("requests %s", got)
	}
}

// TestReplay_StdinChunksAndRefusedSend ensures stdin past one envelope goes
// as several Sends with End only on the last, answered with the recorded
// SendResponse, and that a Send the host refuses (here with the recorded
// InvalidParameter fault) fails the command with ErrStdin, the host's own
// words kept, instead of running it without its input.
func TestReplay_StdinChunksAndRefusedSend(t *testing.T) {
	t.Parallel()
	c, target, rs := replayHost(t, "test_winrs_send.yml")
	s, err := c.Open(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := runCommand(t, s, t.Context(), "powershell.exe -", make([]byte, 300_000)); err != nil {
		t.Fatal(err)
	}
	var ends []bool
	for _, r := range rs.Requests() {
		if r.Action == replay.Send {
			ends = append(ends, strings.Contains(r.Body, `End="true"`))
		}
	}
	if !slices.Equal(ends, []bool{false, false, true}) {
		t.Fatalf("300,000 bytes went as Sends with End %v, want three, End on the last", ends)
	}

	fault, err := replay.Load(filepath.Join("..", "sim", "testdata", "winrm-captures", "test_winrs_fail_poll_process.yml"))
	if err != nil {
		t.Fatal(err)
	}
	refused := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "/windows/shell/Send<") {
			// Windows' own fault body, from the capture, for the Send.
			w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, fault.Answer(replay.Receive))
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		rs.ServeHTTP(w, r)
	}))
	t.Cleanup(refused.Close)
	c2, target2 := clientFor(t, refused)
	s2, err := c2.Open(t.Context(), target2)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	_, _, err = runCommand(t, s2, t.Context(), "powershell.exe -", []byte("payload"))
	var re *remote.Error
	if !errors.Is(err, remote.ErrStdin) || !errors.As(err, &re) || !strings.Contains(re.Fault, "The parameter is incorrect.") {
		t.Fatalf("refused Send: %v", err)
	}
}
