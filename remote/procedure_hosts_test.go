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
