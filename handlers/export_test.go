package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wsusfix/store"
	"wsusfix/store/run"
)

// TestHandleExportHosts ensures the CSV export applies the filters, holds
// every matching row, and defuses cells a spreadsheet would run as formulas.
func TestHandleExportHosts(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	hosts, fails := fleet(120)
	hosts = append(hosts, store.HostInput{Name: "EVIL", Group: "=HYPERLINK(\"http://x\")", OSCaption: "@SUM(A1)"})
	fails["EVIL"] = 0x80070002
	a.seed(t, hosts, fails)

	res, err := a.client.Get(a.srv.URL + "/export/hosts.csv?code=0x80070002")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd == "" {
		t.Error("no Content-Disposition: browsers would show the CSV instead of saving it")
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+61 {
		t.Fatalf("%d data rows, want 61 hosts with 0x80070002", len(rows)-1)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		if r[col["hresult"]] != "0x80070002" || r[col["kb910336_applies"]] != "true" {
			t.Fatalf("row %v: wrong code or repair flag", r)
		}
		if r[col["host"]] == "EVIL" {
			if r[col["group"]] != `'=HYPERLINK("http://x")` || r[col["os"]] != "'@SUM(A1)" {
				t.Fatalf("formula cells not neutralised: group %q os %q", r[col["group"]], r[col["os"]])
			}
		}
	}
}

// csvRows fetches path with c and parses the CSV, failing unless it is a
// 200 CSV download.
func csvRows(t *testing.T, c *http.Client, u string) [][]string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestExport_ControlCharacterFormulas ensures a formula behind leading
// NUL, space or line-break characters is defused in both exports: an
// update title in the hosts export, and a user name typed at sign-in in
// the audit export.
func TestExport_ControlCharacterFormulas(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	a.seed(t, []store.HostInput{{Name: "PC-1", Group: " \t=cmd|' /C calc'!A0"}}, nil)
	title := "\x00=HYPERLINK(\"http://evil.example\",\"x\")"
	if _, err := a.st.AddUpdateEvents(t.Context(), []store.EventInput{{HostName: "PC-1",
		At: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), UpdateID: "u2", KB: "KB5066836", Title: title,
		Operation: "Installation", Result: run.ResultFailed, HResult: 0x80070002, Source: store.SourceImport}}); err != nil {
		t.Fatal(err)
	}
	rows := csvRows(t, a.client, a.srv.URL+"/export/hosts.csv")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the header and PC-1", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if got := rows[1][col["title"]]; got != "'"+title {
		t.Errorf("title exported as %q, want it behind a quote", got)
	}
	if got := rows[1][col["group"]]; !strings.HasPrefix(got, "'") {
		t.Errorf("group exported as %q, want it behind a quote", got)
	}

	// An anonymous sign-in attempt puts the typed name in the audit log.
	res, err := newClient(false).PostForm(a.srv.URL+"/login", url.Values{"username": {"\x00=1+1"}, "password": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	found := false
	for _, r := range csvRows(t, a.client, a.srv.URL+"/admin/audit.csv?action=login.failed")[1:] {
		if strings.Contains(r[4], "=1+1") {
			found = true
			if r[4] != "'\x00=1+1" {
				t.Errorf("audit target exported as %q, want it behind a quote", r[4])
			}
		}
	}
	if !found {
		t.Fatal("the failed sign-in is not in the audit export")
	}
}

// TestExport_AuditCapped ensures an export's audit entry stays small
// whatever the query: a 900 KB query string, every value within its
// limit, is audited as a target of at most 256 characters ending in "…".
func TestExport_AuditCapped(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	q := url.Values{}
	for i := range 3500 {
		q.Set("x"+strconv.Itoa(i), strings.Repeat("v", 250))
	}
	res, err := a.client.Get(a.srv.URL + "/export/hosts.csv?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export with a 900 KB query: %d", res.StatusCode)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionExport})
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d export entries (%v), want 1", len(entries), err)
	}
	if got := entries[0].Target; utf8.RuneCountInString(got) > store.AuditTargetMax || !strings.HasSuffix(got, "…") ||
		!strings.HasPrefix(got, "/export/hosts.csv?") {
		t.Errorf("audited target of %d characters: %.60q…", utf8.RuneCountInString(got), got)
	}
}
