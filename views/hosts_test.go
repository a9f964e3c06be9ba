package views_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/views"
)

var okCode = views.ErrorInfo{Code: "0x00000000", Symbol: "S_OK", Meaning: "The operation completed successfully."}

// hostProps is PC-001's page: failing with 0x80070002 after two good
// installs, as handleHostShow builds it.
func hostProps() views.HostProps {
	h := failingHost(1, "PC-001", "Pilot", 0x80070002, "KB5046617")
	h.Address = ""
	return views.HostProps{
		Host:    h,
		Failure: &fileNotFound,
		History: []views.HistoryRow{
			{Event: store.UpdateEvent{ID: 3, HostID: 1, At: at.Add(-time.Hour), KB: "KB5046617", Title: h.Failure.Title,
				Operation: "Installation", Result: run.ResultFailed, HResult: 0x80070002}, Error: fileNotFound},
			{Event: store.UpdateEvent{ID: 2, HostID: 1, At: at.Add(-48 * time.Hour), KB: "KB890830", Title: "Windows Malicious Software Removal Tool",
				Operation: "Installation", Result: run.ResultSucceeded}, Error: okCode},
			{Event: store.UpdateEvent{ID: 1, HostID: 1, At: at.Add(-72 * time.Hour), KB: "KB5043080", Title: "2026-09 Cumulative Update",
				Operation: "Uninstallation", Result: run.ResultSucceededWithErrors, HResult: 0x8024402C}, Error: nameNotResolved},
		},
		HistoryTotal: 3,
		Page:         1,
		Pages:        1,
		CanRepair:    true,
	}
}

// TestHostPage ensures a host's page shows its facts, its newest failure
// decoded, its history with each HRESULT decoded, and its runs.
func TestHostPage(t *testing.T) {
	t.Parallel()
	p := hostProps()
	p.Runs = []store.Run{{ID: 5, HostName: "PC-001", Procedure: run.ProcedureCheck, RequestedBy: "alice", State: run.StateSucceeded, CreatedAt: at}}
	doc := render(t, t.Context(), views.HostPage(p))

	if got := text(one(t, doc, "host-name")); got != "PC-001" {
		t.Errorf("host-name = %q", got)
	}
	failure := one(t, doc, "host-failure")
	if got := text(byID(failure, "failure-code")); got != "0x80070002" {
		t.Errorf("failure-code = %q", got)
	}
	for _, want := range []string{"KB5046617", "ERROR_FILE_NOT_FOUND", fileNotFound.Meaning, fileNotFound.Action, "KB 910336 repair applies", views.When(p.Host.Failure.At)} {
		if got := text(failure); !strings.Contains(got, want) {
			t.Errorf("host-failure %q lacks %q", got, want)
		}
	}

	facts := one(t, doc, "host-facts")
	state := byID(facts, "host-state")
	if got := text(state); got != "Failing" || !state.HasClass("bad") {
		t.Errorf("host-state %q class %q, want Failing, tag bad", got, state.AttrOr("class", ""))
	}
	wantFacts := []string{"Failing", "PC-001.corp.example", "—", "Microsoft Windows 11 Enterprise 10.0.22631", "Pilot", views.When(p.Host.LastReportAt)}
	if diff := cmp.Diff(wantFacts, texts(facts.Find("dd"))); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}

	rows := byID(doc, "history-row")
	if rows.Length() != 3 {
		t.Fatalf("%d history rows, want 3", rows.Length())
	}
	tests := []struct {
		name       string
		row        int
		wantResult string
		wantClass  string
		wantCode   string
		wantOK     bool
		wantError  string
	}{
		{"failed install", 0, "Failed", "bad", "0x80070002", false, "ERROR_FILE_NOT_FOUND: " + fileNotFound.Meaning},
		{"succeeded install", 1, "Succeeded", "ok", "0x00000000", true, ""},
		{"succeeded with errors", 2, "SucceededWithErrors", "warn", "0x8024402C", false, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED: " + nameNotResolved.Meaning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rows.Eq(tt.row)
			res := byID(r, "history-result")
			if got := text(res); got != tt.wantResult || !res.HasClass(tt.wantClass) {
				t.Errorf("result %q class %q, want %q, %q", got, res.AttrOr("class", ""), tt.wantResult, tt.wantClass)
			}
			code := byID(r, "history-code")
			if got := text(code); got != tt.wantCode {
				t.Errorf("code %q, want %q", got, tt.wantCode)
			}
			if got := code.HasClass("ok-code"); got != tt.wantOK {
				t.Errorf("ok-code = %v, want %v", got, tt.wantOK)
			}
			if got := text(r.Find("td.code .err-name")); got != tt.wantError {
				t.Errorf("decoded %q, want %q", got, tt.wantError)
			}
			if got := r.Find("time").AttrOr("datetime", ""); got != views.ISO(p.History[tt.row].Event.At) {
				t.Errorf("datetime %q", got)
			}
		})
	}
	none(t, doc, "history-pager")
	none(t, doc, "empty-history")
	none(t, doc, "no-runs")
	if got := attrs(byID(doc, "run-row"), "data-run"); !cmp.Equal(got, []string{"5"}) {
		t.Errorf("runs %v, want [5]", got)
	}
}

// TestHostPage_Actions ensures repair and check are offered exactly when
// they can start, and otherwise the page says why or links the active run.
func TestHostPage_Actions(t *testing.T) {
	t.Parallel()
	active := store.Run{ID: 77, HostName: "PC-001", Procedure: run.ProcedureRepair, State: run.StateRunning, CreatedAt: at}
	tests := []struct {
		name       string
		edit       func(*views.HostProps)
		wantRepair bool
		wantOff    string
		wantActive string
	}{
		{name: "operator", edit: func(*views.HostProps) {}, wantRepair: true},
		{name: "viewer", edit: func(p *views.HostProps) { p.CanRepair = false }},
		{name: "WinRM not configured", edit: func(p *views.HostProps) { p.RepairOff = "WinRM is not configured: an admin sets it under Admin." },
			wantOff: "WinRM is not configured: an admin sets it under Admin."},
		{name: "run in progress", edit: func(p *views.HostProps) { p.Runs = []store.Run{active}; p.ActiveRun = &p.Runs[0] },
			wantActive: "/runs/77"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := hostProps()
			tt.edit(&p)
			doc := render(t, t.Context(), views.HostPage(p))
			actions := one(t, doc, "host-actions")
			for _, id := range []string{"repair", "check"} {
				b := byID(actions, id)
				if got := b.Length() == 1; got != tt.wantRepair {
					t.Errorf("%s shown = %v, want %v", id, got, tt.wantRepair)
					continue
				}
				if tt.wantRepair && id == "check" {
					// Check changes nothing: it posts at once.
					form := b.Closest("form")
					if got := form.AttrOr("action", ""); got != "/hosts/PC-001/repair" {
						t.Errorf("%s posts to %q", id, got)
					}
					if got := form.Find(`input[name="procedure"]`).AttrOr("value", ""); got != id {
						t.Errorf("%s posts procedure %q", id, got)
					}
				}
				if tt.wantRepair && id == "repair" {
					// Repair asks first: it links to the confirmation page.
					if got := b.AttrOr("href", ""); got != "/hosts/PC-001/repair" || b.Closest("form").Length() != 0 {
						t.Errorf("repair links to %q (inside a form: %v)", got, b.Closest("form").Length() != 0)
					}
				}
			}
			if off := byID(actions, "repair-off"); tt.wantOff == "" {
				none(t, doc, "repair-off")
			} else if got := text(off); got != tt.wantOff {
				t.Errorf("repair-off = %q, want %q", got, tt.wantOff)
			}
			if a := byID(actions, "active-run"); tt.wantActive == "" {
				none(t, doc, "active-run")
			} else if got := a.AttrOr("href", ""); got != tt.wantActive {
				t.Errorf("active-run links to %q, want %q", got, tt.wantActive)
			}
		})
	}
}

// TestHostPage_Empty ensures a host with no failure, history or runs says
// so instead of showing empty tables.
func TestHostPage_Empty(t *testing.T) {
	t.Parallel()
	p := views.HostProps{Host: store.Host{ID: 9, Name: "PC-NEW", State: store.StateUnknown}, Page: 1, Pages: 1}
	doc := render(t, t.Context(), views.HostPage(p))
	none(t, doc, "host-failure")
	none(t, doc, "history")
	none(t, doc, "runs")
	one(t, doc, "empty-history")
	one(t, doc, "no-runs")
	if got := text(one(t, doc, "host-state")); got != "Unknown" {
		t.Errorf("host-state = %q", got)
	}
}

// TestHostPage_HistoryPager ensures the history pager links newer and older
// pages of the same host, escaped, landing on the history section.
func TestHostPage_HistoryPager(t *testing.T) {
	t.Parallel()
	p := hostProps()
	p.Host.Name = "PC 001#x"
	p.HistoryTotal, p.Page, p.Pages = 450, 2, 3
	doc := render(t, t.Context(), views.HostPage(p))
	pager := one(t, doc, "history-pager")
	if got := pager.Find(`a[rel="prev"]`).AttrOr("href", ""); got != "/hosts/PC%20001%23x#history" {
		t.Errorf("newer = %q", got)
	}
	if got := pager.Find(`a[rel="next"]`).AttrOr("href", ""); got != "/hosts/PC%20001%23x?page=3#history" {
		t.Errorf("older = %q", got)
	}
}

// TestHostPage_Escaping ensures a host's own data, markup included, shows
// as text on its page and never becomes an element or attribute.
func TestHostPage_Escaping(t *testing.T) {
	t.Parallel()
	for _, bad := range hostile {
		t.Run(bad, func(t *testing.T) {
			p := hostProps()
			p.Host.Name, p.Host.FQDN, p.Host.OSCaption, p.Host.Group = bad, bad, bad, bad
			p.Host.Failure.KB = bad
			p.History[0].Event.Title, p.History[0].Event.Operation = bad, bad
			doc := render(t, t.Context(), views.HostPage(p))
			noInjectedMarkup(t, doc)
			if got := text(one(t, doc, "host-name")); got != bad {
				t.Errorf("host-name = %q, want %q", got, bad)
			}
			if got := doc.Find("title").Text(); got != bad+" · wsusfix" {
				t.Errorf("title = %q", got)
			}
			if got := byID(doc, "repair").AttrOr("href", ""); got != string(views.RepairHref(bad)) {
				t.Errorf("repair links to %q", got)
			}
			if got := text(byID(doc, "history-row").First().Find("td.opt")); got != bad {
				t.Errorf("operation cell = %q, want %q", got, bad)
			}
		})
	}
}

// TestResultClass ensures history results get the colour of what they mean.
func TestResultClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		result, want string
	}{
		{"Succeeded", "tag ok"},
		{"Failed", "tag bad"},
		{"SucceededWithErrors", "tag warn"},
		{"Aborted", "tag warn"},
		{"InProgress", "tag warn"},
		{"", "tag warn"},
	}
	for _, tt := range tests {
		t.Run(tt.result, func(t *testing.T) {
			if got := views.ResultClass(tt.result); got != tt.want {
				t.Errorf("resultClass(%q) = %q, want %q", tt.result, got, tt.want)
			}
		})
	}
}

// TestStateLabel ensures each host state reads in words with its colour,
// and an unknown one reads as Unknown rather than blank.
func TestStateLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, state, wantLabel, wantClass string
	}{
		{"failing", store.StateFailing, "Failing", "tag bad"},
		{"ok", store.StateOK, "Up to date", "tag ok"},
		{"repaired", store.StateRepaired, "Repaired", "tag ok"},
		{"unknown", store.StateUnknown, "Unknown", "tag warn"},
		{"empty", "", "Unknown", "tag warn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			label, class := views.StateLabel(tt.state)
			if label != tt.wantLabel || class != tt.wantClass {
				t.Errorf("stateLabel(%q) = %q, %q; want %q, %q", tt.state, label, class, tt.wantLabel, tt.wantClass)
			}
		})
	}
}

// TestHostPage_PrimaryFollowsEvidence ensures Repair is the primary action
// only where KB 910336 fixes the host's failure, and Check elsewhere.
func TestHostPage_PrimaryFollowsEvidence(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		failure *views.ErrorInfo
		primary string
	}{
		{"0x80070002", &fileNotFound, "repair"},
		{"a code the repair does not fix", &nameNotResolved, "check"},
		{"a healthy host", nil, "check"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := hostProps()
			p.Failure = tt.failure
			doc := render(t, t.Context(), views.HostPage(p))
			primary := doc.Find(`[data-primary="true"]`)
			if primary.Length() != 1 || primary.AttrOr("data-testid", "") != tt.primary {
				t.Fatalf("primary action %q (%d of them), want %s", primary.AttrOr("data-testid", ""), primary.Length(), tt.primary)
			}
		})
	}
}

// TestRepairConfirmPage ensures the confirmation names the host and what
// will change, flags a server, and where the repair is not expected to
// help says why and asks for an explicit tick before it can start.
func TestRepairConfirmPage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		os           string
		failure      *views.ErrorInfo
		wantServer   bool
		wantWarning  bool
		wantRequired bool
	}{
		{"laptop, 0x80070002", "Microsoft Windows 11 Enterprise", &fileNotFound, false, false, false},
		{"server, 0x80070002", "Microsoft Windows Server 2022 Datacenter", &fileNotFound, true, false, false},
		{"laptop, not fixable here", "Microsoft Windows 11 Enterprise", &nameNotResolved, false, true, true},
		{"healthy host", "Microsoft Windows 11 Enterprise", nil, false, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := hostProps().Host
			h.OSCaption = tt.os
			doc := render(t, t.Context(), views.RepairConfirmPage(views.RepairConfirmProps{Host: h, Failure: tt.failure}))
			if got := text(one(t, doc, "confirm-title")); !strings.Contains(got, "PC-001") {
				t.Errorf("title %q does not name the host", got)
			}
			if n := one(t, doc, "confirm-changes").Find("li").Length(); n != 5 {
				t.Errorf("%d changes listed, want 5", n)
			}
			if got := byID(doc, "confirm-server").Length() == 1; got != tt.wantServer {
				t.Errorf("server flag shown = %v", got)
			}
			if got := byID(doc, "confirm-unexpected").Length() == 1; got != tt.wantWarning {
				t.Errorf("not-expected warning shown = %v", got)
			}
			tick := byID(doc, "confirm-understood")
			if got := tick.Length() == 1 && tick.Is("[required]"); got != tt.wantRequired {
				t.Errorf("required tick = %v", got)
			}
			form := one(t, doc, "confirm-form")
			if form.AttrOr("action", "") != "/hosts/PC-001/repair" || form.Find(`input[name="procedure"]`).AttrOr("value", "") != "repair" {
				t.Error("the form does not post a repair of the host")
			}
		})
	}
}

// TestHostsPage ensures the host search lists each host with its state and
// a link, counts the matches in words, and pages keeping the search.
func TestHostsPage(t *testing.T) {
	t.Parallel()
	healthy := hostProps().Host
	healthy.Name, healthy.State, healthy.Failure = "PC 002 & Büro", store.StateOK, nil
	p := views.HostsProps{Query: "PC & co", Hosts: []store.Host{hostProps().Host, healthy}, Total: 51, Page: 1, Pages: 2}
	doc := render(t, t.Context(), views.HostsPage(p))
	noInjectedMarkup(t, doc)
	if got := texts(byID(doc, "hosts-state")); !slices.Equal(got, []string{"Failing", "Up to date"}) {
		t.Errorf("states %v", got)
	}
	gone := p
	gone.Hosts = []store.Host{healthy}
	gone.Hosts[0].GoneAt = at
	if got := texts(byID(render(t, t.Context(), views.HostsPage(gone)), "hosts-state")); !slices.Equal(got, []string{"Gone from WSUS"}) {
		t.Errorf("a gone host's state %v", got)
	}
	if got := byID(doc, "hosts-link").Eq(1).AttrOr("href", ""); got != string(views.HostHref(healthy.Name)) {
		t.Errorf("link %q", got)
	}
	if got := text(one(t, doc, "hosts-total")); got != "51 hosts match." {
		t.Errorf("total %q", got)
	}
	next := doc.Find(`a[rel="next"]`).AttrOr("href", "")
	u, err := url.Parse(next)
	if err != nil || u.Path != "/hosts" || u.Query().Get("q") != "PC & co" || u.Query().Get("page") != "2" {
		t.Errorf("next page %q", next)
	}
	p.Total, p.Hosts = 1, p.Hosts[:1]
	if got := text(one(t, render(t, t.Context(), views.HostsPage(p)), "hosts-total")); got != "1 host matches." {
		t.Errorf("one match reads %q", got)
	}
}

// TestHostPage_Gone ensures a host a full WSUS sync no longer found says
// so on its page, and one still listed does not.
func TestHostPage_Gone(t *testing.T) {
	t.Parallel()
	p := hostProps()
	none(t, render(t, t.Context(), views.HostPage(p)), "host-gone")
	p.Host.GoneAt = at
	got := text(one(t, render(t, t.Context(), views.HostPage(p)), "host-gone"))
	if !strings.Contains(got, "Gone from WSUS") || !strings.Contains(got, views.When(at)) {
		t.Fatalf("gone banner %q", got)
	}
}
