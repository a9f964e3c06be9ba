package sim

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
	"wsusfix/store/run"
)

// The twins of save-history.ps1 and detect.ps1, and the update-history
// model that verify.ps1's twin shares: what the Windows Update Agent
// (Microsoft.Update.Session) answers on a simulated host.

// HRESULTs the agent answers with, and the COMException messages .NET
// makes of them (errors of the WU_E range have no system text).
const (
	hrServiceDisabled  = 0x80070422
	hrTooManyTrips     = 0x80244010 // WU_E_PT_EXCEEDED_MAX_SERVER_TRIPS
	msgServiceDisabled = "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it. (Exception from HRESULT: 0x80070422)"
)

// comMessage is how .NET words a COMException for an HRESULT without text.
func comMessage(hr uint32) string {
	return "Exception from HRESULT: " + hresultText(hr)
}

// startAgent is what every call into the agent's COM API does first: the
// wuauserv service is trigger-started if it is stopped. It answers the
// HRESULT the call fails with when the service is Disabled, else 0.
func (r *psRun) startAgent() (hr uint32, message string) {
	snap := r.setStatus("wuauserv", func(snap serviceSnapshot) string {
		if snap.status == StatusStopped && snap.mode != "disabled" {
			return StatusRunning
		}
		return snap.status
	})
	if snap.present && snap.mode == "disabled" && snap.status != StatusRunning {
		return hrServiceDisabled, msgServiceDisabled
	}
	return 0, ""
}

// visibleHistory is what QueryHistory returns: the events since the
// datastore was last recreated, newest first.
func visibleHistory(st *HostState) []Event {
	if st.HistorySince.IsZero() {
		return st.History
	}
	var out []Event
	for _, e := range st.History {
		if !e.Time.Before(st.HistorySince) {
			out = append(out, e)
		}
	}
	return out
}

// kbPattern is Get-WsusfixKB's: titles carry the KB as "... (KB5031364)".
var kbPattern = regexp.MustCompile(`(?i)KB(\d{4,8})`)

// eventKB is the KB the scripts find for an event: from its title, as the
// real scripts parse it; an event whose title names none (hand-made test
// fleets) falls back to its KB field so the simulator stays consistent
// with its own inventory.
func eventKB(e Event) string {
	if m := kbPattern.FindStringSubmatch(e.Title); m != nil {
		return "KB" + m[1]
	}
	return strings.ToUpper(e.KB)
}

// resultCode is an event's OperationResultCode.
func resultCode(result run.UpdateResult) int {
	switch result {
	case run.ResultInProgress:
		return 1
	case ResultSucceeded:
		return 2
	case ResultSucceededWithErrors:
		return 3
	case ResultFailed:
		return 4
	case ResultAborted:
		return 5
	}
	return 0
}

// resultNames is Get-WsusfixResultName by code.
var resultNames = []string{"not_started", "in_progress", "succeeded", "succeeded_with_errors", "failed", "aborted"}

// historyEntry is ConvertFrom-WsusfixHistoryEntry for one event.
func historyEntry(st *HostState, e Event) scripts.HistoryEntry {
	code := resultCode(e.Result)
	op := "other"
	switch e.Operation {
	case OperationInstallation:
		op = "installation"
	case OperationUninstallation:
		op = "uninstallation"
	}
	app := "AutomaticUpdates"
	if _, build := parseBuild(st.OSBuild); build >= 10240 {
		app = "UpdateOrchestrator"
	}
	return scripts.HistoryEntry{Date: psDate(e.Time), Operation: op, Result: resultNames[code], ResultCode: code,
		HResult: e.HResult, UpdateID: e.UpdateID, Revision: 1, KB: eventKB(e), Title: e.Title, ClientApp: app}
}

// pendingUpdates returns, for every update whose newest attempt failed,
// that attempt, newest first: the updates the host still needs and that a
// search finds again.
func pendingUpdates(history []Event) []Event {
	return pendingUpdatesInto(map[string]bool{}, history)
}

// pendingUpdatesInto is pendingUpdates with a map of its caller's to fill,
// cleared first, for a caller that walks many hosts.
func pendingUpdatesInto(done map[string]bool, history []Event) []Event {
	clear(done)
	var out []Event
	for _, e := range history {
		key := e.UpdateID
		if key == "" {
			key = e.KB + "|" + e.Title
		}
		if done[key] || e.Operation != OperationInstallation {
			continue
		}
		done[key] = true
		if e.Result == ResultFailed {
			out = append(out, e)
		}
	}
	return out
}

// addEvent records an event in History, which stays newest first.
func addEvent(st *HostState, e Event) {
	i := 0
	for i < len(st.History) && st.History[i].Time.After(e.Time) {
		i++
	}
	st.History = append(st.History[:i], append([]Event{e}, st.History[i:]...)...)
}

// runSaveHistory is save-history.ps1: the visible history, newest first, in
// pages.
func runSaveHistory(r *psRun, paramsB64 string) int {
	var p scripts.SaveHistoryParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	pageSize := intParam(p.PageSize, 50, 200)
	max := intParam(p.Max, 500, 10000)

	r.text("Reading the Windows Update history (read-only).")
	if !r.sleep(r.vary(150*time.Millisecond, 200*time.Millisecond)) {
		return exitCtrlC
	}
	if hr, msg := r.startAgent(); hr != 0 {
		r.text("The Windows Update Agent did not answer: " + msg)
		return r.complete(scripts.StatusFailed, scripts.ReasonHistoryUnreadable,
			"the update history could not be read: "+msg+" ("+hresultText(hr)+")")
	}
	st := r.m.State()
	events := visibleHistory(&st)
	total := len(events)
	if total == 0 {
		r.text("The history is empty.")
		r.line(scripts.History{Header: r.header(scripts.KindHistory), Entries: []scripts.HistoryEntry{}})
		return r.complete(scripts.StatusOK, "", "the update history is empty")
	}
	want := min(total, max)
	r.text("The host holds " + strconv.Itoa(total) + " entries; reading " + strconv.Itoa(want) + ", " +
		strconv.Itoa(pageSize) + " at a time.")
	read, page := 0, 0
	for start := 0; start < want; start += pageSize {
		count := min(pageSize, want-start)
		if !r.sleep(r.vary(60*time.Millisecond, 120*time.Millisecond)) {
			return exitCtrlC
		}
		entries := make([]scripts.HistoryEntry, 0, count)
		for _, e := range events[start : start+count] {
			entries = append(entries, historyEntry(&st, e))
		}
		r.line(scripts.History{Header: r.header(scripts.KindHistory), Page: page, Start: start, Total: total, Entries: entries})
		read += len(entries)
		page++
	}
	message := "read " + strconv.Itoa(read) + " of " + strconv.Itoa(total) + " history entries"
	if want < total {
		message += " (the newest " + strconv.Itoa(want) + ")"
	}
	r.text(message + ".")
	return r.complete(scripts.StatusOK, "", message)
}

// runDetect is detect.ps1: searches under one deadline, retried on
// 0x80244010, with a "Still searching" line every 5 minutes; a search still
// running at the deadline ends the step ok with reason scan_running. Then
// the operating system's own scan trigger.
func runDetect(r *psRun, paramsB64 string) int {
	var p scripts.DetectParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	retries := intParam(p.Retries, 3, 10)
	timeoutSec := intParam(p.TimeoutSec, 3600, 14400)
	deadline := r.clock + time.Duration(timeoutSec)*time.Second
	found, running := -1, false
	var lastHr uint32
	lastError := ""
	for attempt := 1; attempt <= retries+1; attempt++ {
		r.text("Searching for updates, attempt " + strconv.Itoa(attempt) + " (the first full scan after a reset can take long).")
		begin := r.clock
		// A search against WSUS takes seconds to minutes; the first on a
		// fresh datastore can be a long full scan (FaultFullScan).
		length := r.vary(2*time.Second, 4*time.Second)
		r.m.Update(func(st *HostState) {
			if st.FullScan > 0 && st.Repair == RepairRenamed && !st.Searched {
				length = st.FullScan
			}
			st.Searched = true
		})
		for r.clock-begin < length && r.clock < deadline {
			step := min(length-(r.clock-begin), deadline-r.clock, detectProgress)
			if !r.sleep(step) {
				return exitCtrlC
			}
			if r.clock-begin < length && deadline-r.clock > 0 && step == detectProgress {
				r.text("Still searching (" + strconv.Itoa(int((r.clock-begin)/time.Minute)) + " min so far).")
			}
		}
		if r.clock-begin < length {
			running = true
			detail := "still searching after " + strconv.Itoa(int((r.clock-begin)/time.Minute)) + " min, at the step deadline of " +
				strconv.Itoa(timeoutSec) + " s"
			r.line(scripts.Scan{Header: r.header(scripts.KindScan), Method: scripts.MethodCOMSearch, Attempt: attempt,
				Result: "in_progress", KBs: []string{}, Detail: detail})
			r.text("Search " + strconv.Itoa(attempt) + ": " + detail + ".")
			break
		}
		hr, msg, n, kbs := r.search()
		if hr != 0 {
			lastHr, lastError = hr, msg
			r.line(scripts.Scan{Header: r.header(scripts.KindScan), Method: scripts.MethodCOMSearch, Attempt: attempt,
				Result: "failed", HResult: hr, KBs: []string{}, Detail: msg})
			r.text("Search " + strconv.Itoa(attempt) + " failed: " + hresultText(hr) + " " + msg)
			if hr != hrTooManyTrips {
				break
			}
			if r.clock >= deadline {
				r.warn(scripts.WarnScanDeadline, "no further search after "+strconv.Itoa(timeoutSec)+" s")
				break
			}
			continue
		}
		detail := "found " + countOf(n, "update")
		r.line(scripts.Scan{Header: r.header(scripts.KindScan), Method: scripts.MethodCOMSearch, Attempt: attempt, OK: true,
			Found: &n, Result: "succeeded", KBs: kbs, Detail: detail})
		r.text("Search " + strconv.Itoa(attempt) + ": " + detail + ".")
		found = n
		break
	}

	// The operating system's own trigger, fire-and-forget; its output is
	// redirected and read, and it says nothing.
	method, program, arguments := scripts.MethodUsoClient, systemDir+`\UsoClient.exe`, "StartScan"
	if _, build := parseBuild(r.m.State().OSBuild); build < 10240 {
		method, program, arguments = scripts.MethodWuauclt, systemDir+`\wuauclt.exe`, "/detectnow"
	}
	if !r.sleep(r.vary(200*time.Millisecond, 300*time.Millisecond)) {
		return exitCtrlC
	}
	detail := "started; exit code 0"
	r.line(scripts.Scan{Header: r.header(scripts.KindScan), Method: method, Attempt: 1, OK: true, Result: "started",
		KBs: []string{}, Detail: detail})
	r.text(program + " " + arguments + ": " + detail)

	switch {
	case found >= 0:
		return r.complete(scripts.StatusOK, "", "the search found "+countOf(found, "update"))
	case running:
		return r.complete(scripts.StatusOK, scripts.ReasonScanRunning, "scan still running on the host; check again later")
	}
	message := "the search failed"
	if lastHr != 0 {
		message += " with " + hresultText(lastHr)
	}
	if lastError != "" {
		message += ": " + lastError
	}
	return r.complete(scripts.StatusFailed, scripts.ReasonScanFailed, message)
}

// detectProgress is how often detect.ps1 says it is still searching.
const detectProgress = 5 * time.Minute

// search is one IUpdateSearcher.Search("IsInstalled=0 and IsHidden=0"): it
// fails while wuauserv is Disabled or while SearchTrips lasts, and
// otherwise finds the updates the host still needs. A search that succeeds
// on a freshly renamed SoftwareDistribution rebuilds it, which is what
// lets a fixable host install its failing updates afterwards.
func (r *psRun) search() (hr uint32, message string, found int, kbs []string) {
	if hr, msg := r.startAgent(); hr != 0 {
		return hr, msg, 0, nil
	}
	kbs = []string{}
	r.m.Update(func(st *HostState) {
		if st.SearchTrips > 0 {
			st.SearchTrips--
			hr, message = hrTooManyTrips, comMessage(hrTooManyTrips)
			return
		}
		pending := pendingUpdates(st.History)
		found = len(pending)
		for _, e := range pending {
			if kb := eventKB(e); kb != "" && len(kbs) < 100 {
				kbs = append(kbs, kb)
			}
		}
		if st.Repair == RepairRenamed {
			st.Repair = RepairDetected
		}
	})
	if hr != 0 {
		return hr, message, 0, nil
	}
	return 0, "", found, kbs
}

// countOf is the prelude's Format-WsusfixCount: "1 update", "3 updates".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
