package views

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// ReportsQuery is the reports page's filters: triage's group and code, a
// date range for repairs, and the days after which a silent host is stale.
type ReportsQuery struct {
	Group string
	Code  string // "0x80070002"; "" for every code
	From  string // YYYY-MM-DD
	To    string // YYYY-MM-DD, inclusive
	Stale int
}

// values are the query's URL parameters.
func (q ReportsQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"group": q.Group, "code": q.Code, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Stale > 0 {
		v.Set("stale", strconv.Itoa(q.Stale))
	}
	return v
}

// ExportHref is the export of one list of the report (compliance,
// activity, codes) in format f, under the same filters.
func (q ReportsQuery) ExportHref(list, f string) templ.SafeURL {
	u := "/reports/" + list + "." + f
	if v := q.values(); len(v) > 0 {
		u += "?" + v.Encode()
	}
	return templ.SafeURL(u)
}

// Describe says the filters in words, for the printed report's header.
func (q ReportsQuery) Describe() string {
	s := "repairs from " + q.From + " to " + q.To
	if q.Group != "" {
		s = "group " + q.Group + ", " + s
	}
	if q.Code != "" {
		s = "error " + q.Code + ", " + s
	}
	return s + "; hosts silent for " + strconv.Itoa(q.Stale) + " days count as stale"
}

// CodeEvidence is the repair's record for one error code.
type CodeEvidence struct {
	Error ErrorInfo
	E     store.Evidence
}

// ReportsProps is what the reports page shows.
type ReportsProps struct {
	Query      ReportsQuery
	Estate     string // what the report is of: the WSUS server, or the inventory
	Generated  time.Time
	Groups     []string
	Compliance []store.GroupCompliance
	Activity   []store.WeekActivity
	ByCode     []CodeEvidence // most hosts first
	ByOS       []store.OSSuccess
	Median     time.Duration // from failure to verified repair
	MedianOf   int
	Failures   []store.WeekFailures   // today's failing hosts by the week they began failing
	Trend      []store.WeekCompliance // compliance at the end of each week, as counted then
}

// trendChart draws compliance week by week, as it was counted.
func (p ReportsProps) trendChart() Chart {
	c := Chart{ID: "trend", Title: "Compliance by week",
		Desc: "Hosts at the end of each week as counted then: compliant, failing, stale or unknown; the table below has the same numbers."}
	for _, w := range p.Trend {
		c.Bars = append(c.Bars, Bar{Label: "Week of " + w.Week.Format("2006-01-02"), Segments: []Segment{
			{w.Okay, "compliant", "s-ok"}, {w.Failing, "failing", "s-bad"}, {w.Stale + w.Unknown, "stale or unknown", "s-warn"}}})
	}
	return c
}

// failuresChart draws today's failures by the week they began and code:
// the four commonest codes, and the rest together.
func (p ReportsProps) failuresChart() (Chart, []uint32) {
	totals := map[uint32]int{}
	for _, w := range p.Failures {
		for c, n := range w.ByCode {
			totals[c] += n
		}
	}
	codes := make([]uint32, 0, len(totals))
	for c := range totals {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b uint32) int {
		if totals[a] != totals[b] {
			return totals[b] - totals[a]
		}
		return cmp.Compare(a, b)
	})
	top := codes[:min(4, len(codes))]
	c := Chart{ID: "failures", Title: "Failing hosts by the week their failure began",
		Desc: "Today's failing hosts, by the week of their failure and its error code; the table below has the same numbers."}
	for _, w := range p.Failures {
		var segs []Segment
		other := 0
		for code, n := range w.ByCode {
			if !slices.Contains(top, code) {
				other += n
			}
		}
		for i, code := range top {
			segs = append(segs, Segment{w.ByCode[code], fmt.Sprintf("0x%08X", code), "c" + strconv.Itoa(i+1)})
		}
		segs = append(segs, Segment{other, "other codes", "c5"})
		c.Bars = append(c.Bars, Bar{Label: "Week of " + w.Week.Format("2006-01-02"), Segments: segs})
	}
	return c, top
}

// failureCount is one week's failures with code, or with codes not in top
// when code is 0.
func failureCount(w store.WeekFailures, code uint32, top []uint32) int {
	if code != 0 {
		return w.ByCode[code]
	}
	n := 0
	for c, k := range w.ByCode {
		if !slices.Contains(top, c) {
			n += k
		}
	}
	return n
}

// totals sums compliance over the groups shown.
func (p ReportsProps) totals() store.GroupCompliance {
	var t store.GroupCompliance
	for _, g := range p.Compliance {
		t.Hosts += g.Hosts
		t.Failing += g.Failing
		t.Stale += g.Stale
		t.Unknown += g.Unknown
		t.Okay += g.Okay
	}
	return t
}

// repairs sums the activity: every repair that finished in the range.
func (p ReportsProps) repairs() store.Evidence {
	var t store.Evidence
	for _, w := range p.Activity {
		t.Repaired += w.Repaired
		t.StillFailing += w.StillFailing
		t.CouldNotRun += w.CouldNotRun
		t.NoProof += w.NoProof
		t.Stopped += w.Stopped
	}
	t.Hosts = t.Repaired + t.StillFailing + t.CouldNotRun + t.NoProof + t.Stopped
	return t
}

// notFixed are the codes the repair ran on and did not fix somewhere.
func (p ReportsProps) notFixed() []CodeEvidence {
	var out []CodeEvidence
	for _, c := range p.ByCode {
		if c.E.StillFailing > 0 {
			out = append(out, c)
		}
	}
	return out
}

// percent writes a share as a whole percentage; "—" of nothing.
func percent(n, of int) string {
	if of == 0 {
		return "—"
	}
	return strconv.Itoa(int(float64(n)*100/float64(of)+0.5)) + "%"
}

// tried is how many repairs ran on the host at all (not refused or
// unreachable), the base of a success rate.
func tried(e store.Evidence) int { return e.Repaired + e.StillFailing + e.NoProof }

// complianceChart draws compliance by group.
func (p ReportsProps) complianceChart() Chart {
	c := Chart{ID: "compliance", Title: "Compliance by WSUS group",
		Desc: "Hosts of each group: failing, stale, unknown and compliant; the table below has the same numbers."}
	for _, g := range p.Compliance {
		c.Bars = append(c.Bars, Bar{Label: orNone(g.Group), Segments: []Segment{
			{g.Failing, "failing", "s-bad"}, {g.Stale, "stale", "s-warn"}, {g.Unknown, "unknown", "s-muted"}, {g.Okay, "compliant", "s-ok"}}})
	}
	return c
}

// activityChart draws the repairs of each week by outcome.
func (p ReportsProps) activityChart() Chart {
	c := Chart{ID: "activity", Title: "Repairs by week and outcome",
		Desc: "Repairs finished each week: verified, still failing, could not run, and other; the table below has the same numbers."}
	for _, w := range p.Activity {
		c.Bars = append(c.Bars, Bar{Label: "Week of " + w.Week.Format("2006-01-02"), Segments: []Segment{
			{w.Repaired, "repaired", "s-ok"}, {w.StillFailing, "still failing", "s-bad"}, {w.CouldNotRun, "could not run", "s-warn"},
			{w.NoProof + w.Stopped, "other", "s-muted"}}})
	}
	return c
}

// orNone names the hosts of no group.
func orNone(g string) string {
	if g == "" {
		return "(no group)"
	}
	return g
}

// durationWords writes a time to repair for people: "3 days 4 hours".
func durationWords(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case days > 0:
		return fmt.Sprintf("%s %s", countWords(days, "day"), countWords(hours, "hour"))
	case hours > 0:
		return countWords(hours, "hour")
	}
	return countWords(int(d/time.Minute), "minute")
}
