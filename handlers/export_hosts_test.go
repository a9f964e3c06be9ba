package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"wsusfix/handlers/sheet"
	"wsusfix/store"
	"wsusfix/store/hresult"
	"wsusfix/store/run"
)

// referenceHostsCSV is the hosts export as the store's general reads give
// it, written the plain way: each failing host the filter selects, its
// newest run (store.LastRuns), its code decoded, every cell through
// package sheet. The export takes a faster road and must arrive at the
// same bytes.
func referenceHostsCSV(t *testing.T, st *store.Store, f store.TriageFilter) []byte {
	t.Helper()
	ctx := context.Background()
	hosts, err := st.FailingHosts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	last, err := st.LastRuns(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	cols := []sheet.Column{sheet.Col("host", sheet.Text), sheet.Col("fqdn", sheet.Text), sheet.Col("address", sheet.Text),
		sheet.Col("os", sheet.Text), sheet.Col("os_build", sheet.Text), sheet.Col("group", sheet.Text), sheet.Col("groups", sheet.Text), sheet.Col("kb", sheet.Text),
		sheet.Col("title", sheet.Text), sheet.Col("hresult", sheet.Text), sheet.Col("symbol", sheet.Text), sheet.Col("meaning", sheet.Text),
		sheet.Col("suggested_action", sheet.Text), sheet.Col("kb910336_applies", sheet.Bool), sheet.Col("failed_at", sheet.Time),
		sheet.Col("last_run", sheet.Int), sheet.Col("last_run_procedure", sheet.Text), sheet.Col("last_run_outcome", sheet.Text),
		sheet.Col("last_run_at", sheet.Time), sheet.Col("repair_verified", sheet.Bool)}
	var buf bytes.Buffer
	tb, err := sheet.NewTable(&buf, sheet.FormatCSV, "Failing hosts", cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		d := hresult.Decode(hresult.Code(h.Failure.HResult))
		rn := last[h.ID]
		if err := tb.Row([]sheet.Value{sheet.S(h.Name), sheet.S(h.FQDN), sheet.S(h.Address), sheet.S(h.OSCaption),
			sheet.S(h.OSBuild), sheet.S(h.Group), sheet.S(strings.Join(h.AllGroups(), ";")), sheet.S(h.Failure.KB), sheet.S(h.Failure.Title),
			sheet.S(d.Code.String()), sheet.S(d.Symbol), sheet.S(d.Meaning), sheet.S(d.Action), sheet.B(d.RepairApplies),
			sheet.T(h.Failure.At), sheet.N(rn.ID), sheet.S(string(rn.Procedure)), sheet.S(string(rn.Outcome)),
			sheet.T(rn.FinishedAt), sheet.B(rn.Outcome == run.OutcomeRepaired)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExportHosts_CSVMatchesReference ensures the hosts CSV is, byte for
// byte, the failing hosts with their newest runs as the store's general
// reads give them, under each filter and sort: hosts with no run, an
// active run, a check, repairs that worked and did not, texts a
// spreadsheet would run as formulas, quotes, commas and line breaks,
// codes the catalogue does not know, and hosts in several groups.
func TestExportHosts_CSVMatchesReference(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleViewer))
	hosts, fails := fleet(90)
	hosts = append(hosts,
		store.HostInput{Name: "EVIL", Group: "=HYPERLINK(\"http://x\")", OSCaption: "@SUM(A1)", FQDN: "evil.corp.test",
			Groups: []string{"=HYPERLINK(\"http://x\")", "zeta", "Alpha", "-1"}},
		store.HostInput{Name: "MANY", Group: "Pilot", Groups: []string{"Pilot", "Servers; Tier 2", "Berlin"}},
		store.HostInput{Name: "NOPRIMARY", Groups: []string{"b", "a"}},
		store.HostInput{Name: "ODD", Group: "Pilot", OSCaption: "Windows \"11\", LTSC\nsecond line", Address: "10.0.0.9:5986",
			OSBuild: " -1"})
	fails["EVIL"], fails["ODD"], fails["MANY"], fails["NOPRIMARY"] = 0x80070002, 0x8BADF00D, 0x80070002, 0x80070002
	a.seed(t, hosts, fails)

	ctx := context.Background()
	outcomes := []run.Outcome{run.OutcomeRepaired, run.OutcomeStillFailing, run.OutcomeUnreachable}
	for i := range 40 {
		h, err := a.st.HostByName(ctx, fmt.Sprintf("PC-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		proc := run.ProcedureRepair
		if i%5 == 4 {
			proc = run.ProcedureCheck
		}
		r, err := a.st.CreateRun(ctx, store.RunInput{HostID: h.ID, Procedure: proc, RequestedBy: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 6 {
			continue // still queued: its host's last run has no end
		}
		if _, err := a.st.FinishRun(ctx, r.ID, store.RunResult{State: run.StateSucceeded, Outcome: outcomes[i%3]}); err != nil {
			t.Fatal(err)
		}
	}
	code := uint32(0x80070002)
	for _, tt := range []struct {
		query string
		f     store.TriageFilter
	}{
		{"", store.TriageFilter{Sort: store.SortFailedAt, Desc: true}},
		{"?code=0x80070002", store.TriageFilter{HResult: &code, Sort: store.SortFailedAt, Desc: true}},
		{"?group=Pilot&sort=name", store.TriageFilter{Group: "Pilot", Sort: store.SortName}},
		{"?q=PC-0&sort=code&dir=desc", store.TriageFilter{Search: "PC-0", Sort: store.SortCode, Desc: true}},
	} {
		_, got := a.download(t, "/export/hosts.csv"+tt.query)
		want := referenceHostsCSV(t, a.st, tt.f)
		if !bytes.Equal(got, want) {
			t.Errorf("%q: export differs from the reference\n got %q\nwant %q", tt.query, firstDiff(got, want), firstDiff(want, got))
		}
		if bytes.Count(want, []byte("\n")) < 3 {
			t.Errorf("%q: the reference lists nothing: the test checks nothing", tt.query)
		}
	}
}

// firstDiff is a from the first byte where it differs from b, shortened.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	start := max(0, i-40)
	return string(a[start:min(len(a), i+80)])
}
