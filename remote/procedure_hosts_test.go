package remote_test

import (
	"strings"
	"testing"

	"wsusfix/remote"
	"wsusfix/sim"
)

// The tests of this file run the procedure, through the real WinRM client,
// against simulated hosts that show the Windows behaviours of
// sim/hostfaults.go, and check what the run page would tell a user.

// windowsHost picks a fresh failing host and gives it the fault.
func (f *fleet) windowsHost(t *testing.T, used map[string]bool, fault sim.Fault) sim.Host {
	t.Helper()
	h := f.failingHost(t, used, 0x80070002, 0x80070003)
	used[h.Name] = true
	f.srv.SetFault(h.Name, fault)
	return h
}

// TestProcedure_ConstrainedLanguage ensures a host whose PowerShell runs in
// Constrained Language Mode is refused by the bootstrap with a plain
// reason, for Check and Repair alike, and nothing changes on it.
func TestProcedure_ConstrainedLanguage(t *testing.T) {
	f := newFleet(t, 120)
	used := map[string]bool{}
	for _, procedure := range []string{remote.ProcedureCheck, remote.ProcedureRepair} {
		t.Run(procedure, func(t *testing.T) {
			h := f.windowsHost(t, used, sim.FaultConstrainedLanguage)
			sink := &memSink{}
			res := f.repair(t, t.Context(), h, procedure, sink)
			if res.State != "failed" || res.Outcome != "refused" ||
				!strings.Contains(res.Summary, "PowerShell runs in Constrained Language Mode on this host") {
				t.Fatalf("got %+v; steps %v", res, sink.finished())
			}
			st, _ := f.srv.HostState(h.Name)
			if len(st.Backups) != 0 || !st.SoftwareDistribution || sink.finished()[remote.StepStopServices] != "" {
				t.Fatalf("a refused host was changed: backups %v, steps %v", st.Backups, sink.finished())
			}
		})
	}
}

// output is everything a step printed for people, one line each.
func (m *memSink) output(step string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, ev := range m.events {
		if ev.Kind == remote.KindOutput && ev.Step == step {
			b.WriteString(ev.Text + "\n")
		}
	}
	return b.String()
}

// TestProcedure_PreflightWarnsOrRefuses ensures preflight refuses only on
// what makes a rename unsafe (a busy installer, a reboot Windows asked
// for), and on signs that many healthy hosts show (PendingFileRenameOperations
// alone, an idle TrustedInstaller) warns and lets the repair go on.
func TestProcedure_PreflightWarnsOrRefuses(t *testing.T) {
	f := newFleet(t, 200)
	used := map[string]bool{}
	tests := []struct {
		fault            sim.Fault
		state, outcome   string
		warning, summary string
	}{
		{sim.FaultPendingRenames, "succeeded", "repaired", "Warning: PendingFileRenameOperations holds 3 entries", ""},
		{sim.FaultTrustedInstallerIdle, "succeeded", "repaired", "Warning: TrustedInstaller (pid ", ""},
		{sim.FaultInstallerBusy, "failed", "refused", "", "Preflight refused the repair: busy: TiWorker (pid "},
		{sim.FaultRebootPending, "failed", "refused", "", `Preflight refused the repair: a reboot is pending: WindowsUpdate\Auto Update\RebootRequired`},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			h := f.windowsHost(t, used, tt.fault)
			sink := &memSink{}
			res := f.repair(t, t.Context(), h, remote.ProcedureRepair, sink)
			if res.State != tt.state || res.Outcome != tt.outcome || !strings.HasPrefix(res.Summary, tt.summary) {
				t.Fatalf("got %s/%s %q, want %s/%s %q…; steps %v", res.State, res.Outcome, res.Summary,
					tt.state, tt.outcome, tt.summary, sink.finished())
			}
			if out := sink.output(remote.StepPreflight); !strings.Contains(out, tt.warning) {
				t.Errorf("preflight output lacks %q:\n%s", tt.warning, out)
			}
			if sink.finished()[remote.StepPreflight] == "ok" && tt.state == "failed" {
				t.Error("preflight passed a host it should refuse")
			}
		})
	}
}

// TestProcedure_DoSvcBestEffort ensures a Delivery Optimization service
// that will not stop is a warning, not a failure: the repair goes on to a
// verdict, and every update service runs afterwards.
func TestProcedure_DoSvcBestEffort(t *testing.T) {
	f := newFleet(t, 120)
	var h sim.Host
	for _, c := range f.fleet.Hosts {
		st, _ := f.srv.HostState(c.Name)
		if c.Fault == sim.FaultNone && (c.Failure() == 0x80070002 || c.Failure() == 0x80070003) && st.Service("DoSvc") != nil {
			h = c
			break
		}
	}
	if h.Name == "" {
		t.Fatal("no failing host with Delivery Optimization")
	}
	f.srv.SetFault(h.Name, sim.FaultDoSvcStuck)
	sink := &memSink{}
	res := f.repair(t, t.Context(), h, remote.ProcedureRepair, sink)
	if res.State != "succeeded" || res.Outcome != "repaired" {
		t.Fatalf("got %+v; steps %v", res, sink.finished())
	}
	if sink.finished()[remote.StepStopServices] != "ok" {
		t.Fatalf("stop-services %q, want ok with a warning", sink.finished()[remote.StepStopServices])
	}
	if out := sink.output(remote.StepStopServices); !strings.Contains(out, "Warning: DoSvc did not stop") {
		t.Errorf("stop-services output lacks the DoSvc warning:\n%s", out)
	}
	// The rename does not wait for DoSvc again.
	if out := sink.output(remote.StepRename); strings.Contains(out, "DoSvc") {
		t.Errorf("the rename waited for DoSvc again:\n%s", out)
	}
	if !f.servicesRunning(t, h.Name) {
		t.Fatal("update services left stopped")
	}
}

// TestProcedure_TriggerStartBetweenSteps ensures a wuauserv that a trigger
// starts between stop-services and rename is stopped again before the
// first attempt, so the rename succeeds at once rather than after a
// failed attempt and a retry.
func TestProcedure_TriggerStartBetweenSteps(t *testing.T) {
	f := newFleet(t, 120)
	h := f.windowsHost(t, map[string]bool{}, sim.FaultTriggerStart)
	sink := &memSink{}
	res := f.repair(t, t.Context(), h, remote.ProcedureRepair, sink)
	if res.State != "succeeded" || res.Outcome != "repaired" {
		t.Fatalf("got %+v; steps %v", res, sink.finished())
	}
	out := sink.output(remote.StepRename)
	if !strings.Contains(out, "wuauserv: stopped") || !strings.Contains(out, "Renamed on attempt 1.") || strings.Contains(out, "failed") {
		t.Fatalf("rename did not stop the restarted wuauserv before its first attempt:\n%s", out)
	}
}
