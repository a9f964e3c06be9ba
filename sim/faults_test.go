package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

// TestFaults_CreateRefused ensures access-denied and quota hosts refuse the
// shell as Windows does, and what a caller of the real client observes: an
// *ExecuteCommandError whose Body holds the WSManFault code.
func TestFaults_CreateRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	s.SetFault("HOST-0001", FaultAccessDenied)
	s.SetFault("HOST-0002", FaultQuota)
	tests := []struct {
		host, wantCode, wantText string
	}{
		{"HOST-0001", "5", "Access is denied."},
		{"HOST-0002", "2150859173", "maximum number of 30 concurrent shells"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			c := newClient(t, s, tt.host)
			_, err := c.CreateShell()
			var ece *winrm.ExecuteCommandError
			if !errors.As(err, &ece) || faultCode(ece.Body) != tt.wantCode || !strings.Contains(ece.Body, tt.wantText) {
				t.Fatalf("CreateShell: err = %v", err)
			}
			if _, _, code, err := runCmd(t, c, "hostname"); err == nil || code != 1 {
				t.Errorf("run: code %d, err %v; want 1 and an error", code, err)
			}
			if got := s.Counters(tt.host); got.Faults != 2 || got.ShellsCreated != 0 {
				t.Errorf("counters %+v; want 2 faults, no shell", got)
			}
		})
	}
}

// TestFaults_ShellQuota ensures a user gets 30 shells per host and no more,
// and that closing one makes room again.
func TestFaults_ShellQuota(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	c := newClient(t, s, "HOST-0001")
	var shells []*winrm.Shell
	for i := range 30 {
		sh, err := c.CreateShell()
		if err != nil {
			t.Fatalf("shell %d: %v", i+1, err)
		}
		shells = append(shells, sh)
	}
	_, err := c.CreateShell()
	var ece *winrm.ExecuteCommandError
	if !errors.As(err, &ece) || faultCode(ece.Body) != "2150859173" {
		t.Fatalf("shell 31: err = %v, want the quota fault", err)
	}
	if got := s.Counters("HOST-0001").ShellsOpen; got != 30 {
		t.Errorf("ShellsOpen = %d, want 30", got)
	}
	if _, _, _, err := runCmd(t, newClient(t, s, "HOST-0002"), "hostname"); err != nil {
		t.Errorf("the quota is per host, another host refused: %v", err)
	}
	if err := shells[0].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateShell(); err != nil {
		t.Errorf("after closing one shell: %v", err)
	}
}

// TestFaults_ReceiveTimeout ensures a receive-timeout host answers the
// configured number of Receives with TimedOut before output flows, and the
// client still gets everything.
func TestFaults_ReceiveTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{ReceiveTimeouts: 2, MaxOperationTimeout: 50 * time.Millisecond})
	s.SetFault("HOST-0001", FaultReceiveTimeout)
	start := time.Now()
	stdout, _, code, err := runCmd(t, newClient(t, s, "HOST-0001"), "hostname")
	if err != nil || code != 0 || stdout != "HOST-0001\r\n" {
		t.Fatalf("run = (%q, %d, %v)", stdout, code, err)
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Errorf("took %v; two TimedOut Receives should wait the operation timeout each", elapsed)
	}
	got := s.Counters("HOST-0001")
	if got.TimedOut != 2 || got.Requests[ActionReceive] != 3 {
		t.Errorf("TimedOut %d, Receives %d; want 2, 3", got.TimedOut, got.Requests[ActionReceive])
	}
}

// TestFaults_TimedOutWithoutOutput ensures a command that stays silent
// longer than the OperationTimeout makes Receives answer TimedOut (with
// "OperationTimeout" in the text, which masterzen/winrm retries on).
func TestFaults_TimedOutWithoutOutput(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{MaxOperationTimeout: 30 * time.Millisecond})
	s.Handle("pause", func(ctx context.Context, c *Cmd) int {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
		fmt.Fprint(c.Stdout, "awake\r\n")
		return 0
	})
	stdout, _, _, err := runCmd(t, newClient(t, s, "HOST-0001"), "pause")
	if err != nil || stdout != "awake\r\n" {
		t.Fatalf("run = (%q, %v)", stdout, err)
	}
	if got := s.Counters("HOST-0001").TimedOut; got < 2 {
		t.Errorf("TimedOut = %d, want at least 2", got)
	}
	r := newRaw(t, s, "HOST-0001")
	shellID, _ := r.create()
	cmdID, _ := r.command(shellID, "pause")
	if status, body := r.receive(shellID, cmdID); status != 500 || faultCode(body) != "2150858793" || !strings.Contains(body, "OperationTimeout") {
		t.Errorf("silent Receive: %d %s", status, body)
	}
}

// TestFaults_DropConnection ensures a drop-connection host closes the
// connection mid-command after some output: the client gets the output so
// far, an EOF error and masterzen's exit code 16001.
func TestFaults_DropConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	s.SetFault("HOST-0001", FaultDropConnection)
	stdout, _, code, err := runCmd(t, newClient(t, s, "HOST-0001"), "hostname")
	if err == nil || !strings.Contains(err.Error(), "EOF") || code != 16001 {
		t.Errorf("run: code %d, err %v; want 16001 and EOF", code, err)
	}
	if stdout != "HOST-0001\r\n" {
		t.Errorf("stdout %q, want the output before the drop", stdout)
	}
	if got := s.Counters("HOST-0001").Dropped; got != 1 {
		t.Errorf("Dropped = %d, want 1", got)
	}
}

// TestFaults_Unreachable ensures an unreachable host refuses connections,
// also when the fault is set while a client is connected, and recovers
// when cleared.
func TestFaults_Unreachable(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	c := newClient(t, s, "HOST-0001")
	if _, _, _, err := runCmd(t, c, "hostname"); err != nil {
		t.Fatal(err)
	}
	s.SetFault("HOST-0001", FaultUnreachable)
	if _, _, _, err := runCmd(t, c, "hostname"); err == nil {
		t.Error("run on an unreachable host succeeded")
	}
	if _, err := s.DialContext(t.Context(), "tcp", "host-0001:5985"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial: %v, want ECONNREFUSED", err)
	}
	s.SetFault("HOST-0001", FaultNone)
	if _, _, _, err := runCmd(t, c, "hostname"); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
}

// TestFaults_Slow ensures a slow host delays every request while the rest
// of the fleet stays fast.
func TestFaults_Slow(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{SlowLatency: 40 * time.Millisecond, SlowJitter: 10 * time.Millisecond})
	s.SetFault("HOST-0001", FaultSlow)
	timed := func(host string) time.Duration {
		start := time.Now()
		if _, _, _, err := runCmd(t, newClient(t, s, host), "hostname"); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	slow, fast := timed("HOST-0001"), timed("HOST-0002")
	// Create, Command, Receive, Signal, Delete: at least five delays.
	if slow < 5*40*time.Millisecond || fast >= slow/2 {
		t.Errorf("slow host %v, fast host %v", slow, fast)
	}
}

// TestFaults_StateFaults ensures the faults meant for the repair scripts are
// stored on the host state, change at run time, and leave the transport
// alone.
func TestFaults_StateFaults(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	tests := []struct {
		fault       Fault
		check       func(HostState) bool
		description string
	}{
		{FaultServiceStuck, func(st HostState) bool { return st.StuckService == "wuauserv" }, "StuckService wuauserv"},
		{FaultFolderLocked, func(st HostState) bool { return st.LockedRenames > 0 }, "LockedRenames > 0"},
		{FaultNotFixable, func(st HostState) bool { return !st.Fixable }, "not Fixable"},
		{FaultRebootPending, func(st HostState) bool { return st.RebootPending }, "RebootPending"},
		{FaultConstrainedLanguage, func(st HostState) bool { return st.ConstrainedLanguage }, "ConstrainedLanguage"},
		{FaultDotNet40, func(st HostState) bool { return st.CLR == "4.0" }, "CLR 4.0"},
		{FaultPendingRenames, func(st HostState) bool { return st.PendingFileRenames > 0 }, "PendingFileRenames"},
		{FaultTrustedInstallerIdle, func(st HostState) bool { return st.TrustedInstallerIdle && st.InstallerBusy == "" }, "TrustedInstallerIdle"},
		{FaultInstallerBusy, func(st HostState) bool { return st.InstallerBusy == "TiWorker" }, "InstallerBusy TiWorker"},
		{FaultDoSvcStuck, func(st HostState) bool { return st.StuckService == "DoSvc" }, "StuckService DoSvc"},
		{FaultTriggerStart, func(st HostState) bool { return st.TriggerStarts > 0 }, "TriggerStarts > 0"},
		{FaultFullScan, func(st HostState) bool { return st.FullScan == FullScanDuration }, "FullScan"},
		{FaultDefinitionUpdate, func(st HostState) bool { return st.AfterScan == AfterScanDefinition }, "AfterScan definition"},
		{FaultDownloadOnly, func(st HostState) bool { return st.AfterScan == AfterScanDownload }, "AfterScan download"},
		{FaultSuperseded, func(st HostState) bool { return st.AfterScan == AfterScanSupersede }, "AfterScan supersede"},
		{FaultNone, func(st HostState) bool {
			return st.Fixable && st.StuckService == "" && st.LockedRenames == 0 && st.Quirks == Quirks{}
		}, "clean"},
	}
	for _, tt := range tests {
		name := string(tt.fault)
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			if !s.SetFault("host-0001.corp.contoso.test", tt.fault) {
				t.Fatal("SetFault: host not found")
			}
			st, _ := s.HostState("HOST-0001")
			if st.Fault != tt.fault || !tt.check(st) {
				t.Errorf("state %+v; want fault %q and %s", st, tt.fault, tt.description)
			}
			if _, _, code, err := runCmd(t, newClient(t, s, "HOST-0001"), "hostname"); err != nil || code != 0 {
				t.Errorf("run: %d %v", code, err)
			}
		})
	}
	if s.SetFault("NOPE", FaultSlow) {
		t.Error("SetFault on an unknown host reported success")
	}
	if len(tests)-1 != len(windowsFaults)+4 {
		t.Errorf("%d state faults tested; every Windows behaviour of hostfaults.go needs a case", len(tests)-1)
	}
}
