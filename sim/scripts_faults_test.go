package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/remote/scripts"
)

// TestScripts_PreflightRefuses ensures every host condition the simulator
// models refuses with the script's reason, and that the message names
// every failed check.
func TestScripts_PreflightRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		prepare   func(s *Server)
		params    scripts.PreflightParams
		reason    string
		wantInMsg string
	}{
		{"reboot pending", func(s *Server) { s.SetFault(win2022, FaultRebootPending) }, scripts.PreflightParams{},
			scripts.ReasonRebootPending, `a reboot is pending: WindowsUpdate\Auto Update\RebootRequired; reboot first (failed checks: reboot_pending)`},
		{"wuauserv disabled", func(s *Server) {
			m, _ := s.Machine(win2022)
			m.Update(func(st *HostState) { st.Service("wuauserv").StartMode = StartDisabled })
		}, scripts.PreflightParams{}, scripts.ReasonServiceDisabled, "wuauserv start mode is disabled (failed checks: start_mode_wuauserv)"},
		{"low disk and reboot", func(s *Server) {
			m, _ := s.Machine(win2022)
			m.Update(func(st *HostState) { st.RebootPending = true })
		}, scripts.PreflightParams{MinFreeGB: 100}, scripts.ReasonLowDisk,
			"C: has 44032 MB free; 102400 MB required (failed checks: free_disk, reboot_pending)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startScriptServer(t, testFleet(3), Options{})
			c := newScriptClient(t, s, win2022)
			tt.prepare(s)
			o := runScript(t, c, scripts.Preflight, tt.params)
			r := expectResult(t, o, scripts.ExitRefused, scripts.StatusRefused, tt.reason)
			if !strings.HasSuffix(r.Message, tt.wantInMsg) {
				t.Errorf("message %q, want it to end with %q", r.Message, tt.wantInMsg)
			}
			if !strings.HasPrefix(o.texts[len(o.texts)-1], "Preflight refused: ") {
				t.Errorf("last text %q", o.texts[len(o.texts)-1])
			}
		})
	}
}

// TestScripts_ServiceStuck ensures a service that will not stop fails
// stop-services at its timeout without hiding the other services, and that
// start-services then finds it still running.
func TestScripts_ServiceStuck(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	s.SetFault(win11, FaultServiceStuck)
	c := newScriptClient(t, s, win11)
	o := runScript(t, c, scripts.StopServices, scripts.StopServicesParams{TimeoutSec: 5})
	r := expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonStopFailed)
	if r.Message != "did not stop: wuauserv; a reboot may be needed" {
		t.Errorf("message %q", r.Message)
	}
	want := []string{"wuauserv stop Running>Running false still Running after 5 s", "BITS stop Running>Stopped true stopped",
		"DoSvc stop Running>Stopped true stopped"}
	if diff := cmp.Diff(want, serviceSummary(t, o)); diff != "" {
		t.Errorf("stops (-want +got):\n%s", diff)
	}
	if svc := records[scripts.Service](t, o, scripts.KindService)[0]; svc.WaitedMS < 5000 {
		t.Errorf("waited %d ms, want the 5 s timeout", svc.WaitedMS)
	}
	if o.texts[1] != "  wuauserv: did not stop: still Running after 5 s" {
		t.Errorf("text %q", o.texts[1])
	}

	o = runScript(t, c, scripts.StartServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	want = []string{"DoSvc start Stopped>Running true running", "BITS start Stopped>Running true running",
		"wuauserv start Running>Running true was already running"}
	if diff := cmp.Diff(want, serviceSummary(t, o)); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
}

// TestScripts_FolderLocked ensures a locked folder is retried, with the
// services stopped again before each attempt, and fails once the attempts
// run out.
func TestScripts_FolderLocked(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win2022)
	expectResult(t, runScript(t, c, scripts.StopServices, nil), 0, scripts.StatusOK, "")

	t.Run("retried", func(t *testing.T) {
		s.SetFault(win2022, FaultFolderLocked) // two locked attempts
		o := runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: "20261120T100000Z", Attempts: 4})
		expectResult(t, o, 0, scripts.StatusOK, "")
		var got []string
		for _, a := range records[scripts.RenameAttempt](t, o, scripts.KindRename) {
			got = append(got, fmt.Sprintf("%d %v %#x %s", a.Attempt, a.OK, a.HResult, a.Detail))
		}
		want := []string{"1 false 0x80070020 " + msgSharingViolation, "2 false 0x80070020 " + msgSharingViolation, "3 true 0x0 renamed"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
		// Before each attempt, the services are stopped again (already
		// stopped).
		if n := len(records[scripts.Service](t, o, scripts.KindService)); n != 9 {
			t.Errorf("%d service lines, want 3 rounds of 3", n)
		}
		if !strings.Contains(o.stdout, "Attempt 1 of 4 failed: "+msgSharingViolation+"\r\nStopping the services again before the next attempt.\r\n") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})

	t.Run("beyond the attempts", func(t *testing.T) {
		m, _ := s.Machine(win2022)
		m.Update(func(st *HostState) { st.SoftwareDistribution, st.LockedRenames = true, 10 })
		o := runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: "20261120T110000Z", Attempts: 3})
		r := expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonRenameLocked)
		if r.Message != `could not rename C:\Windows\SoftwareDistribution after 3 attempts: `+msgSharingViolation {
			t.Errorf("message %q", r.Message)
		}
		st, _ := s.HostState(win2022)
		if !st.SoftwareDistribution || len(st.Backups) != 1 || st.LockedRenames != 7 {
			t.Errorf("folder %v, backups %v, locked %d", st.SoftwareDistribution, st.Backups, st.LockedRenames)
		}
	})

	t.Run("running service holds it", func(t *testing.T) {
		s.SetFault(win2022, FaultServiceStuck)
		m, _ := s.Machine(win2022)
		m.Update(func(st *HostState) { st.Service("wuauserv").Status = StatusRunning })
		o := runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: "20261120T120000Z", Attempts: 2, TimeoutSec: 1})
		expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonRenameLocked)
	})

	t.Run("absent", func(t *testing.T) {
		m, _ := s.Machine(win2022)
		m.Update(func(st *HostState) { st.SoftwareDistribution = false })
		o := runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: "20261120T100000Z"})
		r := expectResult(t, o, 0, scripts.StatusSkipped, scripts.ReasonAbsent)
		if r.Message != `already renamed to C:\Windows\SoftwareDistribution.SDTemp-20261120T100000Z` ||
			o.texts[0] != "Nothing to rename: "+r.Message+"." {
			t.Errorf("message %q, text %q", r.Message, o.texts)
		}
	})
}

// TestScripts_Verdicts ensures verify judges by what the repair changed:
// a host that is not fixable fails again with its code, and a host that
// was not repaired shows no evidence either way.
func TestScripts_Verdicts(t *testing.T) {
	t.Parallel()
	t.Run("not fixable", func(t *testing.T) {
		s := startScriptServer(t, testFleet(3), Options{})
		s.SetFault(win11, FaultNotFixable)
		c := newScriptClient(t, s, win11)
		at := time.Now().UTC().Add(-time.Minute)
		o := repair(t, c, at)
		r := expectResult(t, o, 0, scripts.StatusOK, "")
		ev := records[scripts.Evidence](t, o, scripts.KindEvidence)
		if r.Verdict != scripts.VerdictStillFailing || len(ev) != 1 || ev[0].HResult != 0x80070002 || ev[0].Source != scripts.SourceHistory {
			t.Errorf("verdict %q, evidence %+v", r.Verdict, ev)
		}
		st, _ := s.HostState(win11)
		if st.Failure != 0x80070002 || len(st.History) != 2 || st.History[0].Result != ResultFailed {
			t.Errorf("failure %#x, history %+v", st.Failure, st.History)
		}
	})
	t.Run("not repaired", func(t *testing.T) {
		s := startScriptServer(t, testFleet(3), Options{})
		c := newScriptClient(t, s, win11)
		o := runScript(t, c, scripts.Verify, scripts.VerifyParams{Since: time.Now().UTC().Format(time.RFC3339)})
		r := expectResult(t, o, 0, scripts.StatusOK, "")
		ev := records[scripts.Evidence](t, o, scripts.KindEvidence)
		want := []scripts.Evidence{{Verdict: scripts.VerdictUnknown, Detail: "no install result since the repair yet"}}
		if r.Verdict != scripts.VerdictUnknown || !cmp.Equal(want, ev, cmpIgnoreHeader) {
			t.Errorf("verdict %q, evidence %+v", r.Verdict, ev)
		}
		if st, _ := s.HostState(win11); st.Failure != 0x80070002 || len(st.History) != 1 {
			t.Errorf("state changed: %+v", st)
		}
	})
	t.Run("definition update only, none named", func(t *testing.T) {
		// No update named: the one install since the rename is Defender's
		// definitions, which proves nothing.
		s := startScriptServer(t, testFleet(3), Options{})
		s.SetFault(win11, FaultDefinitionUpdate)
		c := newScriptClient(t, s, win11)
		at := time.Now().UTC().Add(-time.Minute)
		repair(t, c, at)
		o := runScript(t, c, scripts.Verify, scripts.VerifyParams{Since: at.Format(time.RFC3339)})
		r := expectResult(t, o, 0, scripts.StatusOK, "")
		ev := records[scripts.Evidence](t, o, scripts.KindEvidence)
		want := []scripts.Evidence{{Verdict: scripts.VerdictUnknown,
			Detail: "no install result since the repair yet (definition updates installed, which prove nothing)"}}
		if r.Verdict != scripts.VerdictUnknown || !cmp.Equal(want, ev, cmpIgnoreHeader) {
			t.Errorf("verdict %q, evidence %+v", r.Verdict, ev)
		}
		st, _ := s.HostState(win11)
		if st.History[0].KB != DefinitionKB || st.History[0].Result != ResultSucceeded {
			t.Errorf("newest history entry %+v, want the definition update installed", st.History[0])
		}
	})
	t.Run("downloaded, none named", func(t *testing.T) {
		s := startScriptServer(t, testFleet(3), Options{})
		s.SetFault(win11, FaultDownloadOnly)
		c := newScriptClient(t, s, win11)
		at := time.Now().UTC().Add(-time.Minute)
		o := repair(t, c, at)
		if r := expectResult(t, o, 0, scripts.StatusOK, ""); r.Verdict != scripts.VerdictDownloaded {
			t.Errorf("by KB: verdict %q", r.Verdict)
		}
		o = runScript(t, c, scripts.Verify, scripts.VerifyParams{Since: at.Format(time.RFC3339)})
		r := expectResult(t, o, 0, scripts.StatusOK, "")
		ev := records[scripts.Evidence](t, o, scripts.KindEvidence)
		if r.Verdict != scripts.VerdictDownloaded || len(ev) != 1 || ev[0].Source != scripts.SourceDownload ||
			!strings.HasPrefix(ev[0].Detail, "downloaded; install not yet attempted: ") {
			t.Errorf("verdict %q, evidence %+v", r.Verdict, ev)
		}
	})
	t.Run("bad since", func(t *testing.T) {
		s := startScriptServer(t, testFleet(3), Options{})
		o := runScript(t, newScriptClient(t, s, win11), scripts.Verify, scripts.VerifyParams{Since: "yesterday"})
		expectResult(t, o, scripts.ExitBadParams, scripts.StatusFailed, scripts.ReasonBadParams)
	})
}

// TestScripts_DetectRetries ensures 0x80244010 is retried, up to Retries.
func TestScripts_DetectRetries(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win2012)
	m, _ := s.Machine(win2012)
	scanSummary := func(o stepOutput) []string {
		var out []string
		for _, sc := range records[scripts.Scan](t, o, scripts.KindScan) {
			out = append(out, fmt.Sprintf("%s %d %v %s %#x", sc.Method, sc.Attempt, sc.OK, sc.Result, sc.HResult))
		}
		return out
	}

	m.Update(func(st *HostState) { st.SearchTrips = 2 })
	o := runScript(t, c, scripts.Detect, scripts.DetectParams{Retries: 3})
	expectResult(t, o, 0, scripts.StatusOK, "")
	want := []string{"com_search 1 false failed 0x80244010", "com_search 2 false failed 0x80244010",
		"com_search 3 true succeeded 0x0", "wuauclt 1 true started 0x0"} // Windows Server 2012 R2
	if diff := cmp.Diff(want, scanSummary(o)); diff != "" {
		t.Errorf("scans (-want +got):\n%s", diff)
	}

	m.Update(func(st *HostState) { st.SearchTrips = 5 })
	o = runScript(t, c, scripts.Detect, scripts.DetectParams{Retries: 1})
	r := expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonScanFailed)
	if r.Message != "the search failed with 0x80244010: Exception from HRESULT: 0x80244010" {
		t.Errorf("message %q", r.Message)
	}

	m.Update(func(st *HostState) { st.SearchTrips = 0; st.Service("wuauserv").StartMode = StartDisabled })
	m.Update(func(st *HostState) { st.Service("wuauserv").Status = StatusStopped })
	o = runScript(t, c, scripts.Detect, nil)
	expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonScanFailed)
	if got := scanSummary(o); len(got) != 2 || got[0] != "com_search 1 false failed 0x80070422" {
		t.Errorf("scans %q", got)
	}
}

// TestScripts_OldHost ensures a Windows Server 2012 R2 host reports what it
// lacks the way the scripts do: no DoSvc, delayed BITS.
func TestScripts_OldHost(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win2012)
	o := runScript(t, c, scripts.StopServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	svcs := records[scripts.Service](t, o, scripts.KindService)
	if len(svcs) != 3 || svcs[1].StartMode != "auto_delayed" || svcs[2].Status != "absent" || !svcs[2].OK ||
		svcs[2].Detail != "not installed on this host" {
		t.Errorf("services %+v", svcs)
	}
	if o.texts[3] != "  DoSvc: not installed, nothing to stop" {
		t.Errorf("texts %q", o.texts)
	}
}

// TestScripts_StartDisabled ensures start-services leaves a Disabled
// service alone and says so.
func TestScripts_StartDisabled(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win2022)
	m, _ := s.Machine(win2022)
	m.Update(func(st *HostState) {
		st.Service("BITS").StartMode, st.Service("BITS").Status = StartDisabled, StatusStopped
	})
	o := runScript(t, c, scripts.StartServices, nil)
	r := expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonServiceDisabled)
	if r.Message != "did not start: BITS; Windows Update may stay unavailable until they run" {
		t.Errorf("message %q", r.Message)
	}
	if st, _ := s.HostState(win2022); st.Service("BITS").Status != StatusStopped {
		t.Error("a Disabled service was started")
	}
}
