package handlers_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/handlers/metrics"
	"wsusfix/store"
	"wsusfix/store/run"
)

// TestPageCache_CountsMatchTheirRows ensures triage's figures stay exact
// while its page is served from memory: after an import, a repair and a
// sync, every code count on the page equals the rows its link lists, and
// the total equals their sum. A second view with nothing changed is served
// from the cache (the metrics say so) and is the same page.
func TestPageCache_CountsMatchTheirRows(t *testing.T) {
	t.Parallel()
	reg := metrics.New(nil, "")
	a := newApp(t, signedInAs("tester", store.RoleOperator), withDeps(handlers.Deps{Metrics: reg}))
	hosts, fails := fleet(40) // 30 failing: 20 × 0x80070002, 10 × 0x80244022
	a.seed(t, hosts, fails)
	ctx := context.Background()

	_, first := a.download(t, "/")
	if _, again := a.download(t, "/"); !bytes.Equal(first, again) {
		t.Error("the same page, asked twice with nothing changed, differs")
	}
	if hits := pageCacheCount(t, reg, "hit"); hits != 1 {
		t.Errorf("%v cache hits after two views, want 1", hits)
	}
	a.checkCounts(t, 30, map[string]int{"0x80070002": 20, "0x80244022": 10})

	// An import: five more hosts failing with a third code.
	var more []store.HostInput
	extra := map[string]uint32{}
	for i := range 5 {
		name := "NEW-" + strconv.Itoa(i)
		more = append(more, store.HostInput{Name: name, Group: "Pilot"})
		extra[name] = 0x80073712
	}
	a.seed(t, more, extra)
	a.checkCounts(t, 35, map[string]int{"0x80070002": 20, "0x80244022": 10, "0x80073712": 5})

	// A repair: the host's own history says the update installed, and
	// the run ends repaired, as the run recorder stores them.
	host, err := a.st.HostByName(ctx, "NEW-0")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // drawn, then kept
		if _, doc := a.get(t, "/hosts/NEW-0"); doc.Find(`[data-testid="active-run"]`).Length() != 0 {
			t.Fatal("the host page shows an active run before the run exists")
		}
	}
	r, err := a.st.CreateRun(ctx, store.RunInput{HostID: host.ID, Procedure: run.ProcedureRepair, RequestedBy: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.StartRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	// The host page, kept from before the run, now shows it.
	if _, doc := a.get(t, "/hosts/NEW-0"); doc.Find(`[data-testid="active-run"]`).Length() != 1 {
		t.Error("the host page does not show the run that started")
	}
	a.checkCounts(t, 35, map[string]int{"0x80070002": 20, "0x80244022": 10, "0x80073712": 5})
	if _, err := a.st.AddUpdateEvents(ctx, []store.EventInput{{HostName: "NEW-0", At: time.Now().UTC(), UpdateID: "u1",
		KB: "KB5066835", Title: "2026-10 Cumulative Update", Operation: "Installation", Result: run.ResultSucceeded,
		Source: store.SourceHost}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.FinishRun(ctx, r.ID, store.RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}); err != nil {
		t.Fatal(err)
	}
	a.checkCounts(t, 34, map[string]int{"0x80070002": 20, "0x80244022": 10, "0x80073712": 4})

	// A sync: a full reconcile that no longer lists NEW-1 marks it gone.
	seen := time.Now().UTC()
	var listed []store.HostInput
	for _, h := range append(hosts, more...) {
		if h.Name != "NEW-1" {
			h.WSUS = &store.WSUSFacts{Server: "WSUS01", SeenAt: seen}
			listed = append(listed, h)
		}
	}
	gone := store.HostInput{Name: "NEW-1", Group: "Pilot", WSUS: &store.WSUSFacts{Server: "WSUS01", SeenAt: seen.Add(-time.Hour)}}
	if _, err := a.st.UpsertHosts(ctx, append(listed, gone)); err != nil {
		t.Fatal(err)
	}
	a.checkCounts(t, 34, map[string]int{"0x80070002": 20, "0x80244022": 10, "0x80073712": 4})
	if n, err := a.st.MarkWSUSGone(ctx, "WSUS01", seen); err != nil || n != 1 {
		t.Fatalf("mark gone: %d, %v; want 1 host", n, err)
	}
	a.checkCounts(t, 33, map[string]int{"0x80070002": 20, "0x80244022": 10, "0x80073712": 3})
}

// TestPageCache_PerUser ensures a cached page is never another user's:
// the header names whoever asks, and an operator's page offers repairs
// that a viewer's does not.
func TestPageCache_PerUser(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("olga", store.RoleOperator))
	hosts, fails := fleet(8)
	a.seed(t, hosts, fails)
	viewer := signIn(t, a.srv.URL, a.st, "victor", store.RoleViewer)
	for range 2 { // the second round is served from the cache
		_, op := a.get(t, "/")
		_, vw := page(t)(viewer.Get(a.srv.URL + "/"))
		if !strings.Contains(op.Find("header").Text(), "olga") || !strings.Contains(vw.Find("header").Text(), "victor") {
			t.Fatalf("headers name %q and %q, want olga's and victor's own", op.Find("header").Text(), vw.Find("header").Text())
		}
		if op.Find(`[data-testid="repair-selected"]`).Length() == 0 || vw.Find(`[data-testid="repair-selected"]`).Length() != 0 {
			t.Fatalf("bulk repair offered: operator %d, viewer %d; want only the operator",
				op.Find(`[data-testid="repair-selected"]`).Length(), vw.Find(`[data-testid="repair-selected"]`).Length())
		}
	}
}

// TestSessions_NoWriteOnGet ensures a plain page view does not write the
// session: the session row is unchanged by a second view.
func TestSessions_NoWriteOnGet(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	a.get(t, "/")
	before := sessionRows(t, a)
	for range 3 {
		a.get(t, "/")
		a.get(t, "/runs")
	}
	if after := sessionRows(t, a); after != before {
		t.Errorf("sessions changed by page views:\nbefore %s\nafter  %s", before, after)
	}
}

// sessionRows is every stored session's token, data and expiry, read
// from the database file itself.
func sessionRows(t *testing.T, a *app) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows string
	if err := db.QueryRow(`SELECT group_concat(token || ' ' || hex(data) || ' ' || expiry, '; ') FROM sessions`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkCounts checks that triage says total failing hosts, with these
// counts by code, and that each count's link lists that many rows.
func (a *app) checkCounts(t *testing.T, total int, want map[string]int) {
	t.Helper()
	_, doc := a.get(t, "/")
	if got := strings.TrimSpace(doc.Find(`[data-testid="matching"]`).Text()); got != strconv.Itoa(total)+" failing hosts match." {
		t.Errorf("matching %q, want %d", got, total)
	}
	got := map[string]int{}
	doc.Find(`[data-testid="code-count"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := strconv.Atoi(strings.TrimSpace(s.Find(".n").Text()))
		code := s.AttrOr("data-code", "")
		got[code] = n
		_, listed := a.get(t, s.AttrOr("href", ""))
		if rows := listed.Find(`[data-testid="host-row"]`).Length(); rows != n {
			t.Errorf("%s: the count says %d, its link lists %d", code, n, rows)
		}
	})
	if len(got) != len(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("count of %s = %d, want %d (all: %v)", code, got[code], n, got)
		}
	}
}

// pageCacheCount reads wsusfix_page_cache_total{result} from reg.
func pageCacheCount(t *testing.T, reg *metrics.Registry, result string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := regexp.MustCompile(`(?m)^wsusfix_page_cache_total\{result="` + result + `"\} (\S+)$`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return n
}

// TestPageCache_SeesOtherProcesses ensures a change another process
// commits to the database file (here a second Store over it, as
// `wsusfix import` run beside the dashboard would be) reaches a cached
// triage page: within moments, not at the next change of the dashboard's
// own.
func TestPageCache_SeesOtherProcesses(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(8) // 6 failing
	a.seed(t, hosts, fails)
	a.checkCounts(t, 6, map[string]int{"0x80070002": 4, "0x80244022": 2})
	a.checkCounts(t, 6, map[string]int{"0x80070002": 4, "0x80244022": 2}) // now from the cache

	other := &app{st: openStore(t, a.dbPath)}
	other.seed(t, []store.HostInput{{Name: "ELSEWHERE-1"}}, map[string]uint32{"ELSEWHERE-1": 0x80073712})
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, doc := a.get(t, "/")
		if strings.TrimSpace(doc.Find(`[data-testid="matching"]`).Text()) == "7 failing hosts match." {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process's import is not on the page 5 s after its commit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.checkCounts(t, 7, map[string]int{"0x80070002": 4, "0x80244022": 2, "0x80073712": 1})
}
