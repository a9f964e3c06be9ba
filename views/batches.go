package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
	"wsusfix/store/run"
)

// BulkProps is the confirmation page before a bulk repair.
type BulkProps struct {
	Procedure string
	Hosts     []string // the hosts to repair, in order
	Shown     int      // how many names the page lists
	Query     TriageQuery
	FromQuery bool   // hosts chosen by the triage filter, not one by one
	Problem   string // why nothing can start, e.g. none selected
	Limit     int
	// Flagged are the hosts that deserve a second look (servers, critical
	// groups), with why, as HostFlag says.
	Flagged []FlaggedHost
}

// FlaggedHost is a host of a bulk repair flagged in its confirmation.
type FlaggedHost struct {
	Name, Why string
}

// BatchesProps is the list of batches, newest first.
type BatchesProps struct {
	Batches []store.BatchSummary
	Total   int
	Page    int
	Pages   int
}

// batchesPageHref is another page of the list.
func batchesPageHref(n int) templ.SafeURL {
	if n <= 1 {
		return "/batches"
	}
	return templ.SafeURL("/batches?page=" + strconv.Itoa(n))
}

// percentDone is how far a batch has got, 0 to 100, for its progress bar.
func percentDone(b store.BatchSummary) int {
	if b.Runs == 0 {
		return 100
	}
	return b.Ended * 100 / b.Runs
}

// outcomeSummary names a batch's outcomes by the groups of its page, e.g.
// "Repaired 12 · Ran and did not help 3", in the groups' order.
func outcomeSummary(outcomes map[run.Outcome]int) string {
	var parts []string
	for _, g := range outcomeGroups {
		if n := groupCount(outcomes, g.Outcomes); n > 0 {
			parts = append(parts, g.Label+" "+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, " · ")
}

// BatchProps is a batch's page.
type BatchProps struct {
	Batch    store.Batch
	Runs     []store.Run
	States   map[run.State]int
	Outcomes map[run.Outcome]int
	Active   bool
	Failed   int // runs a re-run would retry
	Ended    int // runs no longer queued or running
	// Steps is the step each active run is in.
	Steps map[int64]run.Step
	// ETA is when the batch should end at its pace so far; zero until a
	// run has ended, and once all have.
	ETA    time.Time
	Now    time.Time
	CanAct bool // the user may cancel and re-run its runs
}

// BatchETA estimates when a batch ends from its pace so far: the time
// since it began per ended run, for the runs still going. Zero before any
// run has ended or after all have.
func BatchETA(created, now time.Time, ended, total int) time.Time {
	if ended == 0 || ended >= total {
		return time.Time{}
	}
	per := now.Sub(created) / time.Duration(ended)
	return now.Add(per * time.Duration(total-ended))
}

// BatchHref is a batch's page.
func BatchHref(id int64) templ.SafeURL { return templ.SafeURL("/batches/" + strconv.FormatInt(id, 10)) }

// outcomeGroups sorts run outcomes into what a lead needs apart: hosts the
// repair could not even run on, and hosts where it ran and did not help.
var outcomeGroups = []struct {
	Label    string
	Outcomes []run.Outcome
}{
	{"Repaired", []run.Outcome{run.OutcomeRepaired}},
	{"Ran, no evidence yet", []run.Outcome{run.OutcomeUnknown, run.OutcomeChecked, run.OutcomeDownloaded, run.OutcomeScanRunning}},
	{"Ran and did not help", []run.Outcome{run.OutcomeStillFailing}},
	{"Could not run: unreachable", []run.Outcome{run.OutcomeUnreachable, run.OutcomeTimedOut}},
	{"Could not run: credentials, rights or settings", []run.Outcome{run.OutcomeAuth, run.OutcomeQuota, run.OutcomeNotConfigured}},
	{"Could not run: refused by preflight", []run.Outcome{run.OutcomeRefused}},
	{"Error", []run.Outcome{run.OutcomeError}},
	{"Cancelled or interrupted", []run.Outcome{run.OutcomeCancelled, run.OutcomeInterrupted}},
}

func groupCount(outcomes map[run.Outcome]int, names []run.Outcome) int {
	n := 0
	for _, o := range names {
		n += outcomes[o]
	}
	return n
}

// batchProgressText is "3 of 10 ended; about 2m0s left".
func batchProgressText(p BatchProps) string {
	t := strconv.Itoa(p.Ended) + " of " + strconv.Itoa(len(p.Runs)) + " ended"
	if !p.ETA.IsZero() {
		t += "; about " + FormatDuration(p.ETA.Sub(p.Now)) + " left"
	}
	return t
}
