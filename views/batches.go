package views

import (
	"strconv"

	"github.com/a-h/templ"

	"wsusfix/store"
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
}

// BatchProps is a batch's page.
type BatchProps struct {
	Batch    store.Batch
	Runs     []store.Run
	States   map[string]int
	Outcomes map[string]int
	Active   bool
	Failed   int // runs a re-run would retry
}

// BatchHref is a batch's page.
func BatchHref(id int64) templ.SafeURL { return templ.SafeURL("/batches/" + strconv.FormatInt(id, 10)) }

// outcomeGroups sorts run outcomes into what a lead needs apart: hosts the
// repair could not even run on, and hosts where it ran and did not help.
var outcomeGroups = []struct {
	Label    string
	Outcomes []string
}{
	{"Repaired", []string{"repaired"}},
	{"Ran, no evidence yet", []string{"unknown", "checked", "downloaded", "scan_running"}},
	{"Ran and did not help", []string{"still_failing"}},
	{"Could not run: unreachable", []string{"unreachable", "timed_out"}},
	{"Could not run: credentials, rights or settings", []string{"auth", "quota", "not_configured"}},
	{"Could not run: refused by preflight", []string{"refused"}},
	{"Error", []string{"error"}},
	{"Cancelled or interrupted", []string{"cancelled", "interrupted"}},
}

func groupCount(outcomes map[string]int, names []string) int {
	n := 0
	for _, o := range names {
		n += outcomes[o]
	}
	return n
}
