package handlers_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/store/run"
)

func fleet(n int) ([]store.HostInput, map[string]uint32) {
	var hosts []store.HostInput
	fails := map[string]uint32{}
	for i := range n {
		name := fmt.Sprintf("PC-%03d", i)
		group := "Broad"
		if i%2 == 0 {
			group = "Pilot"
		}
		hosts = append(hosts, store.HostInput{Name: name, Group: group, OSCaption: "Microsoft Windows 11 Enterprise"})
		switch i % 4 {
		case 0, 1:
			fails[name] = 0x80070002
		case 2:
			fails[name] = 0x80244022
		}
	}
	return hosts, fails
}

// TestHandleTriageList ensures the triage page lists failing hosts with
// decoded errors, filters by code, group and name, and pages.
func TestHandleTriageList(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	hosts, fails := fleet(120) // 90 failing: 60 × 0x80070002, 30 × 0x80244022
	a.seed(t, hosts, fails)

	tests := []struct {
		name     string
		path     string
		wantRows int
		matching string
		check    func(t *testing.T, rows []string)
	}{
		{"all failing, first page", "/", 50, "90 failing hosts match.", nil},
		{"filter by code", "/?code=0x80244022", 30, "30 failing hosts match.", nil},
		{"code in decimal", "/?code=-2147024894", 50, "60 failing hosts match.", nil},
		{"filter by group", "/?group=Pilot&code=80070002", 30, "30 failing hosts match.", nil},
		{"search", "/?q=pc-00", 8, "8 failing hosts match.", nil},
		{"last page", "/?page=2", 40, "90 failing hosts match.", nil},
		{"sorted by name", "/?sort=name", 50, "90 failing hosts match.", func(t *testing.T, rows []string) {
			if rows[0] != "PC-000" || rows[1] != "PC-001" || rows[2] != "PC-002" {
				t.Errorf("first rows %v, want PC-000, PC-001, PC-002", rows[:3])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, doc := a.get(t, tt.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			rows := texts(doc, `[data-testid="host-link"]`)
			if len(rows) != tt.wantRows {
				t.Fatalf("%d rows, want %d", len(rows), tt.wantRows)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="matching"]`).Text()); got != tt.matching {
				t.Errorf("matching = %q, want %q", got, tt.matching)
			}
			if tt.check != nil {
				tt.check(t, rows)
			}
		})
	}

	_, doc := a.get(t, "/")
	var codes []string
	doc.Find(`[data-testid="code-count"]`).Each(func(_ int, s *goquery.Selection) {
		codes = append(codes, s.AttrOr("data-code", "")+" "+strings.TrimSpace(s.Find(".n").Text()))
	})
	if diff := cmp.Diff([]string{"0x80070002 60", "0x80244022 30"}, codes); diff != "" {
		t.Errorf("code counts (-want +got):\n%s", diff)
	}
	first := doc.Find(`[data-testid="host-row"]`).First()
	cell := first.Find(`[data-testid="host-error"]`)
	if code := cell.Find("code").Text(); code != "0x80070002" && code != "0x80244022" {
		t.Errorf("row error code %q, want one of the seeded codes", code)
	}
	if meaning := cell.Find(".err-name").Text(); len(meaning) < 20 {
		t.Errorf("row error meaning %q: want a plain-language sentence", meaning)
	}
	if href := doc.Find(`[data-testid="code-count"][data-code="0x80244022"]`).AttrOr("href", ""); href != "/?code=0x80244022" {
		t.Errorf("count link href %q, want /?code=0x80244022", href)
	}
	if doc.Find(`[data-testid="repair-applies"]`).Length() == 0 {
		t.Error("no row marks the KB 910336 repair as applicable")
	}
}

// TestHandleTriageList_Decoding ensures the suggested action follows the
// code: the repair for 0x80070002, not for a WSUS server error.
func TestHandleTriageList_Decoding(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	a.seed(t, []store.HostInput{{Name: "A"}, {Name: "B"}}, map[string]uint32{"A": 0x80070002, "B": 0x80244022})
	_, doc := a.get(t, "/")
	rowA := doc.Find(`[data-host="A"]`)
	rowB := doc.Find(`[data-host="B"]`)
	if rowA.Find(`[data-testid="repair-applies"]`).Length() != 1 {
		t.Error("0x80070002 row does not offer the KB 910336 repair")
	}
	if rowB.Find(`[data-testid="repair-applies"]`).Length() != 0 {
		t.Error("0x80244022 (a WSUS server problem) row offers the client repair")
	}
	if !strings.Contains(rowB.Text(), "0x80244022") {
		t.Errorf("row B %q lacks its code", rowB.Text())
	}
}

// TestHandleTriageList_EmptyStates ensures an empty inventory says how to
// import or start the demo, and a filter with no match says how to clear it.
func TestHandleTriageList_EmptyStates(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	_, doc := a.get(t, "/")
	empty := doc.Find(`[data-testid="empty-inventory"]`).Text()
	if !strings.Contains(empty, "import hosts") || !strings.Contains(empty, "demo") {
		t.Fatalf("empty inventory text %q does not say what to do", empty)
	}
	a.seed(t, []store.HostInput{{Name: "A"}}, map[string]uint32{"A": 0x80070002})
	_, doc = a.get(t, "/?q=zzz")
	if doc.Find(`[data-testid="empty-results"] a[href="/"]`).Length() != 1 {
		t.Fatal("no-match state lacks a link clearing the filters")
	}
}

// TestHandleTriageList_BadCode ensures a malformed code is a 400 that says
// which forms are accepted, and never echoes internals.
func TestHandleTriageList_BadCode(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	res, doc := a.get(t, "/?code=banana")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", res.StatusCode)
	}
	if msg := doc.Find(`[data-testid="error-message"]`).Text(); !strings.Contains(msg, "0x80070002") {
		t.Fatalf("message %q does not show an accepted form", msg)
	}
}

// TestSecurityHeaders ensures every page carries the CSP and friends, and
// that no page holds an inline script.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	for _, path := range []string{"/", "/hosts/nope", "/healthz"} {
		res, doc := a.get(t, path)
		h := res.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") == "" || h.Get("X-Request-ID") == "" {
			t.Errorf("%s: missing security headers: %v", path, h)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script %q", path, s.Text())
			}
		})
	}
}

// TestCrossOriginPost ensures a cross-site POST is refused.
func TestCrossOriginPost(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST got %d, want 403", res.StatusCode)
	}
}

// TestHandleHome_RepairOfferedByRole ensures the triage page offers host
// selection and bulk repair to operators and admins only, as the server
// would refuse a viewer's repair anyway.
func TestHandleHome_RepairOfferedByRole(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		role  store.Role
		offer bool
	}{{store.RoleViewer, false}, {store.RoleOperator, true}, {store.RoleAdmin, true}} {
		t.Run(string(tt.role), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, signedInAs("user-"+string(tt.role), tt.role))
			hosts, fails := fleet(12)
			a.seed(t, hosts, fails)
			res, doc := a.get(t, "/?code=0x80070002")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			for _, id := range []string{"repair-selected", "repair-all", "select-host"} {
				if got := doc.Find(`[data-testid="`+id+`"]`).Length() > 0; got != tt.offer {
					t.Errorf("%s: %s shown = %v, want %v", tt.role, id, got, tt.offer)
				}
			}
		})
	}
}

// TestHandleHome_LastRun ensures each triage row shows the host's newest
// run, its outcome linked to it, and nothing for a host never run.
func TestHandleHome_LastRun(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("operator", store.RoleOperator), withRunner())
	hosts, fails := fleet(8)
	a.seed(t, hosts, fails)
	ctx := t.Context()
	h, err := a.st.HostByName(ctx, "PC-001")
	if err != nil {
		t.Fatal(err)
	}
	var last store.Run
	for range 2 {
		if last, err = a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "operator"}); err != nil {
			t.Fatal(err)
		}
		a.runner.finish(t, last.ID)
	}
	_, doc := a.get(t, "/?code=0x80070002")
	row := doc.Find(`[data-testid="host-row"][data-host="PC-001"]`)
	link := row.Find(`[data-testid="last-run"]`)
	if link.AttrOr("href", "") != "/runs/"+strconv.FormatInt(last.ID, 10) || strings.TrimSpace(link.Text()) != "repaired" {
		t.Fatalf("last run %q → %q", link.Text(), link.AttrOr("href", ""))
	}
	if n := doc.Find(`[data-testid="host-row"][data-host="PC-000"] [data-testid="last-run"]`).Length(); n != 0 {
		t.Errorf("a host never run shows %d last runs", n)
	}
}
