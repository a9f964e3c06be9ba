package handlers_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"wsusfix/store"
	"wsusfix/store/run"
)

// TestReports ensures the reports page counts compliance by group, the
// repairs by week and by code, names the codes the repair did not fix,
// draws its charts as accessible SVG with the same numbers in tables, and
// exports each list; and that a bad filter is a plain refusal.
func TestReports(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("vera", store.RoleViewer))
	hosts, fails := fleet(30)
	a.seed(t, hosts, fails)
	ctx := t.Context()
	var failing []string
	for name, code := range fails {
		if code == 0x80070002 {
			failing = append(failing, name)
		}
	}
	if len(failing) < 2 {
		t.Fatalf("the fleet has %d hosts failing with 0x80070002", len(failing))
	}
	for i, name := range failing[:2] {
		h, _ := a.st.HostByName(ctx, name)
		rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "olga"})
		if err != nil {
			t.Fatal(err)
		}
		o := []run.Outcome{run.OutcomeRepaired, run.OutcomeStillFailing}[i]
		if _, err := a.st.FinishRun(ctx, rn.ID, store.RunResult{State: run.StateSucceeded, Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := a.st.RecordCompliance(ctx, 30); err != nil {
		t.Fatal(err)
	}
	_, doc := a.get(t, "/reports")
	if got := doc.Find(`[data-testid="trend-row"] td`).Eq(1).Text(); got != "30" {
		t.Errorf("the week's count holds %q hosts, want 30", got)
	}
	if got := doc.Find(`[data-testid="fig-hosts"]`).Text(); got != "30" {
		t.Errorf("hosts %q", got)
	}
	if got := doc.Find(`[data-testid="fig-failing"]`).Text(); got != strconv.Itoa(len(fails)) {
		t.Errorf("failing %q, want %d", got, len(fails))
	}
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="fig-repaired"]`).Text()), " "); got != "1 (50% of those that ran)" {
		t.Errorf("repaired %q", got)
	}
	svg := doc.Find(`[data-testid="chart-compliance"] svg`)
	if svg.AttrOr("role", "") != "img" || svg.Find("title").First().Text() != "Compliance by WSUS group" || svg.Find("desc").Length() != 1 {
		t.Error("the compliance chart is not an accessible image with a title and a description")
	}
	if n := doc.Find(`[data-testid="activity-row"]`).Length(); n != 1 {
		t.Errorf("%d weeks of activity, want 1", n)
	}
	if got := doc.Find(`[data-testid="code-row"]`).First().Find("td").First().Text(); got != "2" {
		t.Errorf("hosts repaired for the first code: %q", got)
	}
	if got := doc.Find(`[data-testid="not-fixed"] li`).Text(); !strings.Contains(got, "0x80070002") || !strings.Contains(got, "1 host") {
		t.Errorf("codes not fixed: %q", got)
	}

	_, body := a.download(t, "/reports/codes.json")
	var codes []map[string]any
	if err := json.Unmarshal(body, &codes); err != nil || len(codes) != 1 || codes[0]["hresult"] != "0x80070002" ||
		codes[0]["repaired"] != float64(1) || codes[0]["still_failing"] != float64(1) {
		t.Errorf("codes export %v, %v", codes, err)
	}
	_, body = a.download(t, "/reports/compliance.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Compliance")
	total := 0
	for _, r := range rows[1:] {
		n, _ := strconv.Atoi(r[1])
		total += n
	}
	if total != 30 {
		t.Errorf("compliance sheet counts %d hosts, want 30", total)
	}
	if res, err := a.client.Get(a.srv.URL + "/reports?stale=0"); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("stale=0: %v %v", res.StatusCode, err)
	}
}

// TestReports_HeadReadsNoReport ensures a HEAD request for a report list
// gets the download's headers without running its query: with the
// summaries it reads gone, GET fails while HEAD still answers.
func TestReports_HeadReadsNoReport(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("vera", store.RoleViewer))
	db, err := sql.Open("sqlite", "file:"+a.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"compliance_hosts", "repair_days", "repair_host_days", "repair_latest_days"} {
		if _, err := db.Exec("DROP TABLE " + table); err != nil { // a fixed name, not input
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/reports/compliance.csv", "/reports/activity.xlsx", "/reports/codes.json"} {
		for _, method := range []string{http.MethodHead, http.MethodGet} {
			req, _ := http.NewRequestWithContext(t.Context(), method, a.srv.URL+path, nil)
			res, err := a.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if method == http.MethodHead {
				if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
					t.Errorf("HEAD %s: %d %q, want 200 with the download's name, no query run", path, res.StatusCode,
						res.Header.Get("Content-Disposition"))
				}
			} else if res.StatusCode != http.StatusInternalServerError {
				t.Errorf("GET %s: %d, want 500 with its summaries gone", path, res.StatusCode)
			}
		}
	}
}
