package sim

import (
	"fmt"
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

// runVerify is verify.ps1: evidence per KB or update id from the history
// since the rename, the offline search of downloaded updates, and
// Get-HotFix, which never counts as a repair.
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
	if len(p.Kinds) > 50 || slices.ContainsFunc(p.Kinds, func(k string) bool { return len(k) > 300 }) {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "kinds holds too many or too long entries")
	}
	ofKind := func(title string) bool {
		return len(p.Kinds) == 0 || slices.Contains(p.Kinds, scripts.UpdateKind(title))
	}
	var targets []verifyTarget
	for _, kb := range p.KBs {
		if kb == "" {
			continue
		}
		if !verifyKBPattern.MatchString(kb) {
			return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "every kbs entry must look like KB5031364")
		}
		targets = append(targets, verifyTarget{kb: strings.ToUpper(kb)})
	}
	for _, id := range p.UpdateIDs {
		if id == "" {
			continue
		}
		if !guidPattern.MatchString(id) {
			return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "every update_ids entry must be a GUID")
		}
		targets = append(targets, verifyTarget{id: strings.ToLower(id)})
	}

	r.text("Looking for evidence since " + sinceText + ".")
	r.installPending()
	sources := 0

	// History since the rename, newest first, compared as text like the
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

	// The offline search of what was downloaded and not installed.
	if !r.sleep(r.vary(300*time.Millisecond, 500*time.Millisecond)) {
		return exitCtrlC
	}
	var downloaded []Event
	if hr, msg := r.startAgent(); hr != 0 {
		r.warn(scripts.WarnSearchUnavailable, "downloaded updates: "+msg)
	} else {
		downloaded = r.m.State().Downloaded
		sources++
	}
	if sources == 0 {
		return r.complete(scripts.StatusFailed, scripts.ReasonHistoryUnreadable, "no source of evidence could be read")
	}

	var verdicts []string
	evidence := func(kb, id, verdict, source, date string, hr uint32, title, detail string) {
		r.text("  " + orString(kb, id) + " " + verdict + ": " + detail)
		r.line(scripts.Evidence{Header: r.header(scripts.KindEvidence), KB: kb, UpdateID: id, Verdict: verdict, Source: source,
			Date: date, HResult: hr, Title: title, Detail: detail})
		verdicts = append(verdicts, verdict)
	}
	if len(targets) == 0 {
		// No update named: the newest result of each update counts,
		// definition updates aside, and a failure outweighs any success.
		decided := map[string]bool{}
		var failure, success *scripts.HistoryEntry
		definitions := 0
		for i := range entries {
			e := &entries[i]
			key := e.UpdateID + "|" + e.Title
			if e.ResultCode < 2 || e.ResultCode > 5 || decided[key] {
				continue
			}
			decided[key] = true
			switch {
			case scripts.DefinitionUpdate(e.KB, e.Title):
				definitions++
			case !ofKind(e.Title):
			case e.ResultCode >= 4:
				if failure == nil {
					failure = e
				}
			case e.Operation == "installation" && success == nil:
				success = e
			}
		}
		var fresh *Event
		for i := range downloaded {
			if d := &downloaded[i]; fresh == nil && !scripts.DefinitionUpdate(eventKB(*d), d.Title) && ofKind(d.Title) {
				fresh = d
			}
		}
		switch {
		case failure != nil:
			evidence(failure.KB, failure.UpdateID, scripts.VerdictStillFailing, scripts.SourceHistory, failure.Date, failure.HResult, failure.Title, "failed again: "+failure.Title)
		case success != nil:
			evidence(success.KB, success.UpdateID, scripts.VerdictRepaired, scripts.SourceHistory, success.Date, 0, success.Title, "installed: "+success.Title)
		case fresh != nil:
			evidence("", fresh.UpdateID, scripts.VerdictDownloaded, scripts.SourceDownload, "", 0, fresh.Title, "downloaded; install not yet attempted: "+fresh.Title)
		default:
			detail := "no install result since the repair yet"
			if definitions > 0 {
				detail += " (definition updates installed, which prove nothing)"
			}
			evidence("", "", scripts.VerdictUnknown, "", "", 0, "", detail)
		}
	}
	for _, tg := range targets {
		// The newest finished install result for this update decides.
		var latest *scripts.HistoryEntry
		for i := range entries {
			if e := &entries[i]; tg.matches(e.KB, e.UpdateID) && e.ResultCode >= 2 && e.ResultCode <= 5 {
				latest = e
				break
			}
		}
		var download *Event
		for i := range downloaded {
			if d := &downloaded[i]; download == nil && tg.matches(eventKB(*d), d.UpdateID) {
				download = d
			}
		}
		switch {
		case latest != nil && (latest.ResultCode == 4 || latest.ResultCode == 5):
			evidence(tg.kb, tg.id, scripts.VerdictStillFailing, scripts.SourceHistory, latest.Date, latest.HResult, latest.Title, "failed again at "+latest.Date)
		case latest != nil && latest.Operation == "installation":
			evidence(tg.kb, tg.id, scripts.VerdictRepaired, scripts.SourceHistory, latest.Date, 0, latest.Title, "installed at "+latest.Date)
		case download != nil:
			evidence(tg.kb, tg.id, scripts.VerdictDownloaded, scripts.SourceDownload, "", 0, download.Title, "downloaded; install not yet attempted")
		case tg.kb != "" && hotfixes[tg.kb]:
			evidence(tg.kb, tg.id, scripts.VerdictUnknown, scripts.SourceHotfix, "", 0, "", "listed as installed, but with no install since the repair: it may predate it")
		default:
			evidence(tg.kb, tg.id, scripts.VerdictUnknown, "", "", 0, "", "no sign yet: not installed, not downloaded, no new result")
		}
	}

	overall := scripts.VerdictRepaired
	switch {
	case slices.Contains(verdicts, scripts.VerdictStillFailing):
		overall = scripts.VerdictStillFailing
	case slices.Contains(verdicts, scripts.VerdictUnknown):
		overall = scripts.VerdictUnknown
	case slices.Contains(verdicts, scripts.VerdictDownloaded):
		overall = scripts.VerdictDownloaded
	}
	r.text("Verdict: " + verdictWords[overall] + ".")
	return r.completeVerdict(scripts.StatusOK, "", verdictWords[overall], overall)
}

// verifyTarget is one update verify looks for, by KB or update id.
type verifyTarget struct{ kb, id string }

func (tg verifyTarget) matches(kb, id string) bool {
	return (tg.kb != "" && strings.EqualFold(tg.kb, kb)) || (tg.id != "" && strings.EqualFold(tg.id, id))
}

var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// installPending is the automatic engine's work after a successful search
// on a fresh SoftwareDistribution: every update still failing is tried
// again, now, unless Quirks.AfterScan says otherwise. On a fixable host it installs, and the host's failure clears;
// otherwise it fails again as before. Without such a search nothing
// happens, so a host that was not repaired shows no new result.
func (r *psRun) installPending() {
	r.m.Update(func(st *HostState) {
		if st.Repair != RepairDetected {
			return
		}
		st.Repair = RepairNone
		now := time.Now().Add(st.ClockSkew).UTC()
		switch st.AfterScan {
		case AfterScanDefinition:
			// Only Defender's definitions install (FaultDefinitionUpdate).
			addEvent(st, Event{Time: now, UpdateID: definitionUpdateID, KB: DefinitionKB,
				Title:     "Security Intelligence Update for Microsoft Defender Antivirus - " + DefinitionKB + " (Version 1.421.1234.0)",
				Operation: OperationInstallation, Result: ResultSucceeded})
			return
		case AfterScanDownload:
			// Downloaded again, not installed (FaultDownloadOnly).
			st.Downloaded = pendingUpdates(st.History)
			return
		case AfterScanSupersede:
			// A newer update of each failing one's kind installs instead
			// (FaultSuperseded).
			for _, e := range pendingUpdates(st.History) {
				addEvent(st, superseding(e, now))
			}
			return
		}
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

// definitionUpdateID is the update id of the simulated definition update.
const definitionUpdateID = "2267602a-0000-4000-8000-defe0de0f1ed"

// superseding is the newer update of e's kind that supersedes it: the next
// month's release, with another KB and update id, installed at now.
func superseding(e Event, now time.Time) Event {
	kb := eventKB(e)
	next := kb
	if n, err := strconv.Atoi(strings.TrimPrefix(kb, "KB")); err == nil {
		next = "KB" + strconv.Itoa(n+2336)
	}
	title := strings.Replace(e.Title, kb, next, 1)
	if len(title) > 8 && title[4] == '-' && title[7] == ' ' {
		title = now.Format("2006-01") + title[7:]
	}
	h := fnv(e.UpdateID + "|superseded")
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>48)&0xfff, uint16(h>>8)&0xfff, h&0xffffffffffff)
	return Event{Time: now, UpdateID: id, KB: next, Title: title, Operation: OperationInstallation, Result: ResultSucceeded}
}

// orString is a, or b when a is empty.
func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// verdictWords is verify.ps1's $words: the verdict for people, beside the
// key the procedure reads.
var verdictWords = map[string]string{
	scripts.VerdictRepaired:     "repaired: the update that failed has installed since the reset",
	scripts.VerdictStillFailing: "still failing: the update failed again after the reset",
	scripts.VerdictDownloaded:   "downloaded again, not installed yet",
	scripts.VerdictUnknown:      "no evidence yet either way",
}
