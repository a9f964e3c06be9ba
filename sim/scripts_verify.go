package sim

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twin of verify.ps1. Between detect and verify a real host's
// automatic engine downloads and installs what the search found; the
// simulator lets that happen when verify looks, so one repair ends with
// evidence. A fixable host then installs its failing updates and its
// failure clears; a FaultNotFixable host fails them again with the same
// HRESULT.

var verifyKBPattern = regexp.MustCompile(`(?i)^KB[0-9]{1,8}$`)

// runVerify is verify.ps1: evidence per KB from the history since the
// repair, then Get-HotFix.
func runVerify(r *psRun, paramsB64 string) int {
	var p scripts.VerifyParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	since, err := time.Parse(time.RFC3339, p.Since)
	if err != nil {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "since must be an RFC 3339 time such as 2026-11-23T22:45:01Z")
	}
	sinceText := psDate(since)
	var kbs []string
	for _, kb := range p.KBs {
		if kb == "" {
			continue
		}
		if !verifyKBPattern.MatchString(kb) {
			return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "every kbs entry must look like KB5031364")
		}
		kbs = append(kbs, strings.ToUpper(kb))
	}

	r.text("Looking for evidence since " + sinceText + ".")
	r.installPending()
	sources := 0

	// History since the repair, newest first, compared as text like the
	// script (same fixed UTC format on both sides).
	var entries []scripts.HistoryEntry
	if !r.sleep(r.vary(200*time.Millisecond, 300*time.Millisecond)) {
		return exitCtrlC
	}
	if hr, msg := r.startAgent(); hr != 0 {
		r.warn(scripts.WarnHistoryUnreadable, "update history: "+msg)
	} else {
		st := r.m.State()
		events := visibleHistory(&st)
		for _, e := range events[:min(len(events), 500)] {
			if h := historyEntry(&st, e); h.Date != "" && h.Date >= sinceText {
				entries = append(entries, h)
			}
		}
		sources++
		r.text(strconv.Itoa(len(entries)) + " history entries since then.")
	}

	// Get-HotFix: installed packages, which renaming SoftwareDistribution
	// does not touch.
	if !r.sleep(r.vary(200*time.Millisecond, 300*time.Millisecond)) {
		return exitCtrlC
	}
	hotfixes := installedKBs(r.m.State().History)
	sources++

	// The offline search of what detect downloaded: installation happens
	// when verify looks (installPending), so nothing is left downloaded
	// and waiting.
	if !r.sleep(r.vary(300*time.Millisecond, 500*time.Millisecond)) {
		return exitCtrlC
	}
	if hr, msg := r.startAgent(); hr != 0 {
		r.warn(scripts.WarnSearchUnavailable, "downloaded updates: "+msg)
	} else {
		sources++
	}
	if sources == 0 {
		return r.complete(scripts.StatusFailed, scripts.ReasonHistoryUnreadable, "no source of evidence could be read")
	}

	var verdicts []string
	evidence := func(kb, verdict, source, date string, hr uint32, title, detail string) {
		r.text("  " + kb + " " + verdict + ": " + detail)
		r.line(scripts.Evidence{Header: r.header(scripts.KindEvidence), KB: kb, Verdict: verdict, Source: source,
			Date: date, HResult: hr, Title: title, Detail: detail})
		verdicts = append(verdicts, verdict)
	}
	if len(kbs) == 0 {
		// No KBs: the newest failure since the repair outweighs any success.
		var failure, success *scripts.HistoryEntry
		for i := range entries {
			e := &entries[i]
			if failure == nil && (e.ResultCode == 4 || e.ResultCode == 5) {
				failure = e
			}
			if success == nil && e.Operation == "installation" && (e.ResultCode == 2 || e.ResultCode == 3) {
				success = e
			}
		}
		switch {
		case failure != nil:
			evidence("", scripts.VerdictStillFailing, scripts.SourceHistory, failure.Date, failure.HResult, failure.Title, "failed again: "+failure.Title)
		case success != nil:
			evidence("", scripts.VerdictRepaired, scripts.SourceHistory, success.Date, 0, success.Title, "installed: "+success.Title)
		default:
			evidence("", scripts.VerdictUnknown, "", "", 0, "", "no install result since the repair yet")
		}
	}
	for _, kb := range kbs {
		// The newest finished install result for this KB decides.
		var latest *scripts.HistoryEntry
		for i := range entries {
			if e := &entries[i]; strings.EqualFold(e.KB, kb) && e.ResultCode >= 2 && e.ResultCode <= 5 {
				latest = e
				break
			}
		}
		switch {
		case latest != nil && (latest.ResultCode == 4 || latest.ResultCode == 5):
			evidence(kb, scripts.VerdictStillFailing, scripts.SourceHistory, latest.Date, latest.HResult, latest.Title, "failed again at "+latest.Date)
		case latest != nil && latest.Operation == "installation":
			evidence(kb, scripts.VerdictRepaired, scripts.SourceHistory, latest.Date, 0, latest.Title, "installed at "+latest.Date)
		case hotfixes[kb]:
			evidence(kb, scripts.VerdictRepaired, scripts.SourceHotfix, "", 0, "", "listed as installed")
		default:
			evidence(kb, scripts.VerdictUnknown, "", "", 0, "", "no sign yet: not installed, not downloaded, no new result")
		}
	}

	overall := scripts.VerdictUnknown
	if slices.Contains(verdicts, scripts.VerdictStillFailing) {
		overall = scripts.VerdictStillFailing
	} else if !slices.Contains(verdicts, scripts.VerdictUnknown) {
		overall = scripts.VerdictRepaired
	}
	r.text("Verdict: " + overall + ".")
	return r.completeVerdict(scripts.StatusOK, "", "verdict: "+overall, overall)
}

// installPending is the automatic engine's work after a successful search
// on a fresh SoftwareDistribution: every update still failing is tried
// again, now. On a fixable host it installs, and the host's failure clears;
// otherwise it fails again as before. Without such a search nothing
// happens, so a host that was not repaired shows no new result.
func (r *psRun) installPending() {
	now := time.Now().UTC()
	r.m.Update(func(st *HostState) {
		if st.Repair != RepairDetected {
			return
		}
		st.Repair = RepairNone
		for _, e := range pendingUpdates(st.History) {
			e.Time = now
			if st.Fixable {
				e.Result, e.HResult = ResultSucceeded, 0
			}
			addEvent(st, e)
		}
		st.Failure = Host{History: st.History}.Failure()
	})
}

// installedKBs is Get-HotFix: the KBs installed as packages. Definition
// updates and the removal tool are not packages, so they are not listed.
func installedKBs(history []Event) map[string]bool {
	out := map[string]bool{}
	for _, e := range history {
		if e.Operation != OperationInstallation || (e.Result != ResultSucceeded && e.Result != ResultSucceededWithErrors) {
			continue
		}
		if strings.Contains(e.Title, "Security Intelligence Update") || strings.Contains(e.Title, "Malicious Software Removal Tool") {
			continue
		}
		if kb := eventKB(e); kb != "" {
			out[kb] = true
		}
	}
	return out
}
