package handlers_test

import (
	"encoding/csv"
	"testing"

	"wsusfix/store"
)

// TestHandleExportHosts ensures the CSV export applies the filters, holds
// every matching row, and defuses cells a spreadsheet would run as formulas.
func TestHandleExportHosts(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
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
