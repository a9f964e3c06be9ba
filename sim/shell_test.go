package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

// faultCode returns the WSManFault Code of a fault answer, or "".
func faultCode(body string) string {
	_, rest, ok := strings.Cut(body, `<f:WSManFault xmlns:f="`+nsFault+`" Code="`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}

// TestShell_Faults ensures malformed or misdirected requests get the SOAP
// fault Windows sends, as HTTP 500.
func TestShell_Faults(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	r := newRaw(t, s, "HOST-0001")
	shellID, _ := r.create()
	cmdID, _ := r.command(shellID, "hostname")
	create := winrm.NewOpenShellRequest(r.url, r.params).String()
	receive := winrm.NewGetOutputRequest(r.url, shellID, cmdID, "stdout stderr", r.params).String()
	signal := winrm.NewSignalRequest(r.url, shellID, cmdID, r.params).String()
	tests := []struct {
		name     string
		body     string
		wantCode string
		wantText string
	}{
		{"XML garbage", "<s:Envelope><unclosed>", "2150858819", "XML is invalid"},
		{"not SOAP", `<Envelope xmlns="urn:x"/>`, "2150858819", "XML is invalid"},
		{"unknown action", strings.Replace(create, "transfer/Create", "transfer/Frobnicate", 1), "2150858771", "action is not supported"},
		{"unknown resource URI", strings.Replace(create, "windows/shell/cmd", "windows/shell/nope", 1), "2150858752", "cannot find the resource"},
		{"bad OperationTimeout", strings.Replace(create, "PT5S", "PT-1S", 1), "2150858767", "PT-1S"},
		{"unknown shell", strings.Replace(receive, shellID, "0DB6A6B6-0000-4000-8000-000000000000", 1), "2150858843", "invalid selectors"},
		{"no shell selector", winrm.NewGetOutputRequest(r.url, "", cmdID, "stdout stderr", r.params).String(), "2150858843", "invalid selectors"},
		{"unknown command", strings.Replace(receive, cmdID, "0DB6A6B6-0000-4000-8000-000000000000", 1), "2150858843", "command identifier that does not exist"},
		{"unknown signal", strings.Replace(signal, "signal/terminate", "signal/explode", 1), "87", "parameter is incorrect"},
		{"command line over 32K", winrm.NewExecuteCommandRequest(r.url, shellID, "echo "+strings.Repeat("x", 33000), nil, r.params).String(), "2147942606", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := r.do(tt.body)
			if status != 500 || faultCode(body) != tt.wantCode || !strings.Contains(body, tt.wantText) {
				t.Errorf("status %d, code %q; want 500, %s with %q\n%s", status, faultCode(body), tt.wantCode, tt.wantText, body)
			}
			if !strings.Contains(body, `<a:Action>`+actionFault+`</a:Action>`) {
				t.Errorf("fault without the fault Action: %s", body)
			}
		})
	}
}

// TestShell_Lifecycle ensures Signal and Delete behave like Windows: Done is
// repeated until terminate, terminate forgets the command, ctrl_c ends it
// but keeps its status, and a deleted shell is gone.
func TestShell_Lifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	s.Handle("wait", func(ctx context.Context, _ *Cmd) int {
		<-ctx.Done()
		return -1073741510 // STATUS_CONTROL_C_EXIT
	})
	r := newRaw(t, s, "HOST-0001")
	shellID, _ := r.create()

	cmdID, _ := r.command(shellID, "hostname")
	r.waitDone(shellID, cmdID)
	for i := range 2 {
		if _, body := r.receive(shellID, cmdID); !strings.Contains(body, "CommandState/Done\"><rsp:ExitCode>0<") {
			t.Errorf("Receive %d after the end: %s", i, body)
		}
	}
	r.mustOK(winrm.NewSignalRequest(r.url, shellID, cmdID, r.params).String())
	if _, body := r.receive(shellID, cmdID); faultCode(body) != "2150858843" {
		t.Errorf("Receive after terminate: %s", body)
	}

	waitID, _ := r.command(shellID, "wait")
	ctrlC := strings.Replace(winrm.NewSignalRequest(r.url, shellID, waitID, r.params).String(), "signal/terminate", "signal/ctrl_c", 1)
	r.mustOK(ctrlC)
	r.waitDone(shellID, waitID)
	if _, body := r.receive(shellID, waitID); !strings.Contains(body, "<rsp:ExitCode>3221225786</rsp:ExitCode>") {
		t.Errorf("Receive after ctrl_c: %s", body)
	}

	r.mustOK(winrm.NewDeleteShellRequest(r.url, shellID, r.params).String())
	if status, body := r.do(winrm.NewDeleteShellRequest(r.url, shellID, r.params).String()); status != 500 || faultCode(body) != "2150858843" {
		t.Errorf("second Delete: %d %s", status, body)
	}
	if got := s.Counters("HOST-0001").ShellsOpen; got != 0 {
		t.Errorf("ShellsOpen = %d after Delete, want 0", got)
	}
}

// TestShell_SkipCmdShell ensures WINRS_SKIP_CMD_SHELL=TRUE runs programs
// without cmd.exe: an unknown program is a Command fault, not cmd's message.
func TestShell_SkipCmdShell(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	r := newRaw(t, s, "HOST-0001")
	shellID, _ := r.create()
	skip := func(cmd string) string {
		return strings.Replace(winrm.NewExecuteCommandRequest(r.url, shellID, cmd, nil, r.params).String(),
			`Name="WINRS_SKIP_CMD_SHELL">FALSE`, `Name="WINRS_SKIP_CMD_SHELL">TRUE`, 1)
	}
	if status, body := r.do(skip("nosuchprogram.exe")); status != 500 || faultCode(body) != "2147942402" {
		t.Errorf("unknown program: %d %s", status, body)
	}
	if status, body := r.do(skip("hostname.exe")); status != 200 || !strings.Contains(body, "CommandResponse") {
		t.Errorf("hostname: %d %s", status, body)
	}
}

// TestShell_UnknownShellThroughClient ensures what a caller of the real
// client sees for a shell that is gone: an *ExecuteCommandError whose Body
// holds the WSManFault.
func TestShell_UnknownShellThroughClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	c := newClient(t, s, "HOST-0001")
	_, err := c.NewShell("0DB6A6B6-0000-4000-8000-000000000000").ExecuteWithContext(t.Context(), "hostname")
	var ece *winrm.ExecuteCommandError
	if !errors.As(err, &ece) || faultCode(ece.Body) != "2150858843" {
		t.Errorf("Execute in an unknown shell: err = %v", err)
	}
}

// TestShell_IdleTimeout ensures leaked shells count against the quota only
// until they idle out.
func TestShell_IdleTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{MaxShellsPerUser: 2, IdleTimeout: 400 * time.Millisecond})
	c := newClient(t, s, "HOST-0001")
	for range 2 {
		if _, err := c.CreateShell(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateShell(); err == nil {
		t.Fatal("third shell allowed with a quota of 2")
	}
	time.Sleep(450 * time.Millisecond)
	if _, err := c.CreateShell(); err != nil {
		t.Errorf("after the idle timeout: %v", err)
	}
	if got := s.Counters("HOST-0001").ShellsOpen; got != 1 {
		t.Errorf("ShellsOpen = %d, want 1", got)
	}
}
