package repair

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// This file holds what the procedure tells verify to look for: which
// updates, and since when.

// hostTime is when the rename happened by the host's own clock: the time
// stamp of its successful attempt line, else of its result line (a rename
// skipped because an earlier run got that far). Without either, the
// dashboard's time of the rename stands in.
func hostTime(lines []scripts.Line, fallback time.Time) string {
	var at, done string
	for _, l := range lines {
		switch l.Kind {
		case scripts.KindRename:
			var a scripts.RenameAttempt
			if l.Decode(&a) == nil && a.OK && a.Attempt > 0 && a.TS != "" {
				at = a.TS
			}
		case scripts.KindResult:
			var r scripts.Result
			if l.Decode(&r) == nil && r.TS != "" {
				done = r.TS
			}
		}
	}
	for _, ts := range []string{at, done} {
		if t, err := time.Parse(time.RFC3339, ts); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return fallback.UTC().Format(time.RFC3339)
}

// failingUpdates names what verify must see installed: the job's failing
// KBs with the update ids the saved history gives them; or, when the job
// names none, the kinds (scripts.UpdateKind) of the updates whose newest
// attempt in the saved history failed, so a newer update of the same kind
// that supersedes the failed one counts too. Definition updates are left
// out: they fail and install again several times a day and prove nothing
// about a repair.
func failingUpdates(jobKBs []string, history []scripts.Line) (kbs, ids, kinds []string) {
	var entries []scripts.HistoryEntry
	for _, l := range history {
		var h scripts.History
		if l.Kind == scripts.KindHistory && l.Decode(&h) == nil {
			entries = append(entries, h.Entries...)
		}
	}
	for _, kb := range jobKBs {
		if kb = strings.ToUpper(kb); kbNumber.MatchString(kb) && !slices.Contains(kbs, kb) {
			kbs = append(kbs, kb)
		}
	}
	if len(kbs) > 0 {
		for _, e := range entries {
			// Ids come from the host: verify refuses the whole step on one
			// it cannot read, so only well-formed ones are passed on.
			id := strings.ToLower(e.UpdateID)
			if slices.ContainsFunc(kbs, func(kb string) bool { return strings.EqualFold(e.KB, kb) }) &&
				guid.MatchString(id) && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		return kbs, ids, nil
	}
	// Entries are newest first: the first seen of each update is its newest.
	seen := map[string]bool{}
	for _, e := range entries {
		key := strings.ToLower(e.UpdateID)
		if key == "" {
			key = e.KB + "|" + e.Title
		}
		if seen[key] || e.Operation != "installation" || e.ResultCode < 2 || e.ResultCode > 5 {
			continue
		}
		seen[key] = true
		if e.ResultCode < 4 || scripts.DefinitionUpdate(e.KB, e.Title) {
			continue
		}
		if k := scripts.UpdateKind(e.Title); k != "" && len(k) <= 300 && len(kinds) < 50 && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return nil, nil, kinds
}

// downloaded names the updates verify found downloaded and not installed:
// their KBs, or, when no line names one (verify was given only ids or
// kinds), their titles.
func downloaded(lines []scripts.Line) string {
	var kbs, titles []string
	for _, l := range lines {
		var e scripts.Evidence
		if l.Kind != scripts.KindEvidence || l.Decode(&e) != nil || e.Verdict != scripts.VerdictDownloaded {
			continue
		}
		if e.KB != "" && !slices.Contains(kbs, e.KB) {
			kbs = append(kbs, e.KB)
		}
		if t := orText(e.Title, e.UpdateID); t != "" && !slices.Contains(titles, t) {
			titles = append(titles, t)
		}
	}
	switch {
	case len(kbs) > 0:
		return strings.Join(kbs, ", ")
	case len(titles) > 0:
		return strings.Join(titles, ", ")
	}
	return "the update"
}

// The forms verify.ps1 accepts for update ids and KBs.
var (
	guid     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	kbNumber = regexp.MustCompile(`^KB[0-9]{1,8}$`)
)
