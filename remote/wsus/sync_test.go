package wsus_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/scripts"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// newStore opens a fresh database file under t.TempDir.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "wsusfix.db"))
	return st
}

// newFleet starts a fleet of n clients whose scripts take no time, and
// opens a session on its WSUS server.
func newFleet(t *testing.T, n int) (*remotetest.Fleet, *remote.Session) {
	t.Helper()
	f := remotetest.NewFleetWith(t, n, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	sess, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: f.Sim.WSUSServer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return f, sess
}

// failingClients counts the fleet's clients with a failed update.
func failingClients(f *remotetest.Fleet) int {
	n := 0
	for _, h := range f.Sim.Hosts {
		if h.Failure() != 0 {
			n++
		}
	}
	return n
}

// failingHost is a client of the fleet with a failed update.
func failingHost(t *testing.T, f *remotetest.Fleet) sim.Host {
	t.Helper()
	for _, h := range f.Sim.Hosts {
		if h.Failure() != 0 {
			return h
		}
	}
	t.Fatal("the fleet has no failing host")
	return sim.Host{}
}

// TestSync_FullThenIncremental ensures a first sync reads every computer
// in full and commits it batch by batch, with the failures as history, and
// that the next sync reads only what reported since the cursor.
func TestSync_FullThenIncremental(t *testing.T) {
	t.Parallel()
	f, sess := newFleet(t, 30)
	st := newStore(t)
	ctx := t.Context()
	var progress []wsus.Progress
	sum, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01", BatchSize: 7,
		Progress: func(p wsus.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Full || sum.Computers != 31 || sum.New != 31 || sum.Failing != failingClients(f) || sum.Gone != 0 ||
		sum.History == 0 || len(sum.Problems) != 0 || sum.Cursor.IsZero() {
		t.Errorf("first sync %+v", sum)
	}
	if len(progress) != 5 || progress[4].Committed != 31 || progress[0].Committed != 7 || progress[0].Total != 31 {
		t.Errorf("progress %+v, want one per batch of 7", progress)
	}
	c, err := st.WSUSCursor(ctx, "WSUS01")
	if err != nil || !c.At.Equal(sum.Cursor) || !c.FullAt.Equal(sum.Cursor) {
		t.Errorf("cursor %+v, %v; want the full sync's %v", c, err, sum.Cursor)
	}
	h := failingHost(t, f)
	got, err := st.HostByName(ctx, h.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.WSUS == nil || got.WSUS.Server != "WSUS01" || len(got.WSUS.ComputerID) != 36 || got.WSUS.Failed == 0 ||
		got.State != store.StateFailing || got.Failure == nil || !strings.EqualFold(got.FQDN, h.FQDN) || got.Group != h.Group {
		t.Errorf("host %+v (wsus %+v)", got, got.WSUS)
	}
	// Every computer's own groups are stored, the first its primary.
	several := 0
	for _, fh := range f.Sim.Hosts {
		got, err := st.HostByName(ctx, fh.Name)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string{fh.Group}, fh.OtherGroups...)
		in := func(g string) bool {
			return slices.ContainsFunc(got.AllGroups(), func(c string) bool { return strings.EqualFold(c, g) })
		}
		if got.Group != fh.Group || len(got.Groups) != len(want) || !in(fh.Group) ||
			slices.ContainsFunc(want, func(g string) bool { return !in(g) }) {
			t.Errorf("%s: groups %q %q, want %q", fh.Name, got.Group, got.Groups, want)
		}
		if len(want) > 1 {
			several++
		}
	}
	if several == 0 {
		t.Errorf("no computer in several groups: the fleet should have some")
	}

	// One client reports; the next sync reads it alone.
	m, _ := f.Srv.Machine(h.Name)
	m.Update(func(s *sim.HostState) { s.LastReport = time.Now().UTC() })
	sum, err = wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Full || sum.Computers != 1 || sum.Updated != 1 || !sum.Since.Equal(c.At.Add(-wsus.DefaultOverlap)) {
		t.Errorf("incremental sync %+v, want host %s alone, updated", sum, h.Name)
	}
}

// TestSync_ResumesFromTheCursor ensures an incremental sync that fails
// (the WSUS API timing out) leaves the cursor of the last good sync, so
// the next one reads from there and misses nothing that changed since.
func TestSync_ResumesFromTheCursor(t *testing.T) {
	t.Parallel()
	f, sess := newFleet(t, 5)
	st := newStore(t)
	ctx := t.Context()
	if _, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"}); err != nil {
		t.Fatal(err)
	}
	before, err := st.WSUSCursor(ctx, "WSUS01")
	if err != nil {
		t.Fatal(err)
	}
	h := failingHost(t, f)
	m, _ := f.Srv.Machine(h.Name)
	m.Update(func(s *sim.HostState) { s.LastReport = time.Now().UTC() })

	f.Srv.SetFault("WSUS01", sim.FaultWSUSTimeout)
	if _, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"}); err == nil {
		t.Fatal("the sync under a timing-out API succeeded")
	}
	if c, err := st.WSUSCursor(ctx, "WSUS01"); err != nil || !c.At.Equal(before.At) {
		t.Fatalf("cursor after the failed sync %+v, %v; want the last good one, %v", c, err, before.At)
	}
	f.Srv.SetFault("WSUS01", sim.FaultNone)
	sum, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"})
	if err != nil || sum.Full || !sum.Since.Equal(before.At.Add(-wsus.DefaultOverlap)) || sum.Computers != 1 || sum.Updated != 1 {
		t.Errorf("the sync after: %+v, %v; want %s alone, read from the last good cursor", sum, err, h.Name)
	}
}

// TestSync_FullMarksGone ensures a full reconcile marks gone the hosts
// WSUS no longer lists and takes them out of triage, and that an
// incremental sync marks none.
func TestSync_FullMarksGone(t *testing.T) {
	t.Parallel()
	f, sess := newFleet(t, 12)
	st := newStore(t)
	ctx := t.Context()
	if _, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"}); err != nil {
		t.Fatal(err)
	}
	h := failingHost(t, f)
	f.Srv.RemoveFromWSUS(h.Name)
	if sum, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01"}); err != nil || sum.Gone != 0 {
		t.Fatalf("incremental: %+v, %v", sum, err)
	}
	sum, err := wsus.Sync(ctx, sess, st, wsus.Options{Server: "WSUS01", Full: true})
	if err != nil || sum.Gone != 1 || sum.Computers != 12 {
		t.Fatalf("full: %+v, %v; want 12 computers and %s gone", sum, err, h.Name)
	}
	gone, err := st.HostByName(ctx, h.Name)
	if err != nil || gone.GoneAt.IsZero() || gone.Failure == nil {
		t.Errorf("gone host %+v, %v", gone, err)
	}
	hosts, err := st.FailingHosts(ctx, store.TriageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range hosts {
		if strings.EqualFold(x.Name, h.Name) {
			t.Errorf("triage still lists gone host %s", h.Name)
		}
	}
}

// TestSync_Faults ensures the collector's refusals and a lost WSUS host
// end the sync with their reason, and leave the cursor where it was.
func TestSync_Faults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault  sim.Fault
		reason string
		kind   error
	}{
		{sim.FaultWSUSNoRights, scripts.ReasonWSUSAccessDenied, nil},
		{sim.FaultWSUSTimeout, scripts.ReasonWSUSTimeout, nil},
		{sim.FaultWSUSAPIMissing, scripts.ReasonWSUSAPIMissing, nil},
		{sim.FaultUnreachable, "", remote.ErrUnreachable},
		{sim.FaultAuthRefused, "", remote.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel()
			f, sess := newFleet(t, 3)
			st := newStore(t)
			f.Srv.SetFault("WSUS01", tt.fault)
			sum, err := wsus.Sync(t.Context(), sess, st, wsus.Options{Server: "WSUS01"})
			var ce *wsus.CollectorError
			switch {
			case tt.kind != nil && !errors.Is(err, tt.kind):
				t.Errorf("error %v, want %v", err, tt.kind)
			case tt.kind == nil && (!errors.As(err, &ce) || ce.Reason != tt.reason || ce.Message == ""):
				t.Errorf("error %v, want the collector's %s", err, tt.reason)
			case tt.kind == nil && tt.fault != sim.FaultWSUSAPIMissing &&
				(len(sum.Output) == 0 || sum.Output[0] != "Connecting to WSUS at http://localhost:8530."):
				t.Errorf("output %q, want what the collector printed", sum.Output)
			}
			if _, err := st.WSUSCursor(t.Context(), "WSUS01"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("cursor after a failed sync: %v", err)
			}
			// Nothing half-written: each fault comes before the first
			// batch (the simulator's, as a real server's refusal or a
			// missing API does), so no computer was stored.
			if n, err := st.CountHosts(t.Context()); err != nil || n != 0 || sum.Computers != 0 {
				t.Errorf("after a failed sync: %d hosts stored, %d committed, %v; want none", n, sum.Computers, err)
			}
		})
	}
}

// TestSync_GhostUpdate ensures an update missing from the WSUS database
// (WsusObjectNotFoundException, a "ghost") is skipped with a warning and
// counted, and the sync still succeeds with every computer.
func TestSync_GhostUpdate(t *testing.T) {
	t.Parallel()
	f, sess := newFleet(t, 3)
	st := newStore(t)
	first, err := wsus.Sync(t.Context(), sess, st, wsus.Options{Server: "WSUS01"})
	if err != nil || first.Ghosts != 0 {
		t.Fatalf("first sync: %v, ghosts %d", err, first.Ghosts)
	}
	h, err := st.HostByName(t.Context(), failingHost(t, f).Name)
	if err != nil {
		t.Fatal(err)
	}
	hist, _, err := st.History(t.Context(), h.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	ghost := ""
	for _, e := range hist {
		if e.Result == run.ResultFailed && e.UpdateID != "" {
			ghost = e.UpdateID
		}
	}
	if ghost == "" {
		t.Fatalf("%s has no failed update with an id: %+v", h.Name, hist)
	}
	f.Srv.SetGhostUpdate(ghost)
	sum, err := wsus.Sync(t.Context(), sess, st, wsus.Options{Server: "WSUS01", Full: true})
	if err != nil || sum.Ghosts != 1 || sum.Computers != first.Computers {
		t.Fatalf("sync with a ghost: %v, ghosts %d, computers %d (want 1 and %d)", err, sum.Ghosts, sum.Computers, first.Computers)
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "missing from the WSUS database") {
		t.Errorf("warnings %q, want one naming the missing update", sum.Warnings)
	}
}

// scripted is a Runner that prints fixed output, for records no real
// collector would send.
type scripted string

func (s scripted) Run(_ context.Context, _ string, _ []byte, stdout, _ io.Writer) (int, error) {
	_, err := io.WriteString(stdout, string(s))
	return 0, err
}

// TestSync_MalformedRecords ensures a broken line and a refused computer
// are reported with their positions while the rest is committed.
func TestSync_MalformedRecords(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const id = "0a1b2c3d-0000-4000-8000-000000000001"
	out := "Connecting.\r\n" +
		`WSUSFIX {"kind":"computers","step":"wsus-inventory","batch":0,"computers":[` +
		`{"id":"` + id + `","name":"good-1","fqdn":"good-1.corp.test","groups":["All Computers","Servers"],"last_reported":"2026-11-30T10:00:00Z","failed_count":1,` +
		`"failed":[{"update_id":"u1","kb":"KB5044281","title":"t","hresult":2147942402,"time":"2026-11-29T10:00:00Z"}]},` +
		`{"id":"not-a-guid","name":"bad-2"}]}` + "\r\n" +
		`WSUSFIX {"kind":"computers", cut off` + "\r\n" +
		`WSUSFIX {"kind":"result","step":"wsus-inventory","status":"ok","message":"listed 2","server_time":"2026-12-01T09:00:00Z","computers":2}` + "\r\n"
	sum, err := wsus.Sync(t.Context(), scripted(out), st, wsus.Options{Server: "WSUS01"})
	if err != nil {
		t.Fatal(err)
	}
	want := []wsus.Problem{
		{Position: "batch 0, computer 2 (bad-2)", Reason: `wsus_computer_id "not-a-guid": want a GUID`},
		{Position: "output line 3", Reason: "a result line that is not one JSON object"},
	}
	if len(sum.Problems) != 2 || sum.Problems[0] != want[0] || sum.Problems[1] != want[1] {
		t.Errorf("problems %+v\nwant %+v", sum.Problems, want)
	}
	h, err := st.HostByName(t.Context(), "good-1")
	if err != nil || h.Failure == nil || h.Failure.HResult != 0x80070002 || h.Group != "Servers" || sum.Computers != 1 {
		t.Errorf("good host %+v, %v; summary %+v", h, err, sum)
	}
	if c, err := st.WSUSCursor(t.Context(), "WSUS01"); err != nil || c.At.Format(time.RFC3339) != "2026-12-01T09:00:00Z" {
		t.Errorf("cursor %+v, %v", c, err)
	}
}

// cutOff prints fixed output, then fails as a WSUS host that went away
// mid-command does.
type cutOff string

func (s cutOff) Run(_ context.Context, _ string, _ []byte, stdout, _ io.Writer) (int, error) {
	_, _ = io.WriteString(stdout, string(s))
	return 0, &remote.Error{Host: "WSUS01", Kind: remote.ErrUnreachable}
}

// TestSync_CutOff ensures a sync cut off after a batch keeps that batch,
// its history included, reports the host's typed error, and leaves the
// cursor alone so the next sync reads from where the last one began.
func TestSync_CutOff(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const id = "0a1b2c3d-0000-4000-8000-000000000002"
	out := `WSUSFIX {"kind":"computers","step":"wsus-inventory","batch":0,"computers":[` +
		`{"id":"` + id + `","name":"kept-1","last_reported":"2026-11-30T10:00:00Z","failed_count":1,` +
		`"failed":[{"update_id":"u1","kb":"KB5044281","title":"t","hresult":2147942403,"time":"2026-11-29T10:00:00Z"}]}]}` + "\r\n"
	_, err := wsus.Sync(t.Context(), cutOff(out), st, wsus.Options{Server: "WSUS01"})
	if !errors.Is(err, remote.ErrUnreachable) {
		t.Fatalf("error %v, want the host unreachable", err)
	}
	h, err := st.HostByName(t.Context(), "kept-1")
	if err != nil || h.Failure == nil || h.Failure.HResult != 0x80070003 {
		t.Errorf("committed host %+v, %v", h, err)
	}
	if _, err := st.WSUSCursor(t.Context(), "WSUS01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor after a cut-off sync: %v", err)
	}
}

// TestSync_NamesMatchWithoutCase ensures a computer WSUS reports in
// another case than the inventory (IComputerTarget.FullDomainName is
// whatever the client reported; no document promises a case) updates the
// imported host rather than adding a second one.
func TestSync_NamesMatchWithoutCase(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "pc-0042", FQDN: "pc-0042.corp.contoso.test"}}); err != nil {
		t.Fatal(err)
	}
	const id = "0a1b2c3d-0000-4000-8000-000000000042"
	out := `WSUSFIX {"kind":"computers","step":"wsus-inventory","batch":0,"computers":[` +
		`{"id":"` + id + `","name":"PC-0042","fqdn":"PC-0042.Corp.Contoso.Test","os_build":26100,"os_version":"10.0.26100","last_reported":"2026-11-30T10:00:00Z","failed_count":0}]}` + "\r\n" +
		`WSUSFIX {"kind":"result","step":"wsus-inventory","status":"ok","message":"listed 1","server_time":"2026-12-01T09:00:00Z","computers":1}` + "\r\n"
	sum, err := wsus.Sync(ctx, scripted(out), st, wsus.Options{Server: "WSUS01"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 0 || sum.Updated != 1 {
		t.Errorf("summary %+v: want the imported host updated, none new", sum)
	}
	if n, err := st.CountHosts(ctx); err != nil || n != 1 {
		t.Errorf("%d hosts (%v), want 1", n, err)
	}
	h, err := st.HostByName(ctx, "pc-0042")
	if err != nil || h.WSUS == nil || h.WSUS.ComputerID != id {
		t.Errorf("host %+v, %v: want the WSUS facts on the imported host", h, err)
	}
	if h.OSBuild != "10.0.26100" {
		t.Errorf("os build %q, want OSInfo.Version's three numbers", h.OSBuild)
	}
}
