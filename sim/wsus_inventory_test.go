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

// inventoryComputers returns the computers of every batch in order, and
// checks the batches are numbered from 0 and hold at most size each.
func inventoryComputers(t *testing.T, o stepOutput, size int) []scripts.InventoryComputer {
	t.Helper()
	var out []scripts.InventoryComputer
	batches := records[scripts.ComputerBatch](t, o, scripts.KindComputers)
	for i, b := range batches {
		if b.Batch != i || len(b.Computers) == 0 || len(b.Computers) > size || b.Total < len(b.Computers) {
			t.Errorf("batch %d is number %d with %d of %d computers (at most %d)", i, b.Batch, len(b.Computers), b.Total, size)
		}
		out = append(out, b.Computers...)
	}
	for _, b := range batches {
		if b.Total != len(out) {
			t.Errorf("batch %d says %d computers in all, %d came", b.Batch, b.Total, len(out))
		}
	}
	return out
}

// inventoryNames is the short names of computers, in order.
func inventoryNames(cs []scripts.InventoryComputer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestWSUSInventory_Full ensures a full reconcile lists every computer of
// the fleet, the WSUS server included, in batches, sorted by FQDN, with the
// failing ones marked and counted, and ends with the server's time.
func TestWSUSInventory_Full(t *testing.T) {
	t.Parallel()
	f := NewFleet(FleetConfig{Seed: 7, Hosts: 60, End: time.Now()})
	s := startScriptServer(t, f, Options{})
	before := time.Now().UTC().Truncate(time.Second)
	o := runScript(t, newScriptClient(t, s, f.WSUSServer), scripts.WSUSInventory, scripts.WSUSInventoryParams{BatchSize: 25})
	r := expectResult(t, o, scripts.ExitOK, scripts.StatusOK, "")

	cs := inventoryComputers(t, o, 25)
	if n := len(records[scripts.ComputerBatch](t, o, scripts.KindComputers)); n != 3 {
		t.Errorf("%d batches of 61 computers, want 3", n)
	}
	var want []string
	failing := 0
	for _, h := range append(slices.Clone(f.Hosts), wsusHost(f)) {
		want = append(want, strings.ToLower(h.FQDN))
		if len(pendingUpdates(h.History)) > 0 {
			failing++
		}
	}
	slices.Sort(want)
	var got []string
	for _, c := range cs {
		got = append(got, c.FQDN)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("computers (-want +got):\n%s", diff)
	}
	if failing == 0 || r.Computers != 61 || r.Failing != failing || r.Message != fmt.Sprintf("listed 61 computers, %d with failed updates", failing) {
		t.Errorf("result %+v, want 61 computers, %d failing", r, failing)
	}
	if at, err := time.Parse(time.RFC3339, r.ServerTime); err != nil || at.Before(before) || at.After(time.Now()) {
		t.Errorf("server_time %q, want the time of the query", r.ServerTime)
	}
	if diff := cmp.Diff([]string{"Connecting to WSUS at http://localhost:8530.", "Reading every computer (full reconcile).",
		fmt.Sprintf("61 computers, %d error events.", r.Events)}, o.texts); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}

	// One failing computer in full.
	i := slices.IndexFunc(cs, func(c scripts.InventoryComputer) bool { return c.FailedCount > 0 })
	c := cs[i]
	h, _ := f.Host(strings.ToUpper(c.Name))
	st, _ := s.HostState(h.Name)
	if c.FailedCount != len(pendingUpdates(h.History)) || len(c.Failed) != c.FailedCount ||
		c.Failed[0].UpdateID != pendingUpdates(h.History)[0].UpdateID || len(c.ID) != 36 ||
		!strings.HasPrefix(c.IP, "10.") || c.OS != strings.TrimPrefix(h.OSCaption, "Microsoft ") ||
		!slices.Equal(c.Groups, append([]string{"All Computers", h.Group}, h.OtherGroups...)) || c.LastReported != psDate(h.LastReport) {
		t.Errorf("computer %+v\nfor host %s (group %s, failure %#x)", c, h.Name, h.Group, st.Failure)
	}
	if _, build := parseBuild(h.OSBuild); c.OSBuild != build {
		t.Errorf("os_build %d, want %d", c.OSBuild, build)
	}

	// Some computers are in several groups of their own, and each lists
	// every one of them.
	several := 0
	for _, c := range cs {
		h, ok := f.Host(strings.ToUpper(c.Name))
		if !ok {
			continue // the WSUS server itself
		}
		if !slices.Equal(c.Groups, append([]string{"All Computers", h.Group}, h.OtherGroups...)) {
			t.Errorf("%s: groups %q, want All Computers, %q and %q", c.Name, c.Groups, h.Group, h.OtherGroups)
		}
		if len(c.Groups) > 2 {
			several++
		}
	}
	if several == 0 || several == len(cs) {
		t.Errorf("%d of %d computers in several groups, want some", several, len(cs))
	}
}

// TestWSUSInventory_Incremental ensures a sync since a cursor lists only
// the computers that reported since, and that computers removed from WSUS
// leave the list and come back when they register again.
func TestWSUSInventory_Incremental(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	wsus := newScriptClient(t, s, "WSUS01")
	r := expectResult(t, runScript(t, wsus, scripts.WSUSInventory, nil), scripts.ExitOK, scripts.StatusOK, "")
	cursor := r.ServerTime

	o := runScript(t, wsus, scripts.WSUSInventory, scripts.WSUSInventoryParams{Since: cursor})
	expectResult(t, o, scripts.ExitOK, scripts.StatusOK, "")
	if cs := inventoryComputers(t, o, 200); len(cs) != 0 || o.texts[1] != "Reading the computers that reported since "+cursor+"." {
		t.Errorf("nothing reported, yet listed %v; texts %q", inventoryNames(cs), o.texts)
	}

	m, _ := s.Machine(win2012)
	m.Update(func(st *HostState) { st.LastReport = time.Now().UTC().Add(time.Second) })
	if !s.RemoveFromWSUS(win11) || !s.RemoveFromWSUS(win2022) || s.RemoveFromWSUS("HOST-9999") {
		t.Fatal("RemoveFromWSUS does not know the fleet")
	}
	o = runScript(t, wsus, scripts.WSUSInventory, scripts.WSUSInventoryParams{Since: cursor})
	if got := inventoryNames(inventoryComputers(t, o, 200)); !slices.Equal(got, []string{"host-0002"}) {
		t.Errorf("changed computers %v, want host-0002", got)
	}
	o = runScript(t, wsus, scripts.WSUSInventory, nil)
	if got := inventoryNames(inventoryComputers(t, o, 200)); !slices.Equal(got, []string{"host-0002", "wsus01"}) {
		t.Errorf("after removals %v", got)
	}

	s.AddToWSUS(win11)
	o = runScript(t, wsus, scripts.WSUSInventory, scripts.WSUSInventoryParams{Since: cursor})
	if got := inventoryNames(inventoryComputers(t, o, 200)); !slices.Equal(got, []string{"host-0001", "host-0002"}) {
		t.Errorf("after host-0001 registered again %v", got)
	}
}

// TestWSUSInventory_EventsAndGhosts ensures error codes come from events
// WSUS still holds (15 days) within the window, and that an update gone
// from the database is skipped with one warning however many computers
// failed it, while their counts still include it.
func TestWSUSInventory_EventsAndGhosts(t *testing.T) {
	t.Parallel()
	s := startScriptServer(t, testFleet(3), Options{})
	wsus := newScriptClient(t, s, "WSUS01")
	recent := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	m, _ := s.Machine(win11)
	m.Update(func(st *HostState) { st.History[0].Time = recent })

	o := runScript(t, wsus, scripts.WSUSInventory, nil)
	r := expectResult(t, o, scripts.ExitOK, scripts.StatusOK, "")
	var got []string
	for _, c := range inventoryComputers(t, o, 200) {
		for _, u := range c.Failed {
			got = append(got, fmt.Sprintf("%s %s %#x %s", c.Name, u.KB, u.HResult, u.Time))
		}
	}
	want := []string{"host-0001 KB5044281 0x80070002 " + psDate(recent), "host-0002 KB5044281 0x0 ", "host-0003 KB5044281 0x0 "}
	if diff := cmp.Diff(want, got); diff != "" || r.Events != 1 || r.Failing != 3 {
		t.Errorf("failed updates (-want +got):\n%s\nevents %d, failing %d", diff, r.Events, r.Failing)
	}
	// An incremental window after the event holds none.
	o = runScript(t, wsus, scripts.WSUSInventory, scripts.WSUSInventoryParams{Since: psDate(recent.Add(time.Hour))})
	if r := expectResult(t, o, scripts.ExitOK, scripts.StatusOK, ""); r.Events != 0 {
		t.Errorf("%d events after the window opened", r.Events)
	}

	s.SetGhostUpdate("0B1C")
	o = runScript(t, wsus, scripts.WSUSInventory, nil)
	r = expectResult(t, o, scripts.ExitOK, scripts.StatusOK, "")
	warnings := records[scripts.Warning](t, o, scripts.KindWarning)
	if len(warnings) != 1 || warnings[0].Code != scripts.WarnGhostUpdate || r.Ghosts != 1 ||
		warnings[0].Message != "update 0b1c is missing from the WSUS database; skipped" {
		t.Errorf("warnings %+v, ghosts %d", warnings, r.Ghosts)
	}
	for _, c := range inventoryComputers(t, o, 200) {
		if len(c.Failed) != 0 || (c.Name != "wsus01" && c.FailedCount != 1) {
			t.Errorf("%s: %d failed listed, count %d; want the ghost skipped but counted", c.Name, len(c.Failed), c.FailedCount)
		}
	}
}

// TestWSUSInventory_Refusals ensures each fault ends the collector with
// its own reason and a message that says what to do about it.
func TestWSUSInventory_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		host   string
		fault  Fault
		params scripts.WSUSInventoryParams
		code   int
		reason string
		msg    string
	}{
		{"client without the API", win11, FaultNone, scripts.WSUSInventoryParams{}, scripts.ExitFailed, scripts.ReasonWSUSAPIMissing,
			`the WSUS administration API is not installed here (install the WSUS role or the "WSUS API and PowerShell cmdlets" feature)`},
		{"api removed", "WSUS01", FaultWSUSAPIMissing, scripts.WSUSInventoryParams{}, scripts.ExitFailed, scripts.ReasonWSUSAPIMissing,
			`the WSUS administration API is not installed here (install the WSUS role or the "WSUS API and PowerShell cmdlets" feature)`},
		{"no rights", "WSUS01", FaultWSUSNoRights, scripts.WSUSInventoryParams{}, scripts.ExitFailed, scripts.ReasonWSUSAccessDenied,
			"the account is in neither WSUS Administrators nor WSUS Reporters on this server: The request failed with HTTP status 401: Unauthorized."},
		{"timeout", "WSUS01", FaultWSUSTimeout, scripts.WSUSInventoryParams{}, scripts.ExitFailed, scripts.ReasonWSUSTimeout,
			"the WSUS query timed out: Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding."},
		{"wrong port", "WSUS01", FaultNone, scripts.WSUSInventoryParams{UseSSL: true, Port: 8530}, scripts.ExitFailed, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: Unable to connect to the remote server (0x80131509)"},
		{"bad since", "WSUS01", FaultNone, scripts.WSUSInventoryParams{Since: "yesterday"}, scripts.ExitBadParams, scripts.ReasonBadParams,
			"since must be an RFC 3339 time such as 2026-11-23T22:45:01Z"},
		{"bad server", "WSUS01", FaultNone, scripts.WSUSInventoryParams{Server: "wsus01; rm"}, scripts.ExitBadParams, scripts.ReasonBadParams,
			"server must be a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startScriptServer(t, testFleet(3), Options{})
			s.SetFault(tt.host, tt.fault)
			o := runScript(t, newScriptClient(t, s, tt.host), scripts.WSUSInventory, tt.params)
			if r := expectResult(t, o, tt.code, scripts.StatusFailed, tt.reason); r.Message != tt.msg {
				t.Errorf("message %q, want %q", r.Message, tt.msg)
			}
			if n := len(records[scripts.ComputerBatch](t, o, scripts.KindComputers)); n != 0 {
				t.Errorf("%d batches before the refusal", n)
			}
		})
	}
}
