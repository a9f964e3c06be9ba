package views_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/views"
)

// TestBatchPage ensures a batch's page counts its runs by state and by
// outcome group, offers the re-run of failed runs only once the batch is
// over, and lists every run.
func TestBatchPage(t *testing.T) {
	t.Parallel()
	runs := []store.Run{
		{ID: 21, BatchID: 3, HostName: "PC-001", Procedure: run.ProcedureRepair, State: run.StateSucceeded, Outcome: run.OutcomeRepaired, CreatedAt: at},
		{ID: 22, BatchID: 3, HostName: "PC-002", Procedure: run.ProcedureRepair, State: run.StateFailed, Outcome: run.OutcomeUnreachable, CreatedAt: at},
		{ID: 23, BatchID: 3, HostName: "PC-003", Procedure: run.ProcedureRepair, State: run.StateFailed, Outcome: run.OutcomeTimedOut, CreatedAt: at},
		{ID: 24, BatchID: 3, HostName: "PC-004", Procedure: run.ProcedureRepair, State: run.StateInterrupted, Outcome: run.OutcomeInterrupted, CreatedAt: at},
	}
	batch := store.Batch{ID: 3, Procedure: run.ProcedureRepair, RequestedBy: "alice", Description: "12 hosts with 0x80070002", CreatedAt: at}
	over := views.BatchProps{Batch: batch, Runs: runs,
		States:   map[run.State]int{run.StateSucceeded: 1, run.StateFailed: 2, run.StateInterrupted: 1},
		Outcomes: map[run.Outcome]int{run.OutcomeRepaired: 1, run.OutcomeUnreachable: 1, run.OutcomeTimedOut: 1, run.OutcomeInterrupted: 1},
		Failed:   3, CanAct: true}
	viewer := over
	viewer.CanAct = false
	going := over
	going.Runs = append([]store.Run{{ID: 25, BatchID: 3, HostName: "PC-005", Procedure: run.ProcedureRepair, State: run.StateQueued, CreatedAt: at}}, runs...)
	going.States = map[run.State]int{run.StateQueued: 1, run.StateSucceeded: 1, run.StateFailed: 2, run.StateInterrupted: 1}
	going.Active = true

	tests := []struct {
		name       string
		props      views.BatchProps
		wantStates map[string]string
		wantRerun  string
		wantLive   bool
	}{
		{name: "over, with failures", props: over,
			wantStates: map[string]string{"queued": "0", "running": "0", "succeeded": "1", "failed": "2", "cancelled": "0", "interrupted": "1"},
			wantRerun:  "Re-run the 3 failed"},
		{name: "over, with failures, seen by a viewer", props: viewer,
			wantStates: map[string]string{"queued": "0", "running": "0", "succeeded": "1", "failed": "2", "cancelled": "0", "interrupted": "1"}},
		{name: "still going", props: going, wantLive: true,
			wantStates: map[string]string{"queued": "1", "running": "0", "succeeded": "1", "failed": "2", "cancelled": "0", "interrupted": "1"}},
		{name: "over, all repaired", props: views.BatchProps{Batch: batch, Runs: runs[:1],
			States: map[run.State]int{run.StateSucceeded: 1}, Outcomes: map[run.Outcome]int{run.OutcomeRepaired: 1}},
			wantStates: map[string]string{"queued": "0", "running": "0", "succeeded": "1", "failed": "0", "cancelled": "0", "interrupted": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.BatchPage(tt.props))
			root := one(t, doc, "batch")
			if got := root.AttrOr("data-batch-id", ""); got != "3" {
				t.Errorf("data-batch-id = %q", got)
			}
			if _, ok := root.Attr("data-active"); ok != tt.wantLive {
				t.Errorf("data-active = %v, want %v", ok, tt.wantLive)
			}
			got := map[string]string{}
			for _, s := range run.States {
				got[string(s)] = text(one(t, doc, "count-"+string(s)))
			}
			if diff := cmp.Diff(tt.wantStates, got); diff != "" {
				t.Errorf("state counts (-want +got):\n%s", diff)
			}
			if rr := byID(doc, "rerun-failed"); tt.wantRerun == "" {
				none(t, doc, "rerun-failed")
			} else {
				if got := text(rr); got != tt.wantRerun {
					t.Errorf("rerun = %q, want %q", got, tt.wantRerun)
				}
				if got := rr.Closest("form").AttrOr("action", ""); got != "/batches/3/rerun" {
					t.Errorf("rerun posts to %q", got)
				}
			}
			if got := byID(doc, "batch-live").Length() == 1; got != tt.wantLive {
				t.Errorf("live note = %v, want %v", got, tt.wantLive)
			}
			var wantRuns []string
			for _, r := range tt.props.Runs {
				wantRuns = append(wantRuns, strconv.FormatInt(r.ID, 10))
			}
			if diff := cmp.Diff(wantRuns, attrs(byID(doc, "run-row"), "data-run")); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBatchPage_Outcomes ensures outcomes are summed into the groups a lead
// acts on, so unreachable and timed-out hosts count together and apart
// from hosts where the repair ran and did not help.
func TestBatchPage_Outcomes(t *testing.T) {
	t.Parallel()
	p := views.BatchProps{Batch: store.Batch{ID: 4, Procedure: run.ProcedureRepair},
		Outcomes: map[run.Outcome]int{run.OutcomeRepaired: 5, run.OutcomeUnknown: 1, run.OutcomeChecked: 2, run.OutcomeStillFailing: 3, run.OutcomeUnreachable: 4, run.OutcomeTimedOut: 1,
			run.OutcomeAuth: 1, run.OutcomeQuota: 1, run.OutcomeNotConfigured: 1, run.OutcomeRefused: 2, run.OutcomeError: 1, run.OutcomeCancelled: 1, run.OutcomeInterrupted: 2}}
	doc := render(t, t.Context(), views.BatchPage(p))
	dl := one(t, doc, "batch-outcomes")
	got := map[string]string{}
	labels := texts(dl.Find("dt"))
	for i, v := range texts(dl.Find("dd")) {
		got[labels[i]] = v
	}
	want := map[string]string{
		"Repaired":                   "5",
		"Ran, no evidence yet":       "3",
		"Ran and did not help":       "3",
		"Could not run: unreachable": "5",
		"Could not run: credentials, rights or settings": "3",
		"Could not run: refused by preflight":            "2",
		"Error":                                          "1",
		"Cancelled or interrupted":                       "3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcome groups (-want +got):\n%s", diff)
	}
}

// TestBulkConfirmPage ensures the confirmation before a bulk repair names
// how many hosts, posts exactly them (or the filter that chose them) with
// the count expected, and lists at most Shown names.
func TestBulkConfirmPage(t *testing.T) {
	t.Parallel()
	hosts := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("PC-%03d", i+1))
		}
		return out
	}
	q := views.TriageQuery{Code: "0x80070002", Group: "Servers & DCs", Q: "PC", Page: 1}
	tests := []struct {
		name       string
		props      views.BulkProps
		wantTitle  string
		wantHosts  []string // hidden host inputs posted
		wantFilter bool
		wantListed int
		wantMore   string
		wantCheck  bool
	}{
		{name: "chosen one by one", props: views.BulkProps{Procedure: "repair", Hosts: []string{"PC-001", "PC 002 & co"}, Shown: 100, Limit: 500},
			wantTitle: "Repair 2 hosts?", wantHosts: []string{"PC-001", "PC 002 & co"}, wantListed: 2},
		{name: "chosen by filter, list cut", props: views.BulkProps{Procedure: "check", Hosts: hosts(120), Shown: 100, Limit: 500, Query: q, FromQuery: true},
			wantTitle: "Repair 120 hosts?", wantFilter: true, wantListed: 100, wantMore: "…and 20 more.", wantCheck: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.BulkConfirmPage(tt.props))
			none(t, doc, "bulk-problem")
			if got := text(one(t, doc, "bulk-title")); got != tt.wantTitle {
				t.Errorf("title = %q, want %q", got, tt.wantTitle)
			}
			form := one(t, doc, "bulk-form")
			if got := form.AttrOr("action", ""); got != "/repairs" {
				t.Errorf("posts to %q", got)
			}
			if diff := cmp.Diff(tt.wantHosts, attrs(form.Find(`input[name="host"]`), "value")); diff != "" {
				t.Errorf("hosts posted (-want +got):\n%s", diff)
			}
			n := strconv.Itoa(len(tt.props.Hosts))
			if got := form.Find(`input[name="expect"]`).AttrOr("value", ""); got != n {
				t.Errorf("expect = %q, want %s", got, n)
			}
			for name, want := range map[string]string{"code": q.Code, "group": q.Group, "q": q.Q} {
				in := form.Find(`input[name="` + name + `"]`)
				if got := in.Length() == 1; got != tt.wantFilter {
					t.Errorf("filter %s posted = %v, want %v", name, got, tt.wantFilter)
				} else if got && in.AttrOr("value", "") != want {
					t.Errorf("filter %s = %q, want %q", name, in.AttrOr("value", ""), want)
				}
			}
			if got := form.Find(`option[value="check"]`).Is("[selected]"); got != tt.wantCheck {
				t.Errorf("check selected = %v, want %v", got, tt.wantCheck)
			}
			if got := text(one(t, doc, "bulk-start")); got != "Start "+n+" runs" {
				t.Errorf("start = %q", got)
			}
			listed := one(t, doc, "bulk-hosts").Find("li a")
			if listed.Length() != tt.wantListed {
				t.Errorf("%d hosts listed, want %d", listed.Length(), tt.wantListed)
			}
			if got := listed.First().AttrOr("href", ""); got != string(views.HostHref(tt.props.Hosts[0])) {
				t.Errorf("first host links to %q", got)
			}
			if more := doc.Find("main p.muted").FilterFunction(func(_ int, s *goquery.Selection) bool {
				return strings.HasPrefix(text(s), "…and")
			}); text(more) != tt.wantMore {
				t.Errorf("more = %q, want %q", text(more), tt.wantMore)
			}
			if got := form.Find(`a`).AttrOr("href", ""); got != string(tt.props.Query.Href("/")) {
				t.Errorf("cancel goes to %q, want %q", got, tt.props.Query.Href("/"))
			}
		})
	}
}

// TestBulkConfirmPage_Problem ensures that when nothing can start the page
// says why and offers no form to start it anyway.
func TestBulkConfirmPage_Problem(t *testing.T) {
	t.Parallel()
	doc := render(t, t.Context(), views.BulkConfirmPage(views.BulkProps{Problem: "No hosts selected. Tick some first.", Shown: 100}))
	if got := text(one(t, doc, "bulk-problem")); got != "No hosts selected. Tick some first." {
		t.Errorf("problem = %q", got)
	}
	none(t, doc, "bulk-form")
	none(t, doc, "bulk-start")
}

// TestBatchPage_Escaping ensures a batch's description and its hosts'
// names, markup included, show as text on the batch and bulk pages.
func TestBatchPage_Escaping(t *testing.T) {
	t.Parallel()
	for _, bad := range hostile {
		t.Run(bad, func(t *testing.T) {
			batch := views.BatchPage(views.BatchProps{
				Batch: store.Batch{ID: 3, Procedure: run.ProcedureRepair, RequestedBy: bad, Description: bad, CreatedAt: at},
				Runs:  []store.Run{{ID: 21, BatchID: 3, HostName: bad, Procedure: run.ProcedureRepair, State: run.StateFailed, Summary: bad, RequestedBy: bad, CreatedAt: at}},
			})
			doc := render(t, t.Context(), batch)
			noInjectedMarkup(t, doc)
			if got := text(doc.Find("h1")); got != "Bulk repair: "+bad {
				t.Errorf("title = %q", got)
			}
			if got := text(one(t, doc, "run-row").Find("td.host")); got != bad {
				t.Errorf("host cell = %q, want %q", got, bad)
			}

			bulk := views.BulkConfirmPage(views.BulkProps{Hosts: []string{bad}, Shown: 100, Query: views.TriageQuery{Q: bad}})
			doc = render(t, t.Context(), bulk)
			noInjectedMarkup(t, doc)
			if got := attrs(one(t, doc, "bulk-form").Find(`input[name="host"]`), "value"); !cmp.Equal(got, []string{bad}) {
				t.Errorf("hosts posted %q, want [%q]", got, bad)
			}
			if got := text(one(t, doc, "bulk-hosts").Find("li")); got != bad {
				t.Errorf("host listed %q, want %q", got, bad)
			}
		})
	}
}
