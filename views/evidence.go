package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// EvidenceDays is the window of the estate's evidence: what the repair did
// here in the last 90 days.
const EvidenceDays = 90

// Evidence is what the KB 910336 repair did in this estate for one code,
// ready to show beside the code's suggested action.
type Evidence struct {
	Code  string // "0x80070002"
	E     store.Evidence
	Since time.Time // the window's start
}

// EvidenceFor returns the evidence of code from all (nil when the repair
// never ran for it in the window).
func EvidenceFor(all map[uint32]store.Evidence, hresult uint32, since time.Time) *Evidence {
	e, ok := all[hresult]
	if !ok || e.Hosts == 0 {
		return nil
	}
	return &Evidence{Code: fmt.Sprintf("0x%08X", hresult), E: e, Since: since}
}

// Text says it in one sentence: "Here, KB 910336 repaired 47 of 51 hosts
// with 0x80070002 in the last 90 days; 3 still failing, 1 could not run."
func (v Evidence) Text() string {
	e := v.E
	s := "Here, KB 910336 repaired " + strconv.Itoa(e.Repaired) + " of " + countWords(e.Hosts, "host") + " with " +
		v.Code + " in the last " + strconv.Itoa(EvidenceDays) + " days"
	var rest []string
	if e.StillFailing > 0 {
		rest = append(rest, strconv.Itoa(e.StillFailing)+" still failing")
	}
	if e.CouldNotRun > 0 {
		rest = append(rest, strconv.Itoa(e.CouldNotRun)+" could not run")
	}
	if e.NoProof > 0 {
		rest = append(rest, strconv.Itoa(e.NoProof)+" not proven yet")
	}
	if e.Stopped > 0 {
		rest = append(rest, strconv.Itoa(e.Stopped)+" stopped")
	}
	if len(rest) > 0 {
		s += "; " + strings.Join(rest, ", ")
	}
	return s + "."
}

// Short is the evidence for a table cell: "47 of 51 fixed here".
func (v Evidence) Short() string {
	return strconv.Itoa(v.E.Repaired) + " of " + strconv.Itoa(v.E.Hosts) + " fixed here"
}

// Href lists the repair runs the evidence counts.
func (v Evidence) Href() templ.SafeURL {
	return RunsQuery{Code: v.Code, From: v.Since.UTC().Format("2006-01-02")}.Href()
}
