package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
)

// importResult is what one run of the import subcommand printed and returned.
type importResult struct {
	stdout, stderr string
	err            error
}

// doImport runs `wsusfix import KIND [extra...] FILE` against the database db.
func doImport(t testing.TB, db, kind, file string, extra ...string) importResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{kind, "-db", db}, extra...)
	args = append(args, file)
	err := runImport(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
	return importResult{stdout.String(), stderr.String(), err}
}

// writeCSV writes content to a file named name in a fresh temporary directory.
func writeCSV(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openTestStore opens the database an import wrote, closed when the test ends.
func openTestStore(t testing.TB, db string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rowError is one FILE:LINE: reason line of stderr, reduced to its line and
// a fragment of the reason.
type rowError struct {
	Line   int
	Reason string
}

// rowErrors parses stderr into row errors for file, failing on any other line.
func rowErrors(t *testing.T, file, stderr string) []rowError {
	t.Helper()
	var out []rowError
	for l := range strings.Lines(stderr) {
		rest, ok := strings.CutPrefix(strings.TrimSuffix(l, "\n"), file+":")
		num, reason, ok2 := strings.Cut(rest, ": ")
		n, err := strconv.Atoi(num)
		if !ok || !ok2 || err != nil {
			t.Fatalf("stderr line %q is not %s:LINE: reason", l, file)
		}
		out = append(out, rowError{n, reason})
	}
	return out
}

// checkRowErrors compares stderr's row errors with want: the same lines in
// the same order, each reason containing the wanted fragment.
func checkRowErrors(t *testing.T, file, stderr string, want []rowError) {
	t.Helper()
	got := rowErrors(t, file, stderr)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(w, g rowError) bool {
		return w.Line == g.Line && (strings.Contains(g.Reason, w.Reason) || strings.Contains(w.Reason, g.Reason))
	})); diff != "" {
		t.Errorf("row errors (-want +got):\n%s\nstderr:\n%s", diff, stderr)
	}
}

const hostsHeader = "name,fqdn,address,os,os_build,group,last_report\n"
const historyHeader = "host,time,kb,title,operation,result,hresult\n"

// TestImport_goodFiles ensures well-formed hosts and history files land in the
// store in full, with the failing host's summary built from its history.
func TestImport_goodFiles(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	hostsFile, historyFile := filepath.Join("testdata", "import_hosts.csv"), filepath.Join("testdata", "import_history.csv")

	r := doImport(t, db, "hosts", hostsFile)
	if r.err != nil || r.stderr != "" {
		t.Fatalf("import hosts: err %v, stderr %q", r.err, r.stderr)
	}
	if want := hostsFile + ": read 4, imported 4, updated 0, duplicate 0, rejected 0\n"; r.stdout != want {
		t.Errorf("hosts summary = %q, want %q", r.stdout, want)
	}
	r = doImport(t, db, "history", historyFile)
	if r.err != nil || r.stderr != "" {
		t.Fatalf("import history: err %v, stderr %q", r.err, r.stderr)
	}
	if want := historyFile + ": read 5, imported 5, duplicate 0, rejected 0\n"; r.stdout != want {
		t.Errorf("history summary = %q, want %q", r.stdout, want)
	}

	st := openTestStore(t, db)
	ctx := t.Context()
	h, err := st.HostByName(ctx, "fin-lt-0001")
	if err != nil {
		t.Fatal(err)
	}
	if h.Failure == nil {
		t.Fatalf("FIN-LT-0001 has no failure: %+v", h)
	}
	want := store.Host{
		ID: h.ID, Name: "FIN-LT-0001", FQDN: "fin-lt-0001.corp.example", Address: "10.1.0.11",
		OSCaption: "Microsoft Windows 11 Enterprise", OSBuild: "10.0.26100.2894", Group: "Finance", Groups: []string{"Finance"},
		LastReportAt: time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC), State: store.StateFailing,
		Failure: &store.Failure{EventID: h.Failure.EventID, HResult: 0x80070002,
			At: time.Date(2024, 5, 14, 8, 0, 0, 0, time.UTC), KB: "KB5037771",
			Title: "2024-05 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5037771)"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("FIN-LT-0001 (-want +got):\n%s", diff)
	}

	hosts := map[string]struct {
		address, state string
		lastReport     time.Time
	}{
		"FIN-LT-0002": {"", store.StateOK, time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC)},
		"HQ-SQL-01":   {"[fd00::5]:5986", store.StateFailing, time.Date(2024, 5, 13, 0, 0, 0, 0, time.UTC)},
		"LAB-WS-0007": {"10.9.0.7:5985", store.StateUnknown, time.Time{}},
	}
	for name, w := range hosts {
		h, err := st.HostByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if h.Address != w.address || h.State != w.state || !h.LastReportAt.Equal(w.lastReport) {
			t.Errorf("%s: address %q state %q last report %v, want %q %q %v",
				name, h.Address, h.State, h.LastReportAt, w.address, w.state, w.lastReport)
		}
	}

	sql01, err := st.HostByName(ctx, "HQ-SQL-01")
	if err != nil {
		t.Fatal(err)
	}
	events, total, err := st.History(ctx, sql01.ID, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		At                                   time.Time
		UpdateID, KB, Operation, Result, Src string
		HResult                              uint32
	}
	var got []ev
	for _, e := range events {
		got = append(got, ev{e.At, e.UpdateID, e.KB, e.Operation, string(e.Result), e.Source, e.HResult})
	}
	wantEv := []ev{
		{time.Date(2024, 5, 16, 8, 0, 0, 0, time.UTC), "2c6d8a3e-5b1f-4f0e-9d3a-7b8c1e2f3a4b", "",
			"Installation", "Succeeded", store.SourceImport, 0},
		{time.Date(2024, 5, 15, 0, 0, 0, 0, time.UTC), "KB5037782", "KB5037782",
			"Installation", "Failed", store.SourceImport, 0x80070002},
	}
	if diff := cmp.Diff(wantEv, got); diff != "" || total != 2 {
		t.Errorf("HQ-SQL-01 history, total %d (-want +got):\n%s", total, diff)
	}
}

// malformedCase is one bad file: what must be reported and what must land.
type malformedCase struct {
	name    string
	kind    string
	content string
	args    []string
	// wantSummary is the stdout line without the "FILE: " prefix; empty
	// when the file must be refused before any row.
	wantSummary string
	wantRows    []rowError
	wantErr     string   // fragment of the returned error; empty for nil
	wantHosts   []string // hosts that must exist afterwards (hosts cases)
	wantEvents  int      // history entries stored for all hosts (history cases)
}

// TestImport_malformed ensures each kind of bad input is reported with its
// physical line number and a recognisable reason, and that good rows land.
func TestImport_malformed(t *testing.T) {
	t.Parallel()
	tests := []malformedCase{
		{
			name:    "missing required column",
			kind:    "hosts",
			content: "name,address,os,os_build,group,last_report\nPC1,,,,,\n",
			wantErr: `missing column "fqdn"`,
		},
		{
			name:    "unknown column",
			kind:    "hosts",
			content: "name,fqdn,adress,os,os_build,group,last_report,notes\nPC1,,,,,,,\n",
			wantErr: `unknown column "adress", "notes"; missing column "address"`,
		},
		{
			name:    "column twice",
			kind:    "history",
			content: "host,time,kb,title,operation,result,hresult,KB\n",
			wantErr: `column "kb" appears twice`,
		},
		{
			name:    "semicolon separated",
			kind:    "hosts",
			content: "name;fqdn;address;os;os_build;group;last_report\nPC1;;;;;;\n",
			wantErr: "separated by semicolons",
		},
		{
			name:    "empty file",
			kind:    "hosts",
			content: "",
			wantErr: "empty file",
		},
		{
			name:        "header only",
			kind:        "history",
			content:     historyHeader,
			wantSummary: "read 0, imported 0, duplicate 0, rejected 0",
		},
		{
			name: "bad host fields",
			kind: "hosts",
			content: hostsHeader +
				"PC1,,,,,,\n" +
				"BAD HOST,,,,,,\n" +
				"-lead,,,,,,\n" +
				"under_score,,,,,,\n" +
				"PC2,pc2..corp,,,,,\n" +
				"PC3,,10.0.0.300,,,,\n" +
				"PC4,,[fd00::5],,,,\n" +
				"PC5,,10.0.0.5:0,,,,\n" +
				"PC6,,,,10.0.x,,\n" +
				"PC7,,,,,,14/05/2024\n" +
				"PC8,,,,,,2024-05-14T09:30:00\n" +
				"PC9,pc9.corp.example,fd00::9,,10.0.1,,2024-05-14\n" +
				",,,,,,\n",
			wantSummary: "read 13, imported 2, updated 0, duplicate 0, rejected 11",
			wantRows: []rowError{
				{3, `name "BAD HOST": has ' '`},
				{4, `label "-lead" starts with a hyphen`},
				{5, `name "under_score": has '_'`},
				{6, `fqdn "pc2..corp": has an empty label`},
				{7, `address "10.0.0.300": want an IP address or IP:port`},
				{8, `address "[fd00::5]": want an IP address`},
				{9, "port 0"},
				{10, `os_build "10.0.x": want digits and dots`},
				{11, `last_report "14/05/2024": want RFC 3339`},
				{12, `last_report "2024-05-14T09:30:00": want RFC 3339`},
				{14, `name "": is empty`},
			},
			wantErr:   "11 rows rejected",
			wantHosts: []string{"PC1", "PC9"},
		},
		{
			name: "bad history fields",
			kind: "history",
			content: "host,time,kb,title,operation,result,hresult,update_id\n" +
				"PC1,2024-05-14,KB5037771,,Installation,Failed,0x80070002,\n" +
				"PC1,yesterday,KB5037771,,Installation,Failed,0x80070002,\n" +
				"PC1,,KB5037771,,Installation,Failed,0x80070002,\n" +
				"PC1,2024-05-14,KB12345,,Installation,Failed,0x80070002,\n" +
				"PC1,2024-05-14,Q123456,,Installation,Failed,0x80070002,\n" +
				"PC1,2024-05-14,,,Installation,Failed,0x80070002,\n" +
				"PC1,2024-05-14,KB5037772,,Install,Failed,0x80070002,\n" +
				"PC1,2024-05-14,KB5037773,,Installation,Broken,0x80070002,\n" +
				"PC1,2024-05-14,KB5037774,,Installation,0,0x80070002,\n" +
				"PC1,2024-05-14,KB5037775,,Installation,Failed,E_FAIL,\n" +
				"PC1,2024-05-14,KB5037776,,Installation,Failed,0x1234567890,\n" +
				"GHOST,2024-05-14,KB5037777,,Installation,Failed,0x80070002,\n" +
				"PC1,2024-05-13,,,Installation,Succeeded,,0b3c1c4e-8e1a-4f47-a0a1-6d0b2a9c9f10\n",
			wantSummary: "read 13, imported 2, duplicate 0, rejected 11",
			wantRows: []rowError{
				{3, `time "yesterday": want RFC 3339`},
				{4, "time is empty"},
				{5, `kb "KB12345": want KB followed by 6 to 8 digits`},
				{6, `kb "Q123456"`},
				{7, "no kb and no update_id"},
				{8, `operation "Install": want Installation or Uninstallation`},
				{9, `result "Broken": want Succeeded`},
				{10, `result "0"`},
				{11, `"E_FAIL" is not a number`},
				{12, `"0x1234567890" is out of the 32-bit range`},
				{13, "unknown host GHOST (import hosts first)"},
			},
			wantErr:    "11 rows rejected",
			wantEvents: 2,
		},
		{
			name: "short and long rows",
			kind: "hosts",
			content: hostsHeader +
				"PC1,,,,,,\n" +
				"PC2,,,,\n" +
				"PC3,,,,,,,,\n" +
				"PC4,,,,,,\n",
			wantSummary: "read 4, imported 2, updated 0, duplicate 0, rejected 2",
			wantRows:    []rowError{{3, "has 5 fields, header has 7"}, {4, "has 9 fields, header has 7"}},
			wantErr:     "2 rows rejected",
			wantHosts:   []string{"PC1", "PC4"},
		},
		{
			name: "duplicates in the file",
			kind: "hosts",
			content: hostsHeader +
				"PC1,,10.0.0.1,,,,\n" +
				"PC2,,,,,,\n" +
				"pc1,,10.0.0.1,,,,\n" +
				"PC2,,10.0.0.2,,,,\n",
			wantSummary: "read 4, imported 2, updated 0, duplicate 1, rejected 1",
			wantRows:    []rowError{{5, "host PC2 already given at line 3 with different values"}},
			wantErr:     "1 row rejected",
			wantHosts:   []string{"PC1", "PC2"},
		},
		{
			name: "duplicate history rows in the file",
			kind: "history",
			content: historyHeader +
				"PC1,2024-05-14,KB5037771,,Installation,Failed,0x80070002\n" +
				"pc1,2024-05-14T00:00:00Z,kb5037771,,installation,4,80070002\n" +
				"PC1,2024-05-15,KB5037771,,Installation,Succeeded,0\n",
			args:        []string{"-batch", "1"}, // the duplicate lands in a later transaction
			wantSummary: "read 3, imported 2, duplicate 1, rejected 0",
			wantEvents:  2,
		},
		{
			name:        "UTF-8 BOM and CRLF",
			kind:        "hosts",
			content:     "\uFEFFNAME,FQDN,Address,OS,OS_Build,Group,Last_Report\r\nPC1,,,,,,\r\nBAD HOST,,,,,,\r\nPC2,,,,,,\r\n",
			wantSummary: "read 3, imported 2, updated 0, duplicate 0, rejected 1",
			wantRows:    []rowError{{3, `name "BAD HOST"`}},
			wantErr:     "1 row rejected",
			wantHosts:   []string{"PC1", "PC2"},
		},
		{
			name:    "UTF-16",
			kind:    "hosts",
			content: "\xFF\xFEn\x00a\x00m\x00e\x00",
			wantErr: "UTF-16",
		},
		{
			name: "quoted newlines keep line numbers",
			kind: "history",
			content: historyHeader +
				"PC1,2024-05-14,KB5037771,\"two\nline title\",Installation,Failed,0x80070002\n" +
				"PC1,2024-05-14,KB5037772,\"three\r\nline\r\ntitle\",Installation,Failed,bad\n" +
				"PC1,2024-05-14,KB503,title,Installation,Failed,0\n" +
				"PC1,2024-05-15,KB5037773,title,Installation,Succeeded,0\n",
			wantSummary: "read 4, imported 2, duplicate 0, rejected 2",
			wantRows:    []rowError{{4, `"bad" is not a number`}, {7, `kb "KB503"`}},
			wantErr:     "2 rows rejected",
			wantEvents:  2,
		},
		{
			name: "bad quoting continues with the next row",
			kind: "hosts",
			content: hostsHeader +
				"PC1,,,,,,\n" +
				"PC2,,,Windows \"11\",,,\n" +
				"PC3,,,\"Windows 11\" Pro,,,\n" +
				"PC4,,,,,,\n",
			wantSummary: "read 4, imported 2, updated 0, duplicate 0, rejected 2",
			wantRows:    []rowError{{3, "bad CSV quoting at column"}, {4, "bad CSV quoting at column"}},
			wantErr:     "2 rows rejected",
			wantHosts:   []string{"PC1", "PC4"},
		},
		{
			name: "unterminated quote",
			kind: "hosts",
			content: hostsHeader +
				"PC1,,,,,,\n" +
				"PC2,,,\"Windows 11,,,\n" +
				"PC3,,,,,,\n",
			wantSummary: "read 2, imported 1, updated 0, duplicate 0, rejected 1",
			wantRows:    []rowError{{3, "bad CSV quoting in the row starting here, found at line 4"}},
			wantErr:     "1 row rejected",
			wantHosts:   []string{"PC1"},
		},
		{
			name: "unknown hosts across batches stay in line order",
			kind: "history",
			content: historyHeader +
				"GHOST1,2024-05-14,KB5037771,,Installation,Failed,0\n" +
				"PC1,2024-05-14,KB50,,Installation,Failed,0\n" +
				"PC1,2024-05-14,KB5037771,,Installation,Failed,0\n" +
				"GHOST2,2024-05-14,KB5037771,,Installation,Failed,0\n" +
				"PC1,2024-05-15,KB5037771,,Installation,Failed,0\n",
			args:        []string{"-batch", "2"},
			wantSummary: "read 5, imported 2, duplicate 0, rejected 3",
			wantRows: []rowError{
				{2, "unknown host GHOST1"}, {3, `kb "KB50"`}, {5, "unknown host GHOST2"},
			},
			wantErr:    "3 rows rejected",
			wantEvents: 2,
		},
		{
			name:        "invalid UTF-8",
			kind:        "hosts",
			content:     hostsHeader + "PC1,,,Windows caf\xe9,,,\nPC2,,,,,,\n",
			wantSummary: "read 2, imported 1, updated 0, duplicate 0, rejected 1",
			wantRows:    []rowError{{2, "not valid UTF-8"}},
			wantErr:     "1 row rejected",
			wantHosts:   []string{"PC2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "w.db")
			if err := store.NewFile(db); err != nil { // migrated once, not once a case
				t.Fatal(err)
			}
			if tt.kind == "history" {
				// PC1 is the inventory the history cases refer to.
				if r := doImport(t, db, "hosts", writeCSV(t, "hosts.csv", hostsHeader+"PC1,,,,,,\n")); r.err != nil {
					t.Fatal(r.err)
				}
			}
			file := writeCSV(t, tt.kind+".csv", tt.content)
			r := doImport(t, db, tt.kind, file, tt.args...)
			checkMalformed(t, tt, db, file, r)
		})
	}
}

// checkMalformed asserts one malformed case's outcome.
func checkMalformed(t *testing.T, tt malformedCase, db, file string, r importResult) {
	t.Helper()
	switch {
	case tt.wantErr == "" && r.err != nil:
		t.Errorf("err = %v, want nil", r.err)
	case tt.wantErr != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr)):
		t.Errorf("err = %v, want it to contain %q", r.err, tt.wantErr)
	}
	wantStdout := ""
	if tt.wantSummary != "" {
		wantStdout = file + ": " + tt.wantSummary + "\n"
	}
	if r.stdout != wantStdout {
		t.Errorf("stdout = %q, want %q", r.stdout, wantStdout)
	}
	checkRowErrors(t, file, r.stderr, tt.wantRows)

	st := openTestStore(t, db)
	n, err := st.CountHosts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tt.kind == "hosts" {
		if n != len(tt.wantHosts) {
			t.Errorf("store holds %d hosts, want %d (%v)", n, len(tt.wantHosts), tt.wantHosts)
		}
		for _, name := range tt.wantHosts {
			if _, err := st.HostByName(t.Context(), name); err != nil {
				t.Errorf("host %s: %v", name, err)
			}
		}
		return
	}
	pc1, err := st.HostByName(t.Context(), "PC1")
	if err != nil {
		t.Fatal(err)
	}
	if _, total, err := st.History(t.Context(), pc1.ID, 1, 0); err != nil || total != tt.wantEvents {
		t.Errorf("PC1 history holds %d entries (err %v), want %d", total, err, tt.wantEvents)
	}
}

// TestImport_idempotent ensures importing the same files again stores
// nothing new and reports every row as a duplicate.
func TestImport_idempotent(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	hostsFile, historyFile := filepath.Join("testdata", "import_hosts.csv"), filepath.Join("testdata", "import_history.csv")
	for _, f := range []struct{ kind, file string }{{"hosts", hostsFile}, {"history", historyFile}} {
		if r := doImport(t, db, f.kind, f.file); r.err != nil {
			t.Fatalf("first import %s: %v", f.kind, r.err)
		}
	}
	r := doImport(t, db, "hosts", hostsFile)
	if want := hostsFile + ": read 4, imported 0, updated 0, duplicate 4, rejected 0\n"; r.err != nil || r.stdout != want {
		t.Errorf("second hosts import: err %v, stdout %q, want %q", r.err, r.stdout, want)
	}
	r = doImport(t, db, "history", historyFile)
	if want := historyFile + ": read 5, imported 0, duplicate 5, rejected 0\n"; r.err != nil || r.stdout != want {
		t.Errorf("second history import: err %v, stdout %q, want %q", r.err, r.stdout, want)
	}

	// A changed row is an update, not a duplicate.
	changed := writeCSV(t, "hosts.csv", hostsHeader+"LAB-WS-0007,,10.9.0.8:5985,,,,\n")
	r = doImport(t, db, "hosts", changed)
	if want := changed + ": read 1, imported 0, updated 1, duplicate 0, rejected 0\n"; r.err != nil || r.stdout != want {
		t.Errorf("changed hosts import: err %v, stdout %q, want %q", r.err, r.stdout, want)
	}
}

// TestImport_hresultForms ensures every accepted spelling of an HRESULT
// stores the same unsigned value.
func TestImport_hresultForms(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	if r := doImport(t, db, "hosts", writeCSV(t, "hosts.csv", hostsHeader+"PC1,,,,,,\nPC2,,,,,,\nPC3,,,,,,\n")); r.err != nil {
		t.Fatal(r.err)
	}
	forms := map[string]string{"PC1": "0x80070002", "PC2": "80070002", "PC3": "-2147024894"}
	var b strings.Builder
	b.WriteString(historyHeader)
	for host, code := range forms {
		fmt.Fprintf(&b, "%s,2024-05-14,KB5037771,,Installation,Failed,%s\n", host, code)
	}
	if r := doImport(t, db, "history", writeCSV(t, "history.csv", b.String())); r.err != nil {
		t.Fatal(r.err, r.stderr)
	}
	st := openTestStore(t, db)
	for host, code := range forms {
		h, err := st.HostByName(t.Context(), host)
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := st.History(t.Context(), h.ID, 10, 0)
		if err != nil || len(events) != 1 {
			t.Fatalf("%s: %d events, err %v", host, len(events), err)
		}
		if events[0].HResult != 0x80070002 || h.Failure == nil || h.Failure.HResult != 0x80070002 {
			t.Errorf("%s: %s stored as %#x (failure %+v), want 0x80070002", host, code, events[0].HResult, h.Failure)
		}
	}
}

// TestRunImport_usage ensures bad command lines fail with a clear error and
// the usage text, and -h documents both formats.
func TestRunImport_usage(t *testing.T) {
	t.Parallel()
	good := filepath.Join("testdata", "import_hosts.csv")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no arguments", nil, nil, "missing kind"},
		{"unknown kind", []string{"computers", good}, nil, `unknown kind "computers"`},
		{"missing file", []string{"hosts"}, nil, "missing FILE.csv"},
		{"two files", []string{"hosts", good, good}, nil, "one file at a time"},
		{"bad batch", []string{"hosts", "-batch", "0", good}, nil, "-batch 0"},
		{"bad batch env", []string{"hosts", good}, map[string]string{"WSUSFIX_IMPORT_BATCH": "lots"}, "WSUSFIX_IMPORT_BATCH"},
		{"no such file", []string{"hosts", filepath.Join(t.TempDir(), "nope.csv")}, nil, "nope.csv"},
		{"help", []string{"-h"}, nil, flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"-db", filepath.Join(t.TempDir(), "w.db")}, tt.args...)
			err := runImport(t.Context(), args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.name == "help" {
				if !errors.Is(err, flag.ErrHelp) {
					t.Errorf("err = %v, want flag.ErrHelp", err)
				}
				for _, s := range []string{"Usage: wsusfix import hosts|history", hostsHeader[:len(hostsHeader)-1],
					"history: host,time,kb,title,operation,result,hresult[,update_id]", "-batch", "WSUSFIX_IMPORT_BATCH"} {
					if !strings.Contains(stderr.String(), s) {
						t.Errorf("help lacks %q", s)
					}
				}
			}
		})
	}
}

// TestRunImport_stdin ensures "-" reads standard input and names it stdin.
func TestRunImport_stdin(t *testing.T) {
	t.Parallel()
	f := writeCSV(t, "hosts.csv", hostsHeader+"PC1,,,,,,\nBAD HOST,,,,,,\n")
	in, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	old := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = old }()

	r := doImport(t, filepath.Join(t.TempDir(), "w.db"), "hosts", "-")
	if want := "stdin: read 2, imported 1, updated 0, duplicate 0, rejected 1\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	checkRowErrors(t, "stdin", r.stderr, []rowError{{3, `name "BAD HOST"`}})
}

// BenchmarkImportHistory measures importing 1,000,000 history rows for
// 10,000 hosts into a fresh database that already holds the hosts, with the
// rows grouped by host (an export per computer) and ordered by date (an
// export of a period), where every transaction touches thousands of hosts.
func BenchmarkImportHistory(b *testing.B) {
	const hosts, perHost = 10_000, 100
	dir := b.TempDir()
	hostsFile := filepath.Join(dir, "hosts.csv")
	writeBenchFile(b, hostsFile, func(w *bufio.Writer) {
		w.WriteString(hostsHeader)
		for h := range hosts {
			fmt.Fprintf(w, "HOST-%05d,host-%05d.corp.example,10.%d.%d.%d,Microsoft Windows 11 Enterprise,10.0.26100.%d,G%d,2024-05-14T09:30:00Z\n",
				h, h, h>>16&255, h>>8&255, h&255, h%4000, h%20)
		}
	})
	start := time.Date(2020, 1, 14, 18, 0, 0, 0, time.UTC)
	row := func(w *bufio.Writer, h, m int) {
		result, code := "Succeeded", "0"
		if (h+m)%37 == 0 {
			result, code = "Failed", "0x80070002"
		}
		fmt.Fprintf(w, "HOST-%05d,%s,KB50%05d,%d-%02d Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB50%05d),Installation,%s,%s\n",
			h, start.AddDate(0, m, 0).Format(time.RFC3339), m, 2020+m/12, m%12+1, m, result, code)
	}
	for _, order := range []string{"by-host", "by-date"} {
		b.Run(order, func(b *testing.B) {
			historyFile := filepath.Join(dir, order+".csv")
			writeBenchFile(b, historyFile, func(w *bufio.Writer) {
				w.WriteString(historyHeader)
				for i := range hosts * perHost {
					if order == "by-host" {
						row(w, i/perHost, i%perHost)
					} else {
						row(w, i%hosts, i/hosts)
					}
				}
			})
			for range b.N {
				b.StopTimer()
				db := filepath.Join(b.TempDir(), "w.db")
				if r := doImport(b, db, "hosts", hostsFile); r.err != nil {
					b.Fatal(r.err)
				}
				b.StartTimer()
				r := doImport(b, db, "history", historyFile)
				if want := historyFile + ": read 1000000, imported 1000000, duplicate 0, rejected 0\n"; r.err != nil || r.stdout != want {
					b.Fatalf("err %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
				}
			}
		})
	}
}

// writeBenchFile writes a generated file through a buffer.
func writeBenchFile(b *testing.B, path string, fill func(w *bufio.Writer)) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		b.Fatal(err)
	}
}
