package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// ErrorInfo is a decoded HRESULT as the pages show it.
type ErrorInfo struct {
	Code          string // "0x80070002"
	Symbol        string // "ERROR_FILE_NOT_FOUND"
	Meaning       string
	Action        string
	Category      string
	RepairApplies bool // the KB 910336 repair is the right fix
}

// TriageQuery is the triage page's state as it travels in the URL: filters,
// sort and page. Its zero value is the unfiltered first page.
type TriageQuery struct {
	Code  string // canonical "0x80070002", or ""
	Group string
	Q     string // substring of the host name
	Sort  string // a store.Sort* key; "" means newest failure first
	Desc  bool
	Page  int // 1-based; 0 means 1
}

// Values encodes the query, leaving defaults out so URLs stay short.
func (q TriageQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("code", q.Code)
	set("group", q.Group)
	set("q", q.Q)
	set("sort", q.Sort)
	if q.Sort != "" && q.Desc {
		v.Set("dir", "desc")
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// Href returns path with the query attached.
func (q TriageQuery) Href(path string) templ.SafeURL {
	if enc := q.Values().Encode(); enc != "" {
		return templ.SafeURL(path + "?" + enc)
	}
	return templ.SafeURL(path)
}

// WithPage returns the query on page n.
func (q TriageQuery) WithPage(n int) TriageQuery { q.Page = n; return q }

// WithCode returns the query filtered to code ("" clears it), on page 1.
func (q TriageQuery) WithCode(code string) TriageQuery { q.Code, q.Page = code, 1; return q }

// WithSort returns the query sorted by key: ascending first, then toggling.
func (q TriageQuery) WithSort(key string) TriageQuery {
	if q.sortKey() == key {
		// The default order (no sort) is newest failure first, whatever
		// Desc says, and it travels as no sort at all: name the key so the
		// reversed order survives the URL.
		q.Desc = q.ariaSort(key) != "descending"
	} else {
		q.Desc = key == store.SortFailedAt
	}
	q.Sort, q.Page = key, 1
	return q
}

// codeShown reports whether the list holds one code's hosts only, whose
// meaning and action are then said once above it instead of on every row.
func (p TriageProps) codeShown() bool {
	return p.Query.Code != "" && len(p.Rows) > 0 && p.Rows[0].Error.Code == p.Query.Code
}

// HostHref is a host's page that leads back to this triage view: its
// "← Failing hosts" keeps the filters, sort and page the user came from.
func (q TriageQuery) HostHref(name string) templ.SafeURL {
	v := q.Values()
	if len(v) == 0 {
		return HostHref(name)
	}
	return templ.SafeURL(string(HostHref(name)) + "?back=" + url.QueryEscape(v.Encode()))
}

// Filtered reports whether any filter narrows the list.
func (q TriageQuery) Filtered() bool { return q.Code != "" || q.Group != "" || q.Q != "" }

func (q TriageQuery) sortKey() string {
	if q.Sort == "" {
		return store.SortFailedAt
	}
	return q.Sort
}

// ariaSort is the aria-sort value of the column with key.
func (q TriageQuery) ariaSort(key string) string {
	switch {
	case q.sortKey() != key:
		return "none"
	case q.Desc || (q.Sort == "" && key == store.SortFailedAt):
		return "descending"
	default:
		return "ascending"
	}
}

// TriageRow is one failing host with its decoded error.
type TriageRow struct {
	Host    store.Host
	Error   ErrorInfo
	LastRun *store.Run // the host's newest run; nil when none ran
}

// lastRunLabel is a run's outcome in a word or two for the triage list.
func lastRunLabel(r store.Run) string {
	if r.Active() {
		return string(r.State)
	}
	if r.Outcome == "" {
		return string(r.State)
	}
	return strings.ReplaceAll(string(r.Outcome), "_", " ")
}

// CodeCount is the number of failing hosts sharing one error.
type CodeCount struct {
	Error ErrorInfo
	Hosts int
}

// TriageProps is everything the triage page shows.
type TriageProps struct {
	Query     TriageQuery
	Rows      []TriageRow
	Counts    []CodeCount
	Groups    []string
	Matching  int // failing hosts matching the filters
	Failing   int // failing hosts in all (within group and search)
	Inventory int // hosts in the inventory
	Page      int
	Pages     int
	CanRepair bool // the user's role may start runs: only then are selection and bulk repair offered
	// LastSync is the newest sync from WSUS that committed what it read;
	// nil when the inventory never came from WSUS.
	LastSync *store.Sync
	// Evidence is what the repair did here by code, since EvidenceSince.
	Evidence      map[uint32]store.Evidence
	EvidenceSince time.Time
}

// evidence is the estate's evidence for a code shown on the page, or nil.
func (p TriageProps) evidence(hresult uint32) *Evidence {
	return EvidenceFor(p.Evidence, hresult, p.EvidenceSince)
}

// When formats a time for tables: UTC, to the minute; empty for zero.
func When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// ISO formats a time for the datetime attribute.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// HostHref is the URL of a host's page; the name is path-escaped.
func HostHref(name string) templ.SafeURL {
	return templ.SafeURL("/hosts/" + url.PathEscape(name))
}

func itoa(n int) string { return strconv.Itoa(n) }

// repairAllLabel names the bulk action for the current filter.
func repairAllLabel(p TriageProps) string {
	if p.Query.Code != "" {
		return "Repair all " + itoa(p.Matching) + " hosts with " + p.Query.Code + "…"
	}
	return "Repair all " + itoa(p.Matching) + " matching hosts…"
}
