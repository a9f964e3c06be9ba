package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wsusfix/remote/wsus"
	"wsusfix/store"
)

// TabSync is the admin page of the inventory sync.
const TabSync AdminTab = "sync"

// SyncProps is what the sync pages show. Without a scheduler (no WSUS
// server configured) Server is empty and only past syncs are listed.
type SyncProps struct {
	Server   string
	Interval time.Duration // 0: the schedule is off
	Current  *wsus.Status  // the sync running now, if any
	Next     time.Time     // when the next scheduled sync is due
	ETA      time.Time     // when the running sync should end; zero when unknown
	Syncs    []store.Sync  // newest first; on a sync's own page, just it
	Now      time.Time
	Busy     bool // "Sync now" was refused: one was running
	// Critical are the WSUS groups marked critical: their hosts are
	// flagged in every repair confirmation.
	Critical      []string
	CriticalSaved bool   // the list was just saved
	CriticalError string // why the list was refused
}

// SyncHref is the URL of one sync's page.
func SyncHref(id int64) templ.SafeURL {
	return templ.SafeURL("/admin/syncs/" + strconv.FormatInt(id, 10))
}

// SyncKind says which kind of sync it was, in words.
func SyncKind(full bool) string {
	if full {
		return "full reconcile"
	}
	return "incremental"
}

// syncStartedBy says who started a sync, in words.
func syncStartedBy(by string) string {
	switch by {
	case store.SyncBySchedule:
		return "the schedule"
	case store.SyncByStart:
		return "the demo's start"
	case store.SyncByCommand:
		return "wsusfix sync"
	}
	return by
}

// syncOutcome gives an outcome's words and tag colour.
func syncOutcome(o store.SyncOutcome) (string, string) {
	switch o {
	case store.SyncSucceeded:
		return "succeeded", "tag ok"
	case store.SyncPartial:
		return "some records refused", "tag warn"
	case store.SyncRunning:
		return "running", "tag info"
	case store.SyncInterrupted:
		return "interrupted", "tag warn"
	}
	return "failed", "tag bad"
}

// syncCounts says what a sync did, in one line.
func syncCounts(c store.SyncCounts) string {
	s := countWords(c.Computers, "computer") + " (new " + strconv.Itoa(c.New) + ", updated " + strconv.Itoa(c.Updated) +
		", gone " + strconv.Itoa(c.Gone) + "), " + strconv.Itoa(c.Failing) + " failing, " + countWords(c.Events, "error event") +
		", " + nouns(c.History, "1 new history entry", strconv.Itoa(c.History)+" new history entries")
	if c.Ghosts > 0 {
		s += ", " + countWords(c.Ghosts, "missing update") + " skipped"
	}
	if c.Problems > 0 {
		s += ", " + countWords(c.Problems, "record") + " refused"
	}
	return s
}

// progressText says how far the running sync has got.
func progressText(s wsus.Status) string {
	p := s.Progress
	t := strconv.Itoa(p.Read) + " read, " + strconv.Itoa(p.Committed) + " committed"
	if p.Total > 0 {
		t += " of " + strconv.Itoa(p.Total)
	}
	return t
}

// progressPercent is the share of the total committed, 0 to 100.
func progressPercent(s wsus.Status) int {
	if s.Progress.Total <= 0 {
		return 0
	}
	return min(100, s.Progress.Committed*100/s.Progress.Total)
}

// everyText says the schedule in words.
func everyText(d time.Duration) string {
	if d <= 0 {
		return "off: syncs run only with Sync now"
	}
	switch {
	case d%time.Hour == 0:
		return "every " + nouns(int(d/time.Hour), "hour", strconv.Itoa(int(d/time.Hour))+" hours")
	case d%time.Minute == 0:
		return "every " + nouns(int(d/time.Minute), "minute", strconv.Itoa(int(d/time.Minute))+" minutes")
	}
	return "every " + FormatDuration(d)
}

// nouns picks the words for one or for many; many has the count in it.
func nouns(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// syncedNote qualifies triage's "inventory synced": its kind, and whether
// records were refused.
func syncedNote(y store.Sync) string {
	if y.Outcome == store.SyncPartial {
		return SyncKind(y.Full) + ", some records refused"
	}
	return SyncKind(y.Full)
}

// criticalText is the critical groups as the form shows them, a line each.
func criticalText(groups []string) string { return strings.Join(groups, "\n") }
