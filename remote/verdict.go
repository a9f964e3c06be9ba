package remote

import (
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

// failingUpdates names the updates verify must see installed: the job's
// failing KBs with the update ids the saved history gives them, or, when
// the job names none, every update whose newest attempt in the saved
// history failed. Definition updates are left out of the latter: they fail
// and install again several times a day and prove nothing about a repair.
func failingUpdates(jobKBs []string, history []scripts.Line) (kbs, ids []string) {
	var entries []scripts.HistoryEntry
	for _, l := range history {
		var h scripts.History
		if l.Kind == scripts.KindHistory && l.Decode(&h) == nil {
			entries = append(entries, h.Entries...)
		}
	}
	addID := func(id string) {
		if id = strings.ToLower(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(jobKBs) > 0 {
		for _, kb := range jobKBs {
			kbs = append(kbs, strings.ToUpper(kb))
			for _, e := range entries {
				if strings.EqualFold(e.KB, kb) {
					addID(e.UpdateID)
				}
			}
		}
		return kbs, ids
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
		switch {
		case e.UpdateID != "":
			addID(e.UpdateID)
		case e.KB != "" && !slices.Contains(kbs, e.KB):
			kbs = append(kbs, e.KB)
		}
	}
	return kbs, ids
}
