package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wsusfix/store"
	"wsusfix/store/run"
)

// download fetches u with the app's client and returns the body, failing
// on a status other than 200.
func (a *app) download(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := a.client.Get(a.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", path, res.StatusCode, err)
	}
	return res, b
}

// TestExportHosts_XLSXAndJSON ensures the failing hosts export as a
// workbook (one sheet, typed and guarded cells, the filters applied) and
// as JSON (every row, typed fields), each audited.
func TestExportHosts_XLSXAndJSON(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(60)
	hosts = append(hosts, store.HostInput{Name: "EVIL", Group: "=HYPERLINK(\"http://x\")"})
	fails["EVIL"] = 0x80070002
	a.seed(t, hosts, fails)

	res, body := a.download(t, "/export/hosts.xlsx?code=0x80070002")
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.HasSuffix(res.Header.Get("Content-Disposition"), `.xlsx"`) {
		t.Errorf("headers %q %q", ct, res.Header.Get("Content-Disposition"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Failing hosts")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range fails {
		if c == 0x80070002 {
			want++
		}
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	if len(rows) != want+1 || rows[0][0] != "host" || col["failed_at"] != 14 {
		t.Fatalf("%d rows (header %q), want %d hosts and the header", len(rows), rows[0], want)
	}
	for i, r := range rows[1:] {
		if r[col["hresult"]] != "0x80070002" || r[col["kb910336_applies"]] != "TRUE" {
			t.Errorf("row %d: code %q, applies %q", i+2, r[col["hresult"]], r[col["kb910336_applies"]])
		}
		if r[0] == "EVIL" && (r[col["group"]] != `'=HYPERLINK("http://x")` || r[col["groups"]] != `'=HYPERLINK("http://x")`) {
			t.Errorf("a formula-like group reached the sheet as %q, %q", r[col["group"]], r[col["groups"]])
		}
	}
	if typ, _ := f.GetCellType("Failing hosts", "O2"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Error("failed_at is text, not a date")
	}

	evil, _ := a.st.HostByName(t.Context(), "EVIL")
	rn, err := a.st.CreateRun(t.Context(), store.RunInput{HostID: evil.ID, Procedure: run.ProcedureRepair, RequestedBy: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.FinishRun(t.Context(), rn.ID, store.RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired}); err != nil {
		t.Fatal(err)
	}
	_, body = a.download(t, "/export/hosts.json")
	var got []struct {
		Host     string    `json:"host"`
		HResult  string    `json:"hresult"`
		Applies  bool      `json:"kb910336_applies"`
		FailedAt time.Time `json:"failed_at"`
		LastRun  int64     `json:"last_run"`
		Outcome  string    `json:"last_run_outcome"`
		Verified bool      `json:"repair_verified"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fails) || got[0].Host == "" || got[0].FailedAt.IsZero() {
		t.Errorf("%d hosts in JSON, want %d; first %+v", len(got), len(fails), got[0])
	}
	for _, g := range got {
		if want := g.Host == "EVIL"; g.Verified != want || (g.LastRun == rn.ID) != want || want && g.Outcome != "repaired" {
			t.Errorf("host %s: last run %d %q, verified %v", g.Host, g.LastRun, g.Outcome, g.Verified)
		}
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionExport})
	if err != nil || len(entries) != 2 || !strings.HasPrefix(entries[1].Target, "/export/hosts.xlsx?code=") {
		t.Errorf("audit %+v, %v", entries, err)
	}
}

// TestExportRunsAndHistory ensures the runs export follows the runs
// filters and the history export holds the host's whole history, in
// every format.
func TestExportRunsAndHistory(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(4)
	a.seed(t, hosts, fails)
	ctx := t.Context()
	for _, name := range []string{"PC-000", "PC-001", "PC-000"} {
		h, _ := a.st.HostByName(ctx, name)
		rn, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: run.ProcedureCheck, RequestedBy: "olga"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.st.FinishRun(ctx, rn.ID, store.RunResult{State: run.StateSucceeded, Outcome: run.OutcomeChecked, Summary: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := a.download(t, "/export/runs.json?host=PC-000")
	var runs []map[string]any
	if err := json.Unmarshal(body, &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0]["host"] != "PC-000" || runs[0]["outcome"] != "checked" || runs[0]["requested_by"] != "olga" {
		t.Errorf("runs of PC-000: %v", runs)
	}
	_, body = a.download(t, "/export/runs.csv")
	if n := strings.Count(string(body), "\n"); n != 4 {
		t.Errorf("runs CSV has %d lines, want the header and 3 runs", n)
	}
	b, err := a.st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureCheck, RequestedBy: "olga", Description: "one"})
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := a.st.HostByName(ctx, "PC-002")
	if _, err := a.st.CreateRun(ctx, store.RunInput{HostID: h2.ID, BatchID: b.ID, Procedure: run.ProcedureCheck, RequestedBy: "olga"}); err != nil {
		t.Fatal(err)
	}
	_, body = a.download(t, "/export/runs.json?batch="+strconv.FormatInt(b.ID, 10))
	var batchRuns []map[string]any
	if err := json.Unmarshal(body, &batchRuns); err != nil || len(batchRuns) != 1 || batchRuns[0]["host"] != "PC-002" ||
		batchRuns[0]["batch"] != float64(b.ID) {
		t.Errorf("a batch's results: %v, %v", batchRuns, err)
	}

	h, _ := a.st.HostByName(ctx, "PC-000")
	_, total, err := a.st.History(ctx, h.ID, 1, 0)
	if err != nil || total == 0 {
		t.Fatalf("history %d, %v", total, err)
	}
	_, body = a.download(t, "/hosts/PC-000/history.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("History")
	if len(rows) != total+1 || rows[1][0] != "PC-000" {
		t.Errorf("history sheet: %d rows, want %d entries and the header", len(rows), total)
	}
	if res, err := a.client.Get(a.srv.URL + "/hosts/PC-000/history.pdf"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown format: %v %v", res.StatusCode, err)
	}
}
