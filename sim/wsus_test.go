package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/remote/scripts"
)

// failingSummary is "name code" per computer WSUS lists, from its newest
// failed update.
func failingSummary(t *testing.T, o stepOutput) []string {
	t.Helper()
	var out []string
	for _, c := range records[scripts.Computer](t, o, scripts.KindComputer) {
		if len(c.Failed) == 0 {
			t.Errorf("%s listed without failed updates", c.Name)
			continue
		}
		out = append(out, fmt.Sprintf("%s %#x", c.Name, c.Failed[0].HResult))
	}
	return out
}

// TestWSUS_FailedComputers ensures the WSUS server lists exactly the
// generated fleet's failing hosts, each with its error code, in the
// script's format.
func TestWSUS_FailedComputers(t *testing.T) {
	t.Parallel()
	f := NewFleet(FleetConfig{Seed: 7, Hosts: 60, End: time.Now()})
	s := startScriptServer(t, f, Options{})
	var want []string
	for _, h := range f.Hosts {
		if code := h.Failure(); code != 0 {
			want = append(want, fmt.Sprintf("%s %#x", strings.ToLower(h.Name), code))
		}
	}
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("the fleet has no failing host")
	}

	o := runScript(t, newScriptClient(t, s, f.WSUSServer), scripts.WSUSFailedComputers, nil)
	r := expectResult(t, o, 0, scripts.StatusOK, "")
	if diff := cmp.Diff(want, failingSummary(t, o)); diff != "" {
		t.Errorf("computers (-want +got):\n%s", diff)
	}
	if r.Message != fmt.Sprintf("listed %d computers with failed updates", len(want)) {
		t.Errorf("message %q", r.Message)
	}
	if o.texts[0] != "Connecting to WSUS at http://localhost:8530." || o.texts[1] != fmt.Sprintf("%d computers have failed updates.", len(want)) {
		t.Errorf("texts %q", o.texts)
	}

	// One computer in full.
	first := records[scripts.Computer](t, o, scripts.KindComputer)[0]
	h, _ := f.Host(strings.ToUpper(first.Name))
	st, _ := s.HostState(h.Name)
	newest := pendingUpdates(h.History)[0]
	wantComputer := scripts.Computer{ID: first.ID, Name: strings.ToLower(h.Name), FQDN: h.FQDN, IP: first.IP,
		OS: strings.TrimPrefix(h.OSCaption, "Microsoft "), Groups: []string{"All Computers", h.Group},
		LastSync: psDate(h.LastReport), LastReported: psDate(h.LastReport),
		Failed: []scripts.FailedUpdate{{UpdateID: newest.UpdateID, KB: newest.KB, Title: newest.Title,
			HResult: st.Failure, Time: psDate(newest.Time)}}}
	if diff := cmp.Diff(wantComputer, first, cmpIgnoreHeader); diff != "" {
		t.Errorf("computer (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(first.IP, "10.") || len(first.ID) != 36 {
		t.Errorf("ip %q, id %q", first.IP, first.ID)
	}
}

// TestWSUS_AfterRepair ensures a repaired host leaves the list and a host
// that is not fixable stays on it.
func TestWSUS_AfterRepair(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	wsus := newScriptClient(t, s, "wsus01.corp.contoso.test")
	o := runScript(t, wsus, scripts.WSUSFailedComputers, nil)
	want := []string{"host-0001 0x80070002", "host-0002 0x80070002", "host-0003 0x80070002"}
	if diff := cmp.Diff(want, failingSummary(t, o)); diff != "" {
		t.Fatalf("before (-want +got):\n%s", diff)
	}

	s.SetFault(win2012, FaultNotFixable)
	at := time.Now().UTC().Add(-time.Minute)
	for _, host := range []string{win11, win2012} {
		repair(t, newScriptClient(t, s, host), at)
	}
	o = runScript(t, wsus, scripts.WSUSFailedComputers, nil)
	want = []string{"host-0002 0x80070002", "host-0003 0x80070002"}
	if diff := cmp.Diff(want, failingSummary(t, o)); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
	// The failure that came back is the newest the server knows of.
	c := records[scripts.Computer](t, o, scripts.KindComputer)[0]
	if c.Failed[0].Time < psDate(at) {
		t.Errorf("failure time %q, want the verify's new attempt", c.Failed[0].Time)
	}
}

// TestWSUS_Refusals ensures the query fails as the script does where it
// cannot run: no WSUS API on a client, a server that is not there, more
// computers than max, bad parameters.
func TestWSUS_Refusals(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	wsus := newScriptClient(t, s, "WSUS01")

	o := runScript(t, newScriptClient(t, s, win11), scripts.WSUSFailedComputers, nil)
	r := expectResult(t, o, scripts.ExitFailed, scripts.StatusFailed, scripts.ReasonWSUSAPIMissing)
	if len(o.texts) != 0 || !strings.HasPrefix(r.Message, "the WSUS administration API is not installed here") {
		t.Errorf("texts %q, message %q", o.texts, r.Message)
	}

	tests := []struct {
		params scripts.WSUSFailedComputersParams
		reason string
		msg    string
	}{
		{scripts.WSUSFailedComputersParams{Server: "wsus02.corp.contoso.test"}, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: The remote name could not be resolved: 'wsus02.corp.contoso.test' (0x80131509)"},
		{scripts.WSUSFailedComputersParams{Server: "host-0001"}, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: Unable to connect to the remote server (0x80131509)"},
		{scripts.WSUSFailedComputersParams{UseSSL: true, Port: 8530}, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: Unable to connect to the remote server (0x80131509)"},
		{scripts.WSUSFailedComputersParams{Server: "wsus01; rm"}, scripts.ReasonBadParams, "server must be a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.params.Server, func(t *testing.T) {
			o := runScript(t, wsus, scripts.WSUSFailedComputers, tt.params)
			code := scripts.ExitFailed
			if tt.reason == scripts.ReasonBadParams {
				code = scripts.ExitBadParams
			}
			if r := expectResult(t, o, code, scripts.StatusFailed, tt.reason); r.Message != tt.msg {
				t.Errorf("message %q, want %q", r.Message, tt.msg)
			}
		})
	}

	o = runScript(t, wsus, scripts.WSUSFailedComputers, scripts.WSUSFailedComputersParams{Server: "WSUS01.corp.contoso.test", Max: 2})
	expectResult(t, o, 0, scripts.StatusOK, "")
	warnings := records[scripts.Warning](t, o, scripts.KindWarning)
	if n := len(records[scripts.Computer](t, o, scripts.KindComputer)); n != 2 || len(warnings) != 1 ||
		warnings[0].Code != scripts.WarnTruncated || warnings[0].Message != "listed 2 of 3 computers (max 2)" {
		t.Errorf("%d computers, warnings %+v", n, warnings)
	}
}
