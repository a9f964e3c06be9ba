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
