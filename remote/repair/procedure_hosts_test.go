package repair_test

import (
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// The tests of this file run the procedure, through the real WinRM client,
// against simulated hosts that show the Windows behaviours of
// sim/hostfaults.go, and check what the run page would tell a user.

// windowsHost picks a fresh failing host and gives it the fault.
func windowsHost(t *testing.T, f *fleet, used map[string]bool, fault sim.Fault) sim.Host {
	t.Helper()
	h := f.FailingHost(t, used, 0x80070002, 0x80070003)
	used[h.Name] = true
	f.Srv.SetFault(h.Name, fault)
	return h
}

// TestProcedure_ConstrainedLanguage ensures a host whose PowerShell runs in
// Constrained Language Mode is refused by the bootstrap with a plain
// reason, for Check and Repair alike, and nothing changes on it.
func TestProcedure_ConstrainedLanguage(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	used := map[string]bool{}
	for _, procedure := range []run.Procedure{run.ProcedureCheck, run.ProcedureRepair} {
		t.Run(string(procedure), func(t *testing.T) {
			h := windowsHost(t, f, used, sim.FaultConstrainedLanguage)
			sink := &memSink{}
			res := f.Repair(t, t.Context(), h, procedure, sink)
			if res.State != run.StateFailed || res.Outcome != run.OutcomeRefused ||
				!strings.Contains(res.Summary, "PowerShell runs in Constrained Language Mode on this host") {
				t.Fatalf("got %+v; steps %v", res, sink.Finished())
			}
			st, _ := f.Srv.HostState(h.Name)
			if len(st.Backups) != 0 || !st.SoftwareDistribution || sink.Finished()[run.StepStopServices] != "" {
				t.Fatalf("a refused host was changed: backups %v, steps %v", st.Backups, sink.Finished())
			}
		})
	}
}

// TestProcedure_PreflightWarnsOrRefuses ensures preflight refuses only on
// what makes a rename unsafe (a busy installer, a reboot Windows asked
// for), and on signs that many healthy hosts show (PendingFileRenameOperations
// alone, an idle TrustedInstaller) warns and lets the repair go on.
func TestProcedure_PreflightWarnsOrRefuses(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 200)
	used := map[string]bool{}
	tests := []struct {
		fault            sim.Fault
		state            run.State
		outcome          run.Outcome
		warning, summary string
	}{
		{sim.FaultPendingRenames, run.StateSucceeded, run.OutcomeRepaired, "Warning: PendingFileRenameOperations holds 3 entries", ""},
		{sim.FaultTrustedInstallerIdle, run.StateSucceeded, run.OutcomeRepaired, "Warning: TrustedInstaller (pid ", ""},
		{sim.FaultInstallerBusy, run.StateFailed, run.OutcomeRefused, "", "Preflight refused the repair: busy: TiWorker (pid "},
		{sim.FaultRebootPending, run.StateFailed, run.OutcomeRefused, "", `Preflight refused the repair: a reboot is pending: WindowsUpdate\Auto Update\RebootRequired`},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			h := windowsHost(t, f, used, tt.fault)
			sink := &memSink{}
			res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
			if res.State != tt.state || res.Outcome != tt.outcome || !strings.HasPrefix(res.Summary, tt.summary) {
				t.Fatalf("got %s/%s %q, want %s/%s %q…; steps %v", res.State, res.Outcome, res.Summary,
					tt.state, tt.outcome, tt.summary, sink.Finished())
			}
			if out := sink.Output(run.StepPreflight); !strings.Contains(out, tt.warning) {
				t.Errorf("preflight output lacks %q:\n%s", tt.warning, out)
			}
			if sink.Finished()[run.StepPreflight] == "ok" && tt.state == run.StateFailed {
				t.Error("preflight passed a host it should refuse")
			}
		})
	}
}

// TestProcedure_DoSvcBestEffort ensures a Delivery Optimization service
// that will not stop is a warning, not a failure: the repair goes on to a
// verdict, and every update service runs afterwards.
func TestProcedure_DoSvcBestEffort(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	var h sim.Host
	for _, c := range f.Sim.Hosts {
		st, _ := f.Srv.HostState(c.Name)
		if c.Fault == sim.FaultNone && (c.Failure() == 0x80070002 || c.Failure() == 0x80070003) && st.Service("DoSvc") != nil {
			h = c
			break
		}
	}
	if h.Name == "" {
		t.Fatal("no failing host with Delivery Optimization")
	}
	f.Srv.SetFault(h.Name, sim.FaultDoSvcStuck)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeRepaired {
		t.Fatalf("got %+v; steps %v", res, sink.Finished())
	}
	if sink.Finished()[run.StepStopServices] != "ok" {
		t.Fatalf("stop-services %q, want ok with a warning", sink.Finished()[run.StepStopServices])
	}
	if out := sink.Output(run.StepStopServices); !strings.Contains(out, "Warning: DoSvc did not stop") {
		t.Errorf("stop-services output lacks the DoSvc warning:\n%s", out)
	}
	// The rename does not wait for DoSvc again.
	if out := sink.Output(run.StepRename); strings.Contains(out, "DoSvc") {
		t.Errorf("the rename waited for DoSvc again:\n%s", out)
	}
	if !f.ServicesRunning(t, h.Name) {
		t.Fatal("update services left stopped")
	}
}

// TestProcedure_TriggerStartBetweenSteps ensures a wuauserv that a trigger
// starts between stop-services and rename is stopped again before the
// first attempt, so the rename succeeds at once rather than after a
// failed attempt and a retry.
func TestProcedure_TriggerStartBetweenSteps(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := windowsHost(t, f, map[string]bool{}, sim.FaultTriggerStart)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeRepaired {
		t.Fatalf("got %+v; steps %v", res, sink.Finished())
	}
	out := sink.Output(run.StepRename)
	if !strings.Contains(out, "wuauserv: stopped") || !strings.Contains(out, "Renamed on attempt 1.") || strings.Contains(out, "failed") {
		t.Fatalf("rename did not stop the restarted wuauserv before its first attempt:\n%s", out)
	}
}

// repairJob runs a repair of h with the failing KBs given (nil: none).
func repairJob(t *testing.T, f *fleet, h sim.Host, kbs []string, sink *memSink) runner.Result {
	t.Helper()
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureRepair, Target: remote.Target{Name: h.FQDN}, FailingKBs: kbs}
	return repair.RunFunc(f.Client(t, nil), fastProcedure)(t.Context(), job, sink)
}

// failingKB is the KB of h's newest failed installation.
func failingKB(h sim.Host) string {
	for _, e := range h.History {
		if e.HResult == h.Failure() && e.Result == sim.ResultFailed {
			return e.KB
		}
	}
	return ""
}

// TestProcedure_Verdicts ensures a host counts as repaired only on an
// install after the rename of the update that failed, by KB when the job
// names it, else of an update of the same kind (a newer cumulative update
// that supersedes it): a definition update installing after the rename is
// no evidence, a fresh download is a verdict of its own with a next step,
// and a host whose clock is off the dashboard's is judged by its own.
func TestProcedure_Verdicts(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 250)
	used := map[string]bool{}
	tests := []struct {
		name    string
		fault   sim.Fault
		skew    time.Duration
		named   bool // the job names the failing KB
		outcome run.Outcome
		prefix  string
	}{
		{"install, by KB", sim.FaultNone, 0, true, run.OutcomeRepaired, "Repaired: "},
		{"install, none named", sim.FaultNone, 0, false, run.OutcomeRepaired, "Repaired: "},
		{"definition update only, by KB", sim.FaultDefinitionUpdate, 0, true, run.OutcomeUnknown, "SoftwareDistribution was renamed"},
		{"definition update only, none named", sim.FaultDefinitionUpdate, 0, false, run.OutcomeUnknown, "SoftwareDistribution was renamed"},
		{"downloaded, by KB", sim.FaultDownloadOnly, 0, true, run.OutcomeDownloaded, "Downloaded; install not yet attempted: "},
		{"downloaded, none named", sim.FaultDownloadOnly, 0, false, run.OutcomeDownloaded, "Downloaded; install not yet attempted: "},
		{"superseded, none named", sim.FaultSuperseded, 0, false, run.OutcomeRepaired, "Repaired: "},
		{"superseded, by KB", sim.FaultSuperseded, 0, true, run.OutcomeUnknown, "SoftwareDistribution was renamed"},
		{"host clock 10 minutes behind", sim.FaultNone, -10 * time.Minute, true, run.OutcomeRepaired, "Repaired: "},
		{"host clock 10 minutes ahead", sim.FaultNone, 10 * time.Minute, true, run.OutcomeRepaired, "Repaired: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := windowsHost(t, f, used, tt.fault)
			m, _ := f.Srv.Machine(h.Name)
			m.Update(func(st *sim.HostState) { st.ClockSkew = tt.skew })
			var kbs []string
			if tt.named {
				kbs = []string{failingKB(h)}
			}
			sink := &memSink{}
			res := repairJob(t, f, h, kbs, sink)
			t.Logf("%s/%s: %s", res.State, res.Outcome, res.Summary)
			if res.Outcome != tt.outcome || !strings.HasPrefix(res.Summary, tt.prefix) {
				t.Fatalf("got %s/%s %q, want %s %q…; steps %v", res.State, res.Outcome, res.Summary, tt.outcome, tt.prefix, sink.Finished())
			}
			if tt.outcome == run.OutcomeDownloaded && (res.HostState != "unknown" || !strings.Contains(res.Summary, "Next: ")) {
				t.Errorf("a download claims %q, or says no next step: %q", res.HostState, res.Summary)
			}
			if tt.outcome != run.OutcomeRepaired && res.HostState == "repaired" {
				t.Errorf("host marked repaired on %s", tt.name)
			}
		})
	}
}

// TestProcedure_FullScan ensures the detect step has its own timeout, fit
// for the full scan that follows a reset: a 40-minute first scan completes
// under the default hour, while the old 10-minute step bound would have
// cut it; with a shorter detect timeout the run says the scan is still
// running, is not a failure, and leaves the services running.
func TestProcedure_FullScan(t *testing.T) {
	t.Parallel()
	// Simulated time runs fast, so 40 minutes pass in a blink.
	f := newFleetWith(t, 120, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = 0.0002 })
	used := map[string]bool{}
	repairWith := func(t *testing.T, detect time.Duration) (runner.Result, *memSink, sim.Host) {
		h := windowsHost(t, f, used, sim.FaultFullScan)
		opt := fastProcedure
		opt.DetectTimeout = detect
		job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureRepair, Target: remote.Target{Name: h.FQDN},
			FailingKBs: []string{failingKB(h)}}
		sink := &memSink{}
		return repair.RunFunc(f.Client(t, nil), opt)(t.Context(), job, sink), sink, h
	}
	t.Run("default timeout", func(t *testing.T) {
		res, sink, _ := repairWith(t, 0)
		if res.Outcome != run.OutcomeRepaired {
			t.Fatalf("got %+v; steps %v", res, sink.Finished())
		}
		if out := sink.Output(run.StepDetect); !strings.Contains(out, "Still searching (35 min so far).") {
			t.Errorf("a long scan streamed no sign of life:\n%s", out)
		}
	})
	t.Run("shorter timeout", func(t *testing.T) {
		res, sink, h := repairWith(t, 10*time.Minute)
		if res.State != run.StateSucceeded || res.Outcome != run.OutcomeScanRunning || res.HostState != "unknown" ||
			!strings.Contains(res.Summary, "the scan is still running on the host") || !strings.Contains(res.Summary, "check again later") {
			t.Fatalf("got %+v; steps %v", res, sink.Finished())
		}
		steps := sink.Finished()
		if steps[run.StepDetect] != "ok" || steps[run.StepVerify] != "skipped" || steps[run.StepCleanup] != "ok" {
			t.Fatalf("steps %v: detect should end ok, verify be skipped, cleanup run", steps)
		}
		if !f.ServicesRunning(t, h.Name) {
			t.Fatal("update services left stopped while the scan runs")
		}
	})
}

// TestProcedure_DotNet40 ensures a PowerShell 3.0 host on .NET 4.0, whose
// first searches after the reset exceed the server round trips, gets them
// retried (the HRESULT is read as that runtime allows) and is repaired.
func TestProcedure_DotNet40(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 120)
	h := windowsHost(t, f, map[string]bool{}, sim.FaultDotNet40)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.Outcome != run.OutcomeRepaired {
		t.Fatalf("got %+v; steps %v", res, sink.Finished())
	}
	out := sink.Output(run.StepDetect)
	if strings.Count(out, "failed: 0x80244010") != 2 || !strings.Contains(out, "Search 3: found") {
		t.Fatalf("detect did not retry 0x80244010 twice:\n%s", out)
	}
}

// TestProcedure_SilentScan ensures that when the host does not report back
// within the detect timeout and its grace (the script's own deadline, on
// the host's slower clock, has not come yet), the dashboard stops waiting
// and reports the scan as still running, not as a failure, with the
// services running.
func TestProcedure_SilentScan(t *testing.T) {
	t.Parallel()
	// The host's time runs at half the dashboard's speed, so its script is
	// still waiting (its deadline 2 s away) when the dashboard's expires
	// after 1 s; a loaded machine only slows the host further.
	f := newFleetWith(t, 120, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = 2 })
	h := windowsHost(t, f, map[string]bool{}, sim.FaultFullScan)
	opt := fastProcedure
	opt.ServiceTimeout, opt.RenameDelay = time.Second, time.Second
	opt.DetectTimeout, opt.DetectGrace = time.Second, time.Millisecond
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureRepair, Target: remote.Target{Name: h.FQDN},
		FailingKBs: []string{failingKB(h)}}
	sink := &memSink{}
	res := repair.RunFunc(f.Client(t, nil), opt)(t.Context(), job, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeScanRunning {
		t.Fatalf("got %+v; steps %v", res, sink.Finished())
	}
	if !f.ServicesRunning(t, h.Name) {
		t.Fatal("update services left stopped")
	}
}
