package views

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// HostProps is everything a host's page shows.
type HostProps struct {
	Host         store.Host
	Failure      *ErrorInfo // decoded newest failure; nil when none
	History      []HistoryRow
	HistoryTotal int
	Page         int
	Pages        int
	Runs         []store.Run // newest first
	ActiveRun    *store.Run  // the run in progress, if any
	RepairOff    string      // why repair is unavailable, e.g. WinRM not configured; "" when it is
	CanRepair    bool        // the user's role allows starting runs
	Back         TriageQuery // the triage view the user came from, for the back link
	Evidence     *Evidence   // what the repair did here for the host's code; nil when it never ran for it
}

// RepairConfirmProps is the page that asks before one host is repaired.
type RepairConfirmProps struct {
	Host      store.Host
	Failure   *ErrorInfo // decoded newest failure; nil when none
	RepairOff string     // why repair is unavailable; "" when it is
	Critical  []string   // the WSUS groups an admin marked critical
}

// Expected reports whether KB 910336 is the known fix for the host's failure.
func (p RepairConfirmProps) Expected() bool { return p.Failure != nil && p.Failure.RepairApplies }

// Flag says why the host deserves a second look before its update
// services are stopped, or "" when it does not.
func (p RepairConfirmProps) Flag() string { return HostFlag(p.Host, p.Critical) }

// HostFlag says why stopping Windows Update on h deserves a second look:
// it runs a server edition of Windows, or sits in a WSUS group an admin
// marked critical, any of its groups; "" otherwise.
func HostFlag(h store.Host, critical []string) string {
	if g, ok := h.CriticalGroup(critical); ok {
		return "in the critical group " + g
	}
	if strings.Contains(strings.ToLower(h.OSCaption), "server") {
		return "a server: " + h.OSCaption
	}
	return ""
}

// repairApplies reports whether the host's failure is one KB 910336 fixes:
// then Repair is its primary action, otherwise Check is.
func (p HostProps) repairApplies() bool { return p.Failure != nil && p.Failure.RepairApplies }

// HostsProps is the search over every host, healthy ones included.
type HostsProps struct {
	Query string
	Hosts []store.Host
	Total int // hosts matching in all
	Page  int
	Pages int
}

// hostsPageHref is another page of the same search.
func (p HostsProps) pageHref(n int) templ.SafeURL {
	v := url.Values{}
	if p.Query != "" {
		v.Set("q", p.Query)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/hosts"
	}
	return templ.SafeURL("/hosts?" + v.Encode())
}

// historyExportHref is the export of a host's history in format f.
func historyExportHref(name, f string) templ.SafeURL {
	return templ.SafeURL("/hosts/" + url.PathEscape(name) + "/history." + f)
}

// refreshHref is where Refresh history posts.
func refreshHref(name string) templ.SafeURL {
	return templ.SafeURL("/hosts/" + url.PathEscape(name) + "/refresh")
}

// repairHref is where a host's repair is confirmed, and where the repair
// and check forms post.
func repairHref(name string) templ.SafeURL {
	return templ.SafeURL("/hosts/" + url.PathEscape(name) + "/repair")
}

// HistoryRow is one history entry with its decoded result.
type HistoryRow struct {
	Event store.UpdateEvent
	Error ErrorInfo
}

// historyPageHref is the URL of page n of a host's history.
func historyPageHref(name string, n int) templ.SafeURL {
	u := "/hosts/" + url.PathEscape(name)
	if n > 1 {
		u += "?page=" + strconv.Itoa(n)
	}
	return templ.SafeURL(u + "#history")
}

// resultClass picks the tag colour for a history result.
func resultClass(result string) string {
	switch result {
	case "Succeeded":
		return "tag ok"
	case "Failed":
		return "tag bad"
	default:
		return "tag warn"
	}
}

// hostLabel is stateLabel, except for a host WSUS no longer lists.
func hostLabel(h store.Host) (string, string) {
	if !h.GoneAt.IsZero() {
		return "Gone from WSUS", "tag warn"
	}
	return stateLabel(h.State)
}

// stateLabel is a host state in words, with its tag colour.
func stateLabel(state string) (string, string) {
	switch state {
	case store.StateFailing:
		return "Failing", "tag bad"
	case store.StateOK:
		return "Up to date", "tag ok"
	case store.StateRepaired:
		return "Repaired", "tag ok"
	default:
		return "Unknown", "tag warn"
	}
}

// groupsLabel names the host's WSUS groups, one or several.
func groupsLabel(h store.Host) string {
	if len(h.AllGroups()) > 1 {
		return "WSUS groups"
	}
	return "WSUS group"
}

// groupHref is the triage list of the failing hosts in group, any of
// their groups.
func groupHref(group string) templ.SafeURL { return TriageQuery{Group: group}.Href("/") }

// orDash shows an em dash for an empty value, so a blank cell is never ambiguous.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// countWords is "1 host", "2 hosts": a count with its noun, plural right.
func countWords(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// matchVerb agrees with a count: "1 host matches", "2 hosts match".
func matchVerb(n int) string {
	if n == 1 {
		return "matches"
	}
	return "match"
}
