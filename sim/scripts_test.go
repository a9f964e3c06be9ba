package sim

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/remote"
	"wsusfix/remote/scripts"
)

// Hosts of testFleet(3): HOST-0001 runs Windows 11, HOST-0002 Windows
// Server 2012 R2 (no DoSvc, PowerShell 4.0), HOST-0003 Windows Server 2022.
// Each has one failed installation of KB5044281 with 0x80070002.
const (
	win11   = "HOST-0001"
	win2012 = "HOST-0002"
	win2022 = "HOST-0003"
)

// startScriptServer starts a simulator whose scripts take no time unless
// the test asks for a time scale.
func startScriptServer(t *testing.T, f *Fleet, opt Options) *Server {
	t.Helper()
	if opt.ScriptTimeScale == 0 {
		opt.ScriptTimeScale = -1
	}
	return startServer(t, f, opt)
}

// stepOutput is one script run as the product sees it.
type stepOutput struct {
	stdout, stderr string
	code           int
	texts          []string       // lines for people
	lines          []scripts.Line // result lines, in order
}

// newScriptClient opens a shell on the named host the way the product
// does: remote.Session, NTLM with message encryption over plain HTTP, and
// stdin piped with WINRS_CONSOLEMODE_STDIN=FALSE. The library's own
// Command sends TRUE, under which powershell.exe reads no stdin, so the
// scripts are run through the product's client.
func newScriptClient(t *testing.T, s *Server, name string) *remote.Session {
	t.Helper()
	c, err := remote.NewClient(remote.Config{Auth: remote.AuthNTLM, User: "Administrator", Password: testPassword,
		OperationTimeout: 5 * time.Second, DialTimeout: 5 * time.Second, DialContext: s.DialContext})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	sess, err := c.Open(ctx, remote.Target{Name: name})
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

// runScript runs a script through the product's client: the bootstrap
// command line with the payload on stdin.
func runScript(t *testing.T, c *remote.Session, name string, params any) stepOutput {
	t.Helper()
	payload, err := scripts.Payload(name, params)
	if err != nil {
		t.Fatalf("Payload(%s): %v", name, err)
	}
	return runPayload(t, c, string(payload))
}

// runPayload runs the bootstrap with any stdin and checks the output's
// shape: CRLF line ends, and result lines only where the tag starts one.
func runPayload(t *testing.T, c *remote.Session, stdin string) stepOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder // Run writes from one goroutine
	code, err := c.Run(ctx, scripts.Bootstrap, []byte(stdin), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	return parseOutput(t, stdout.String(), stderr.String(), code)
}

func parseOutput(t *testing.T, stdout, stderr string, code int) stepOutput {
	t.Helper()
	out := stepOutput{stdout: stdout, stderr: stderr, code: code}
	if stdout != "" && !strings.HasSuffix(stdout, "\r\n") {
		t.Errorf("stdout does not end with CRLF: %q", stdout)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\r\n"), "\r\n") {
		if stdout == "" {
			break
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line with a bare CR or LF: %q", l)
		}
		if line, ok := scripts.ParseLine(l); ok {
			out.lines = append(out.lines, line)
			continue
		}
		if strings.HasPrefix(l, scripts.Tag) {
			t.Errorf("tagged line does not parse: %q", l)
		}
		out.texts = append(out.texts, l)
	}
	return out
}

// result returns the last line, which must be the result.
func (o stepOutput) result(t *testing.T) scripts.Result {
	t.Helper()
	if len(o.lines) == 0 {
		t.Fatalf("no result lines; stdout %q stderr %q", o.stdout, o.stderr)
	}
	last := o.lines[len(o.lines)-1]
	var r scripts.Result
	if last.Kind != scripts.KindResult {
		t.Fatalf("last line is %s, not result: %s", last.Kind, last.Raw)
	}
	if err := last.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// records decodes every line of one kind.
func records[T any](t *testing.T, o stepOutput, kind string) []T {
	t.Helper()
	var out []T
	for _, l := range o.lines {
		if l.Kind != kind {
			continue
		}
		var v T
		if err := l.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// expectResult checks the exit code and the result's status and reason.
func expectResult(t *testing.T, o stepOutput, code int, status, reason string) scripts.Result {
	t.Helper()
	r := o.result(t)
	if o.code != code || r.Status != status || r.Reason != reason {
		t.Fatalf("exit %d, result %s/%s %q; want exit %d, %s/%s\nstdout:\n%s", o.code, r.Status, r.Reason, r.Message,
			code, status, reason, o.stdout)
	}
	return r
}

// statuses maps service names to their status.
func statuses(st HostState) map[string]string {
	m := map[string]string{}
	for _, s := range st.Services {
		m[s.Name] = s.Status
	}
	return m
}

// serviceSummary is "name action status ok" per service line.
func serviceSummary(t *testing.T, o stepOutput) []string {
	t.Helper()
	var out []string
	for _, s := range records[scripts.Service](t, o, scripts.KindService) {
		out = append(out, fmt.Sprintf("%s %s %s>%s %v %s", s.Name, s.Action, s.Previous, s.Status, s.OK, s.Detail))
	}
	return out
}

// repair runs the steps of a repair up to verify, checking each succeeds,
// and returns verify's output.
func repair(t *testing.T, c *remote.Session, at time.Time) stepOutput {
	t.Helper()
	stamp := scripts.Stamp(at)
	expectResult(t, runScript(t, c, scripts.Preflight, nil), 0, scripts.StatusOK, "")
	expectResult(t, runScript(t, c, scripts.SaveHistory, nil), 0, scripts.StatusOK, "")
	expectResult(t, runScript(t, c, scripts.StopServices, nil), 0, scripts.StatusOK, "")
	expectResult(t, runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: stamp}), 0, scripts.StatusOK, "")
	expectResult(t, runScript(t, c, scripts.StartServices, nil), 0, scripts.StatusOK, "")
	expectResult(t, runScript(t, c, scripts.Detect, nil), 0, scripts.StatusOK, "")
	return runScript(t, c, scripts.Verify, scripts.VerifyParams{Since: at.UTC().Format(time.RFC3339), KBs: []string{"KB5044281"}})
}

// TestScripts_FullRepair runs KB 910336 on a failing Windows Server 2022
// host step by step and checks each step's report and the host's state.
func TestScripts_FullRepair(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win2022)
	started := time.Now().UTC().Truncate(time.Second)

	// preflight: every check passes, the facts describe the host.
	o := runScript(t, c, scripts.Preflight, scripts.PreflightParams{MinFreeGB: 20})
	expectResult(t, o, 0, scripts.StatusOK, "")
	facts := records[scripts.Facts](t, o, scripts.KindFacts)
	wantFacts := []scripts.Facts{{Computer: win2022, OSCaption: "Microsoft Windows Server 2022 Standard", OSVersion: "10.0.20348",
		OSBuild: 20348, OS64Bit: true, PSVersion: "5.1.20348.2762", PSEdition: "Desktop", Process64Bit: true, IsAdmin: true,
		SystemDrive: "C:", FreeMB: 43 * 1024}}
	if diff := cmp.Diff(wantFacts, facts, cmpIgnoreHeader); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	var checks []string
	for _, ch := range records[scripts.Check](t, o, scripts.KindCheck) {
		checks = append(checks, fmt.Sprintf("%s %v %s", ch.Name, ch.OK, ch.Detail))
	}
	wantChecks := []string{
		"admin true running as an elevated administrator",
		"process_64bit true the PowerShell process matches the OS (64-bit)",
		"ps_version true PowerShell 5.1.20348.2762 Desktop",
		"os_version true Microsoft Windows Server 2022 Standard build 20348",
		"free_disk true C: has 44032 MB free; 20480 MB required",
		"start_mode_wuauserv true wuauserv start mode is manual",
		"start_mode_bits true BITS start mode is manual",
		"install_in_progress true no installation is running",
		"reboot_pending true no reboot is pending",
	}
	if diff := cmp.Diff(wantChecks, checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if o.texts[0] != "Preflight: checking that this host can be repaired (read-only)." || o.texts[len(o.texts)-1] != "Preflight passed." {
		t.Errorf("preflight text %q", o.texts)
	}

	// save-history: the one failed attempt, as QueryHistory reports it.
	o = runScript(t, c, scripts.SaveHistory, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	pages := records[scripts.History](t, o, scripts.KindHistory)
	wantPages := []scripts.History{{Total: 1, Entries: []scripts.HistoryEntry{{Date: "2026-10-14T03:00:00Z", Operation: "installation",
		Result: "failed", ResultCode: 4, HResult: 0x80070002, UpdateID: "0b1c", Revision: 1, KB: "KB5044281",
		Title: "2026-10 Cumulative Update", ClientApp: "UpdateOrchestrator"}}}}
	if diff := cmp.Diff(wantPages, pages, cmpIgnoreHeader); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// stop-services: the three services stop; the others keep running.
	o = runScript(t, c, scripts.StopServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	wantStops := []string{"wuauserv stop Running>Stopped true stopped", "BITS stop Running>Stopped true stopped",
		"DoSvc stop Running>Stopped true stopped"}
	if diff := cmp.Diff(wantStops, serviceSummary(t, o)); diff != "" {
		t.Errorf("stops (-want +got):\n%s", diff)
	}
	st, _ := s.HostState(win2022)
	wantStatus := map[string]string{"wuauserv": StatusStopped, "BITS": StatusStopped, "DoSvc": StatusStopped,
		"CryptSvc": StatusRunning, "UsoSvc": StatusRunning}
	if diff := cmp.Diff(wantStatus, statuses(st)); diff != "" {
		t.Errorf("services after stop (-want +got):\n%s", diff)
	}

	// rename: the folder moves to the stamped name.
	stamp := scripts.Stamp(started)
	o = runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: stamp})
	r := expectResult(t, o, 0, scripts.StatusOK, "")
	wantRename := []scripts.RenameAttempt{{From: `C:\Windows\SoftwareDistribution`,
		To: `C:\Windows\SoftwareDistribution.SDTemp-` + stamp, Attempt: 1, OK: true, Detail: "renamed"}}
	if diff := cmp.Diff(wantRename, records[scripts.RenameAttempt](t, o, scripts.KindRename), cmpIgnoreHeader); diff != "" {
		t.Errorf("rename (-want +got):\n%s", diff)
	}
	if r.Message != `renamed C:\Windows\SoftwareDistribution to C:\Windows\SoftwareDistribution.SDTemp-`+stamp {
		t.Errorf("rename message %q", r.Message)
	}
	st, _ = s.HostState(win2022)
	if st.SoftwareDistribution || !cmp.Equal(st.Backups, []string{backupPrefix + stamp}) || st.Repair != RepairRenamed {
		t.Errorf("after rename: folder %v, backups %v, repair %q", st.SoftwareDistribution, st.Backups, st.Repair)
	}

	// start-services: in reverse order; Windows Update recreates the folder.
	o = runScript(t, c, scripts.StartServices, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	wantStarts := []string{"DoSvc start Stopped>Running true running", "BITS start Stopped>Running true running",
		"wuauserv start Stopped>Running true running"}
	if diff := cmp.Diff(wantStarts, serviceSummary(t, o)); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
	st, _ = s.HostState(win2022)
	if !st.SoftwareDistribution {
		t.Error("SoftwareDistribution was not recreated when wuauserv started")
	}
	for name, status := range statuses(st) {
		if status != StatusRunning {
			t.Errorf("%s is %s after start-services", name, status)
		}
	}

	// detect: the search finds the failing update again (perhaps after
	// one 0x80244010), then UsoClient starts the OS's own scan.
	o = runScript(t, c, scripts.Detect, nil)
	r = expectResult(t, o, 0, scripts.StatusOK, "")
	scans := records[scripts.Scan](t, o, scripts.KindScan)
	last := scans[len(scans)-2]
	if last.Method != scripts.MethodCOMSearch || !last.OK || last.Found == nil || *last.Found != 1 ||
		!cmp.Equal(last.KBs, []string{"KB5044281"}) || r.Message != "the search found 1 update" {
		t.Errorf("search %+v, result %q", last, r.Message)
	}
	if trigger := scans[len(scans)-1]; trigger.Method != scripts.MethodUsoClient || trigger.Result != "started" {
		t.Errorf("trigger %+v", trigger)
	}

	// verify: the update installed; the host is no longer failing.
	o = runScript(t, c, scripts.Verify, scripts.VerifyParams{Since: started.Format(time.RFC3339), KBs: []string{"kb5044281"}})
	r = expectResult(t, o, 0, scripts.StatusOK, "")
	ev := records[scripts.Evidence](t, o, scripts.KindEvidence)
	if r.Verdict != scripts.VerdictRepaired || len(ev) != 1 || ev[0].KB != "KB5044281" || ev[0].Verdict != scripts.VerdictRepaired ||
		ev[0].Source != scripts.SourceHistory || ev[0].Date < psDate(started) {
		t.Errorf("verdict %q, evidence %+v", r.Verdict, ev)
	}
	st, _ = s.HostState(win2022)
	if st.Failure != 0 || st.Repair != RepairNone || len(st.History) != 2 || st.History[0].Result != ResultSucceeded ||
		st.History[0].KB != "KB5044281" {
		t.Errorf("after verify: failure %#x, repair %q, history %+v", st.Failure, st.Repair, st.History)
	}

	// cleanup: one backup, which stays.
	o = runScript(t, c, scripts.Cleanup, nil)
	expectResult(t, o, 0, scripts.StatusOK, "")
	folders := records[scripts.Folder](t, o, scripts.KindFolder)
	if len(folders) != 1 || folders[0].Removed || folders[0].Detail != "kept" {
		t.Errorf("folders %+v", folders)
	}
}

// cmpIgnoreHeader compares records without their kind, step and time.
var cmpIgnoreHeader = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().Type() == typeOfHeader
}, cmp.Ignore())

var typeOfHeader = reflect.TypeFor[scripts.Header]()

// TestScripts_SecondRepairSeesFirst ensures state persists between
// repairs: the second rename finds the folder Windows Update recreated,
// the history shows only what happened since the first repair, and
// cleanup removes the older backup.
func TestScripts_SecondRepairSeesFirst(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	c := newScriptClient(t, s, win11)
	first := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	second := first.Add(time.Hour)
	if v := repair(t, c, first).result(t).Verdict; v != scripts.VerdictRepaired {
		t.Fatalf("first repair: %q", v)
	}
	// The second repair's history is what the agent recorded since the
	// first rename: the successful install only.
	o := runScript(t, c, scripts.SaveHistory, nil)
	pages := records[scripts.History](t, o, scripts.KindHistory)
	if len(pages) != 1 || pages[0].Total != 1 || pages[0].Entries[0].Result != "succeeded" {
		t.Errorf("history after the first repair: %+v", pages)
	}
	o = runScript(t, c, scripts.Rename, scripts.RenameParams{Stamp: scripts.Stamp(first)})
	expectResult(t, o, 1, scripts.StatusFailed, scripts.ReasonTargetExists) // the same stamp again
	repair(t, c, second)
	st, _ := s.HostState(win11)
	want := []string{backupPrefix + scripts.Stamp(first), backupPrefix + scripts.Stamp(second)}
	if diff := cmp.Diff(want, st.Backups); diff != "" {
		t.Fatalf("backups (-want +got):\n%s", diff)
	}

	o = runScript(t, c, scripts.Cleanup, scripts.CleanupParams{Keep: 1})
	r := expectResult(t, o, 0, scripts.StatusOK, "")
	var got []string
	for _, f := range records[scripts.Folder](t, o, scripts.KindFolder) {
		got = append(got, fmt.Sprintf("%s %v %s", f.Path, f.Removed, f.Detail))
		if f.Removed && (f.Bytes < 300<<20 || !strings.Contains(r.Message, fmt.Sprintf("%d MB freed", f.Bytes>>20))) {
			t.Errorf("removed %d bytes, result %q", f.Bytes, r.Message)
		}
	}
	wantFolders := []string{`C:\Windows\` + want[1] + " false kept", `C:\Windows\` + want[0] + " true removed"}
	if diff := cmp.Diff(wantFolders, got); diff != "" {
		t.Errorf("folders (-want +got):\n%s", diff)
	}
	st, _ = s.HostState(win11)
	if diff := cmp.Diff(want[1:], st.Backups); diff != "" {
		t.Errorf("backups after cleanup (-want +got):\n%s", diff)
	}
}
