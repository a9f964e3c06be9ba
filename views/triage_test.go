package views_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/views"
)

// parseTriage reads a triage URL's query back the way handlers'
// parseTriageQuery does (code validation aside): the other half of the
// URL contract TriageQuery.Values writes.
func parseTriage(t *testing.T, href string) views.TriageQuery {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatalf("parse %q: %v", href, err)
	}
	v := u.Query()
	q := views.TriageQuery{Code: v.Get("code"), Group: v.Get("group"), Q: v.Get("q"), Desc: v.Get("dir") == "desc"}
	switch s := v.Get("sort"); s {
	case store.SortName, store.SortGroup, store.SortOS, store.SortCode, store.SortKB, store.SortFailedAt:
		q.Sort = s
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q
}

// TestTriageQuery_RoundTrip ensures a triage query written into a URL reads
// back as the same query, whatever the filters hold.
func TestTriageQuery_RoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.TriageQuery
	}{
		{"default", views.TriageQuery{Page: 1}},
		{"code", views.TriageQuery{Code: "0x80070002", Page: 1}},
		{"group with space and ampersand", views.TriageQuery{Group: "Servers & DCs", Page: 1}},
		{"search with reserved characters", views.TriageQuery{Q: "pc#1?a=b&c=%20/", Page: 1}},
		{"search non-ASCII", views.TriageQuery{Q: "Büro-PC ünïcødé 東京", Page: 1}},
		{"sort by name ascending", views.TriageQuery{Sort: store.SortName, Page: 1}},
		{"sort by name descending", views.TriageQuery{Sort: store.SortName, Desc: true, Page: 1}},
		{"sort by failure oldest first", views.TriageQuery{Sort: store.SortFailedAt, Page: 1}},
		{"sort by failure newest first", views.TriageQuery{Sort: store.SortFailedAt, Desc: true, Page: 1}},
		{"page 3", views.TriageQuery{Page: 3}},
		{"everything", views.TriageQuery{Code: "0x8024402C", Group: "Pilot", Q: "PC-0", Sort: store.SortKB, Desc: true, Page: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			href := string(tt.q.Href("/"))
			if diff := cmp.Diff(tt.q, parseTriage(t, href)); diff != "" {
				t.Errorf("%q parsed back (-want +got):\n%s", href, diff)
			}
		})
	}
}

// TestTriageQuery_Values ensures defaults stay out of the URL, so the
// unfiltered first page is a bare path.
func TestTriageQuery_Values(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.TriageQuery
		want url.Values
	}{
		{"zero", views.TriageQuery{}, url.Values{}},
		{"page 1", views.TriageQuery{Page: 1}, url.Values{}},
		{"dir without sort is the default order", views.TriageQuery{Desc: true}, url.Values{}},
		{"page 2", views.TriageQuery{Page: 2}, url.Values{"page": {"2"}}},
		{"sort descending", views.TriageQuery{Sort: store.SortOS, Desc: true}, url.Values{"sort": {"os"}, "dir": {"desc"}}},
		{"filters", views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC"},
			url.Values{"code": {"0x80070002"}, "group": {"Pilot"}, "q": {"PC"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.q.Values()); diff != "" {
				t.Errorf("Values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTriageQuery_Href ensures links built from a query keep its filters on
// whichever path they point at.
func TestTriageQuery_Href(t *testing.T) {
	t.Parallel()
	filtered := views.TriageQuery{Code: "0x80070002", Group: "Servers & DCs", Page: 4}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"zero on the triage page", string(views.TriageQuery{}.Href("/")), "/"},
		{"filters on the triage page", string(filtered.Href("/")), "/?code=0x80070002&group=Servers+%26+DCs&page=4"},
		{"export drops the page, keeps filters", string(filtered.WithPage(0).Href("/export/hosts.csv")), "/export/hosts.csv?code=0x80070002&group=Servers+%26+DCs"},
		{"bulk repair keeps filters", string(filtered.WithPage(0).Href("/repairs/new")), "/repairs/new?code=0x80070002&group=Servers+%26+DCs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Href = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestTriageQuery_With ensures WithPage, WithCode and WithSort change what
// they name, keep the other filters, and send a changed list to page 1.
func TestTriageQuery_With(t *testing.T) {
	t.Parallel()
	base := views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC", Sort: store.SortName, Desc: true, Page: 3}
	tests := []struct {
		name string
		got  views.TriageQuery
		want views.TriageQuery
	}{
		{"WithPage keeps everything else", base.WithPage(5),
			views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC", Sort: store.SortName, Desc: true, Page: 5}},
		{"WithCode changes the code, back to page 1", base.WithCode("0x8024402C"),
			views.TriageQuery{Code: "0x8024402C", Group: "Pilot", Q: "PC", Sort: store.SortName, Desc: true, Page: 1}},
		{"WithCode empty clears the code", base.WithCode(""),
			views.TriageQuery{Group: "Pilot", Q: "PC", Sort: store.SortName, Desc: true, Page: 1}},
		{"WithSort on another key: ascending, page 1", base.WithSort(store.SortGroup),
			views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC", Sort: store.SortGroup, Page: 1}},
		{"WithSort on the same key toggles", base.WithSort(store.SortName),
			views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC", Sort: store.SortName, Page: 1}},
		{"WithSort on failure time starts newest first", base.WithSort(store.SortFailedAt),
			views.TriageQuery{Code: "0x80070002", Group: "Pilot", Q: "PC", Sort: store.SortFailedAt, Desc: true, Page: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if base.Page != 3 || base.Code != "0x80070002" {
		t.Errorf("the With methods changed their receiver: %+v", base)
	}
}

// TestTriageQuery_SortLinks ensures each column header's link, followed,
// sorts by that column and that clicking the sorted column again reverses
// it, starting from the page the user is on.
func TestTriageQuery_SortLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from views.TriageQuery // the page the header is on, as parsed
		key  string
		want string // the aria-sort of key on the page the link leads to
	}{
		{"default page, name", views.TriageQuery{Page: 1}, store.SortName, "ascending"},
		{"default page, failure time reverses the default", views.TriageQuery{Page: 1}, store.SortFailedAt, "ascending"},
		{"name ascending, name", views.TriageQuery{Sort: store.SortName, Page: 1}, store.SortName, "descending"},
		{"name descending, name", views.TriageQuery{Sort: store.SortName, Desc: true, Page: 1}, store.SortName, "ascending"},
		{"name, failure time", views.TriageQuery{Sort: store.SortName, Page: 1}, store.SortFailedAt, "descending"},
		{"failure newest first, failure time", views.TriageQuery{Sort: store.SortFailedAt, Desc: true, Page: 1}, store.SortFailedAt, "ascending"},
		{"failure oldest first, failure time", views.TriageQuery{Sort: store.SortFailedAt, Page: 1}, store.SortFailedAt, "descending"},
		{"code descending, KB", views.TriageQuery{Sort: store.SortCode, Desc: true, Page: 2}, store.SortKB, "ascending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			href := string(tt.from.WithSort(tt.key).Href("/"))
			to := parseTriage(t, href)
			if got := to.AriaSort(tt.key); got != tt.want {
				t.Errorf("link %q from %+v: %s sorted %s, want %s", href, tt.from, tt.key, got, tt.want)
			}
			if to.Page != 1 {
				t.Errorf("link %q keeps page %d, want 1", href, to.Page)
			}
		})
	}
}

// TestTriageQuery_AriaSort ensures exactly the sorted column announces its
// direction, the default being newest failure first.
func TestTriageQuery_AriaSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.TriageQuery
		key  string
		want string
	}{
		{"default, failure time", views.TriageQuery{}, store.SortFailedAt, "descending"},
		{"default, name", views.TriageQuery{}, store.SortName, "none"},
		{"name ascending", views.TriageQuery{Sort: store.SortName}, store.SortName, "ascending"},
		{"name descending", views.TriageQuery{Sort: store.SortName, Desc: true}, store.SortName, "descending"},
		{"name sorted, failure column", views.TriageQuery{Sort: store.SortName}, store.SortFailedAt, "none"},
		{"failure oldest first", views.TriageQuery{Sort: store.SortFailedAt}, store.SortFailedAt, "ascending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.AriaSort(tt.key); got != tt.want {
				t.Errorf("ariaSort(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// TestTriageQuery_Filtered ensures only the filters (not sort or page) count
// as narrowing the list.
func TestTriageQuery_Filtered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.TriageQuery
		want bool
	}{
		{"zero", views.TriageQuery{}, false},
		{"sort and page only", views.TriageQuery{Sort: store.SortName, Desc: true, Page: 4}, false},
		{"code", views.TriageQuery{Code: "0x80070002"}, true},
		{"group", views.TriageQuery{Group: "Pilot"}, true},
		{"search", views.TriageQuery{Q: "PC"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Filtered(); got != tt.want {
				t.Errorf("Filtered() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWhen ensures table times read in UTC to the minute, a zero time reads
// as nothing, and the datetime attribute is RFC 3339 in UTC.
func TestWhen(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name     string
		t        time.Time
		wantWhen string
		wantISO  string
	}{
		{"zero", time.Time{}, "", "0001-01-01T00:00:00Z"},
		{"UTC", at, "2026-11-24 07:42 UTC", "2026-11-24T07:42:13Z"},
		{"other zone shown in UTC", time.Date(2026, 11, 24, 0, 30, 59, 0, paris), "2026-11-23 23:30 UTC", "2026-11-23T23:30:59Z"},
		{"seconds truncated, not rounded", time.Date(2026, 1, 2, 3, 4, 59, 999, time.UTC), "2026-01-02 03:04 UTC", "2026-01-02T03:04:59Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := views.When(tt.t); got != tt.wantWhen {
				t.Errorf("When = %q, want %q", got, tt.wantWhen)
			}
			if got := views.ISO(tt.t); got != tt.wantISO {
				t.Errorf("ISO = %q, want %q", got, tt.wantISO)
			}
		})
	}
}

// TestHostHref ensures a host name, whatever it holds, stays one path
// segment of the host URLs: it cannot add a query, a fragment, another
// segment or leave the attribute.
func TestHostHref(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		host string
		want string
	}{
		{"plain", "PC-001", "/hosts/PC-001"},
		{"space", "PC 001", "/hosts/PC%20001"},
		{"ampersand and equals", "a&b=c", "/hosts/a&b=c"},
		{"hash", "pc#admin", "/hosts/pc%23admin"},
		{"question mark", "pc?x=1", "/hosts/pc%3Fx=1"},
		{"quotes", `pc"'x`, "/hosts/pc%22%27x"},
		{"tag", `"><img src=x onerror=1>`, "/hosts/%22%3E%3Cimg%20src=x%20onerror=1%3E"},
		{"slash and dots", "../admin/users", "/hosts/..%2Fadmin%2Fusers"},
		{"percent", "100%", "/hosts/100%25"},
		{"non-ASCII", "Büro-東京", "/hosts/B%C3%BCro-%E6%9D%B1%E4%BA%AC"},
		{"javascript scheme", "javascript:alert(1)", "/hosts/javascript:alert%281%29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(views.HostHref(tt.host))
			if got != tt.want {
				t.Errorf("HostHref(%q) = %q, want %q", tt.host, got, tt.want)
			}
			for _, h := range []struct {
				href, wantPath string
			}{
				{got, "/hosts/" + tt.host},
				{string(views.RepairHref(tt.host)), "/hosts/" + tt.host + "/repair"},
				{string(views.HistoryPageHref(tt.host, 2)), "/hosts/" + tt.host},
				{string(views.UserAction(tt.host, "disable")), "/admin/users/" + tt.host + "/disable"},
			} {
				u, err := url.Parse(h.href)
				if err != nil {
					t.Fatalf("%q does not parse: %v", h.href, err)
				}
				if u.Scheme != "" || u.Host != "" || u.Path != h.wantPath {
					t.Errorf("%q: scheme %q host %q path %q, want path %q", h.href, u.Scheme, u.Host, u.Path, h.wantPath)
				}
			}
			if u, _ := url.Parse(got); u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("%q carries query %q fragment %q", got, u.RawQuery, u.Fragment)
			}
		})
	}
}

// TestHistoryPageHref ensures history pages after the first name their page
// and every one lands on the history section.
func TestHistoryPageHref(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page int
		want string
	}{
		{"first page", 1, "/hosts/PC%20001#history"},
		{"page 0 is the first", 0, "/hosts/PC%20001#history"},
		{"page 2", 2, "/hosts/PC%20001?page=2#history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(views.HistoryPageHref("PC 001", tt.page)); got != tt.want {
				t.Errorf("historyPageHref = %q, want %q", got, tt.want)
			}
		})
	}
}

var (
	fileNotFound = views.ErrorInfo{Code: "0x80070002", Symbol: "ERROR_FILE_NOT_FOUND", Category: "download", RepairApplies: true,
		Meaning: "A file the update needs is missing, usually from the Windows Update download cache.",
		Action:  "Run the KB 910336 repair (reset SoftwareDistribution) and detect again."}
	nameNotResolved = views.ErrorInfo{Code: "0x8024402C", Symbol: "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", Category: "network",
		Meaning: "The name of the proxy or update server could not be resolved.",
		Action:  "Check DNS for the WSUS server name and the WinHTTP proxy setting (netsh winhttp show proxy)."}
)

// failingHost is a host as store.FailingHosts returns it.
func failingHost(id int64, name, group string, hr uint32, kb string) store.Host {
	return store.Host{ID: id, Name: name, FQDN: name + ".corp.example", OSCaption: "Microsoft Windows 11 Enterprise",
		OSBuild: "10.0.22631", Group: group, LastReportAt: at.Add(-2 * time.Hour), State: store.StateFailing,
		Failure: &store.Failure{EventID: id * 10, HResult: hr, At: at.Add(-time.Duration(id) * time.Hour), KB: kb,
			Title: "2026-11 Cumulative Update for Windows 11 (" + kb + ")"}}
}

// triageProps is the first page of a fleet of 120 with 90 failing hosts.
func triageProps(q views.TriageQuery) views.TriageProps {
	return views.TriageProps{
		Query: q,
		Rows: []views.TriageRow{
			{Host: failingHost(1, "PC-001", "Pilot", 0x80070002, "KB5046617"), Error: fileNotFound},
			{Host: failingHost(2, "PC 002 & Büro", "Broad", 0x8024402C, "KB5046617"), Error: nameNotResolved},
		},
		Counts:    []views.CodeCount{{Error: fileNotFound, Hosts: 60}, {Error: nameNotResolved, Hosts: 30}},
		Groups:    []string{"Broad", "Pilot"},
		Matching:  90,
		Failing:   90,
		Inventory: 120,
		Page:      max(q.Page, 1),
		Pages:     2,
		CanRepair: true,
	}
}

// TestTriagePage_Viewer ensures a viewer is offered no selection and no
// bulk repair, which the role could not use, and still sees every row.
func TestTriagePage_Viewer(t *testing.T) {
	t.Parallel()
	p := triageProps(views.TriageQuery{Code: "0x80070002"})
	p.CanRepair = false
	doc := render(t, t.Context(), views.TriagePage(p))
	none(t, doc, "repair-selected")
	none(t, doc, "repair-all")
	none(t, doc, "select-host")
	if n := byID(doc, "host-row").Length(); n != len(p.Rows) {
		t.Fatalf("%d rows for a viewer, want %d", n, len(p.Rows))
	}
}

// TestTriagePage ensures the triage page shows the failing hosts with their
// decoded errors, counts by code that link to their filter, the bulk
// actions and paging, each keeping the filters.
func TestTriagePage(t *testing.T) {
	t.Parallel()
	byCode := views.TriageQuery{Code: "0x80070002", Group: "Pilot", Page: 1}
	tests := []struct {
		name          string
		props         views.TriageProps
		wantCounts    []string // hrefs of the code counts
		wantCurrent   string   // the code count marked current
		wantAllErrors string   // href; "" when absent
		wantRepairAll string   // href; "" when absent
		wantExport    string
		wantNext      string
	}{
		{name: "unfiltered first page", props: triageProps(views.TriageQuery{Page: 1}),
			wantCounts: []string{"/?code=0x80070002", "/?code=0x8024402C"},
			wantExport: "/export/hosts.csv", wantNext: "/?page=2"},
		{name: "filtered by code", props: func() views.TriageProps {
			p := triageProps(byCode)
			p.Rows, p.Matching, p.Pages = p.Rows[:1], 60, 1
			return p
		}(),
			wantCounts:  []string{"/?code=0x80070002&group=Pilot", "/?code=0x8024402C&group=Pilot"},
			wantCurrent: "0x80070002", wantAllErrors: "/?group=Pilot",
			wantRepairAll: "/repairs/new?code=0x80070002&group=Pilot",
			wantExport:    "/export/hosts.csv?code=0x80070002&group=Pilot"},
		{name: "sorted, second of three pages", props: func() views.TriageProps {
			p := triageProps(views.TriageQuery{Q: "PC", Sort: store.SortName, Page: 2})
			p.Pages = 3
			return p
		}(),
			wantCounts:    []string{"/?code=0x80070002&q=PC&sort=name", "/?code=0x8024402C&q=PC&sort=name"},
			wantRepairAll: "/repairs/new?q=PC&sort=name", wantExport: "/export/hosts.csv?q=PC&sort=name",
			wantNext: "/?page=3&q=PC&sort=name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.props
			doc := render(t, t.Context(), views.TriagePage(p))
			none(t, doc, "empty-inventory")
			none(t, doc, "empty-results")

			counts := byID(doc, "code-count")
			if diff := cmp.Diff([]string{"0x80070002", "0x8024402C"}, attrs(counts, "data-code")); diff != "" {
				t.Errorf("code counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCounts, attrs(counts, "href")); diff != "" {
				t.Errorf("code count links (-want +got):\n%s", diff)
			}
			counts.Each(func(i int, c *goquery.Selection) {
				code := p.Counts[i].Error.Code
				if got, want := text(c.Find(".n")), strconv.Itoa(p.Counts[i].Hosts); got != want {
					t.Errorf("count %s shows %q hosts, want %s", code, got, want)
				}
				if _, cur := c.Attr("aria-current"); cur != (code == tt.wantCurrent) {
					t.Errorf("count %s aria-current = %v", code, cur)
				}
			})
			all := byID(doc, "code-counts").Find("a").FilterFunction(func(_ int, s *goquery.Selection) bool { return text(s) == "All errors" })
			if got := all.AttrOr("href", ""); got != tt.wantAllErrors {
				t.Errorf("All errors links to %q, want %q", got, tt.wantAllErrors)
			}

			rows := byID(doc, "host-row")
			var wantHosts []string
			for _, r := range p.Rows {
				wantHosts = append(wantHosts, r.Host.Name)
			}
			if diff := cmp.Diff(wantHosts, attrs(rows, "data-host")); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			rows.Each(func(i int, r *goquery.Selection) {
				want := p.Rows[i]
				link := byID(r, "host-link")
				if got := link.AttrOr("href", ""); got != string(p.Query.HostHref(want.Host.Name)) {
					t.Errorf("row %d links to %q", i, got)
				}
				// The link leads to the host, and back to this very view.
				u, err := url.Parse(link.AttrOr("href", ""))
				if err != nil || u.Path != "/hosts/"+want.Host.Name {
					t.Errorf("row %d: link %q is not the host's page", i, link.AttrOr("href", ""))
				} else if back, _ := url.ParseQuery(u.Query().Get("back")); back.Encode() != p.Query.Values().Encode() {
					t.Errorf("row %d: back %q, want %q", i, back.Encode(), p.Query.Values().Encode())
				}
				if got := text(link); got != want.Host.Name {
					t.Errorf("row %d name %q", i, got)
				}
				if got := byID(r, "select-host").AttrOr("value", ""); got != want.Host.Name {
					t.Errorf("row %d checkbox value %q", i, got)
				}
				errCell := byID(r, "host-error")
				if got := text(errCell.Find("code")); got != want.Error.Code {
					t.Errorf("row %d code %q, want %q", i, got, want.Error.Code)
				}
				// Unfiltered, a row names the code's symbol and keeps its
				// meaning in the title (one line a host); filtered by one
				// code, its meaning is said once, above the list.
				wantMeaning := want.Error.Symbol
				if got := errCell.Find("code").AttrOr("title", ""); got != want.Error.Meaning {
					t.Errorf("row %d code title %q, want the meaning %q", i, got, want.Error.Meaning)
				}
				if tt.props.Query.Code != "" {
					wantMeaning = ""
					if got := text(one(t, doc, "code-explained")); !strings.Contains(got, want.Error.Meaning) || !strings.Contains(got, want.Error.Action) {
						t.Errorf("the code's meaning and action are not above the list: %q", got)
					}
				} else {
					none(t, doc, "code-explained")
				}
				if got := text(errCell.Find(".err-name")); got != wantMeaning {
					t.Errorf("row %d meaning %q, want %q", i, got, wantMeaning)
				}
				if got := byID(r, "repair-applies").Length() == 1; got != want.Error.RepairApplies {
					t.Errorf("row %d repair tag shown = %v, want %v", i, got, want.Error.RepairApplies)
				}
				if got := r.Find("td.when time").AttrOr("datetime", ""); got != views.ISO(want.Host.Failure.At) {
					t.Errorf("row %d datetime %q", i, got)
				}
			})

			if got, want := text(one(t, doc, "matching")), strconv.Itoa(p.Matching)+" failing hosts match."; got != want {
				t.Errorf("matching = %q, want %q", got, want)
			}
			one(t, doc, "repair-selected")
			if ra := byID(doc, "repair-all"); tt.wantRepairAll == "" {
				none(t, doc, "repair-all")
			} else if got := ra.AttrOr("href", ""); got != tt.wantRepairAll {
				t.Errorf("repair-all = %q, want %q", got, tt.wantRepairAll)
			}
			if got := one(t, doc, "export-csv").AttrOr("href", ""); got != tt.wantExport {
				t.Errorf("export = %q, want %q", got, tt.wantExport)
			}
			if tt.wantNext == "" {
				none(t, doc, "pager")
			} else if got := one(t, doc, "next-page").AttrOr("href", ""); got != tt.wantNext {
				t.Errorf("next page = %q, want %q", got, tt.wantNext)
			}
			if got := one(t, doc, "filter-q").AttrOr("value", ""); got != p.Query.Q {
				t.Errorf("search box holds %q, want %q", got, p.Query.Q)
			}
			if got := byID(doc, "filter-code").Find("option[selected]").AttrOr("value", ""); got != p.Query.Code {
				t.Errorf("code menu selects %q, want %q", got, p.Query.Code)
			}
			if got := byID(doc, "filter-group").Find("option[selected]").AttrOr("value", ""); got != p.Query.Group {
				t.Errorf("group menu selects %q, want %q", got, p.Query.Group)
			}
		})
	}
}

// TestTriagePage_RepairAllLabel ensures the bulk action names how many
// hosts it repairs, and the code when the list is filtered by one.
func TestTriagePage_RepairAllLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.TriageQuery
		want string
	}{
		{"by code", views.TriageQuery{Code: "0x80070002"}, "Repair all 90 hosts with 0x80070002…"},
		{"by group", views.TriageQuery{Group: "Pilot"}, "Repair all 90 matching hosts…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.TriagePage(triageProps(tt.q)))
			if got := text(one(t, doc, "repair-all")); got != tt.want {
				t.Errorf("repair-all = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTriagePage_Empty ensures an empty inventory explains how to import,
// and an empty result says whether filters hid the hosts or none fail.
func TestTriagePage_Empty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		props     views.TriageProps
		wantID    string
		wantText  string
		wantClear bool
	}{
		{name: "no inventory", props: views.TriageProps{Page: 1, Pages: 1},
			wantID: "empty-inventory", wantText: "wsusfix import hosts hosts.csv"},
		{name: "nothing failing", props: views.TriageProps{Inventory: 120, Page: 1, Pages: 1},
			wantID: "empty-results", wantText: "every one of the 120 hosts succeeded"},
		{name: "filters match nothing", props: views.TriageProps{Query: views.TriageQuery{Q: "nope"}, Inventory: 120, Failing: 0, Page: 1, Pages: 1},
			wantID: "empty-results", wantText: "No failing hosts match these filters.", wantClear: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.TriagePage(tt.props))
			e := one(t, doc, tt.wantID)
			if got := text(e); !strings.Contains(got, tt.wantText) {
				t.Errorf("%s = %q, want it to contain %q", tt.wantID, got, tt.wantText)
			}
			if got := e.Find(`a[href="/"]`).Length() == 1; got != tt.wantClear {
				t.Errorf("clear-filters link shown = %v, want %v", got, tt.wantClear)
			}
			none(t, doc, "failing-hosts")
			none(t, doc, "pager")
		})
	}
}

// TestTriagePage_Escaping ensures host data with markup in it shows as text
// on the triage page and never becomes an element or attribute.
func TestTriagePage_Escaping(t *testing.T) {
	t.Parallel()
	for _, bad := range hostile {
		t.Run(bad, func(t *testing.T) {
			h := failingHost(1, "PC"+bad, bad, 0x80070002, bad)
			h.OSCaption, h.Failure.Title = bad, bad
			p := triageProps(views.TriageQuery{Q: bad, Group: bad, Page: 1})
			p.Rows = []views.TriageRow{{Host: h, Error: fileNotFound}}
			p.Groups = []string{bad}
			doc := render(t, t.Context(), views.TriagePage(p))
			noInjectedMarkup(t, doc)
			row := one(t, doc, "host-row")
			if got := row.AttrOr("data-host", ""); got != h.Name {
				t.Errorf("data-host = %q, want %q", got, h.Name)
			}
			if got := text(byID(row, "host-link")); got != h.Name {
				t.Errorf("host link text = %q, want %q", got, h.Name)
			}
			if got := text(row.Find("td.update .err-name")); got != bad {
				t.Errorf("update title = %q, want %q", got, bad)
			}
			if got := one(t, doc, "filter-q").AttrOr("value", ""); got != bad {
				t.Errorf("search box = %q, want %q", got, bad)
			}
			if got := parseTriage(t, one(t, doc, "export-csv").AttrOr("href", "")).Q; got != bad {
				t.Errorf("export link searches %q, want %q", got, bad)
			}
		})
	}
}
