package store

import (
	"errors"
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestStore_WSUSCursor ensures a server has no cursor before its first
// sync, that the cursor only moves forward, and that a full reconcile is
// remembered apart from incremental syncs.
func TestStore_WSUSCursor(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.WSUSCursor(ctx, "WSUS01"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before a sync: %v, want ErrNotFound", err)
	}
	full := day(10)
	if err := s.AdvanceWSUSCursor(ctx, "WSUS01", full, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceWSUSCursor(ctx, "wsus01", day(12), false); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceWSUSCursor(ctx, "WSUS01", day(11), false); err != nil {
		t.Fatal(err)
	}
	c, err := s.WSUSCursor(ctx, "WSUS01")
	if err != nil {
		t.Fatal(err)
	}
	if !c.At.Equal(day(12)) || !c.FullAt.Equal(full) {
		t.Errorf("cursor %v, full %v; want %v, %v", c.At, c.FullAt, day(12), full)
	}
	if err := s.AdvanceWSUSCursor(ctx, "WSUS01", time.Time{}, false); err == nil {
		t.Error("advanced to no time")
	}
}

// TestStore_WSUSGone ensures a full reconcile marks gone the hosts its
// server listed before but not now, hides them from triage while keeping
// their history, and that listing a host again brings it back.
func TestStore_WSUSGone(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	facts := func(id string, seen time.Time) *WSUSFacts {
		return &WSUSFacts{Server: "WSUS01", ComputerID: id, Failed: 1, SeenAt: seen}
	}
	first, second := day(1), day(2)
	c, err := s.UpsertHosts(ctx, []HostInput{
		{Name: "HOST-1", WSUS: facts("1", first)}, {Name: "HOST-2", WSUS: facts("2", first)}, {Name: "CSV-ONLY"}})
	if err != nil || c.Inserted != 3 {
		t.Fatalf("upsert %+v, %v", c, err)
	}
	addEvents(t, s, ev("HOST-1", 3, "1", run.ResultFailed, fileNotFound), ev("HOST-2", 3, "1", run.ResultFailed, fileNotFound),
		ev("CSV-ONLY", 3, "1", run.ResultFailed, fileNotFound))

	// The next full reconcile lists HOST-1 only; same facts: unchanged.
	c, err = s.UpsertHosts(ctx, []HostInput{{Name: "HOST-1", WSUS: facts("1", second)}})
	if err != nil || c.Unchanged != 1 {
		t.Fatalf("second upsert %+v, %v", c, err)
	}
	n, err := s.MarkWSUSGone(ctx, "WSUS01", second)
	if err != nil || n != 1 {
		t.Fatalf("marked %d gone, %v; want 1", n, err)
	}
	hosts, err := s.FailingHosts(ctx, TriageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(hosts); len(got) != 2 || got[0] == "HOST-2" || got[1] == "HOST-2" {
		t.Errorf("triage lists %v, want HOST-2 hidden", got)
	}
	gone, err := s.HostByName(ctx, "host-2")
	if err != nil || !gone.GoneAt.Equal(fixedNow) || gone.Failure == nil || gone.WSUS == nil || gone.WSUS.ComputerID != "2" {
		t.Errorf("gone host %+v, %v; want it kept with its failure and WSUS facts", gone, err)
	}
	if n, _ := s.MarkWSUSGone(ctx, "WSUS01", second); n != 0 {
		t.Errorf("marked %d gone twice", n)
	}

	// Listed again: back in triage, and counted as updated.
	c, err = s.UpsertHosts(ctx, []HostInput{{Name: "HOST-2", WSUS: facts("2", day(3))}})
	if err != nil || c.Updated != 1 {
		t.Fatalf("relisting %+v, %v", c, err)
	}
	if back, _ := s.HostByName(ctx, "HOST-2"); !back.GoneAt.IsZero() || !back.WSUS.SeenAt.Equal(day(3)) {
		t.Errorf("relisted host gone at %v, seen %v", back.GoneAt, back.WSUS.SeenAt)
	}
}

// TestStore_SyncKeepsAddress ensures a sync (WSUS facts set) neither
// replaces nor clears the address an import gave a host: it is where the
// inventory says to dial, which WSUS does not know.
func TestStore_SyncKeepsAddress(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1", Address: "192.0.2.7:5986"})
	f := &WSUSFacts{Server: "WSUS01", ComputerID: "0a1b2c3d-0000-4000-8000-000000000001", SeenAt: fixedNow}
	c, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", FQDN: "pc-1.corp.test", WSUS: f}})
	if err != nil || c.Updated != 1 {
		t.Fatalf("sync upsert %+v, %v", c, err)
	}
	h, err := s.HostByName(ctx, "PC-1")
	if err != nil || h.Address != "192.0.2.7:5986" || h.FQDN != "pc-1.corp.test" {
		t.Errorf("after a sync: address %q, fqdn %q (%v); want the imported address kept", h.Address, h.FQDN, err)
	}
}

// TestStore_WSUSClearsAFixedFailure ensures a host whose WSUS summary
// counts no failed update at a report after its failure stops failing
// (WSUS sends failures only, so its history alone would keep it failing),
// and fails again when WSUS counts a failure again.
func TestStore_WSUSClearsAFixedFailure(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1"})
	addEvents(t, s, ev("PC-1", 10, "1", run.ResultFailed, 0x80070002))
	facts := func(failed int) *WSUSFacts {
		return &WSUSFacts{Server: "WSUS01", ComputerID: "0a1b2c3d-0000-4000-8000-000000000001", Failed: failed, SeenAt: fixedNow}
	}
	state := func() string {
		h, err := s.HostByName(ctx, "PC-1")
		if err != nil {
			t.Fatal(err)
		}
		return string(h.State)
	}
	// WSUS still counts the failure: still failing.
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", LastReportAt: day(12), WSUS: facts(1)}}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "failing" {
		t.Fatalf("with one failure counted: %s", got)
	}
	// A later report with none: the failure is over.
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", LastReportAt: day(13), WSUS: facts(0)}}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "ok" {
		t.Errorf("with no failure counted after it: %s, want ok", got)
	}
	if counts, err := s.FailureCounts(ctx, TriageFilter{}); err != nil || len(counts) != 0 {
		t.Errorf("triage counts %+v, %v; want none", counts, err)
	}
	// A new failure after that report fails it again.
	addEvents(t, s, ev("PC-1", 14, "2", run.ResultFailed, 0x80070003))
	if got := state(); got != "failing" {
		t.Errorf("after a new failure: %s", got)
	}
	// The same facts (still none counted) at a report after that failure:
	// the report time alone ends it.
	if _, err := s.UpsertHosts(ctx, []HostInput{{Name: "PC-1", LastReportAt: day(15), WSUS: facts(0)}}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "ok" {
		t.Errorf("with no failure counted at a later report, the facts otherwise the same: %s, want ok", got)
	}
}

// TestStore_FailedUpdateKnown ensures a failure is known while no later
// attempt of the update installed it, and news again after one did.
func TestStore_FailedUpdateKnown(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	addHosts(t, s, HostInput{Name: "PC-1"})
	known := func() bool {
		t.Helper()
		k, err := s.FailedUpdateKnown(t.Context(), "pc-1", "U1")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if known() {
		t.Error("known with no history")
	}
	addEvents(t, s, ev("PC-1", 1, "u1", run.ResultFailed, fileNotFound))
	if !known() {
		t.Error("a failed attempt is not known")
	}
	addEvents(t, s, ev("PC-1", 2, "u1", run.ResultSucceeded, 0))
	if known() {
		t.Error("still known after the update installed: a new failure would be dropped")
	}
	addEvents(t, s, ev("PC-1", 3, "u1", run.ResultFailed, fileNotFound))
	if !known() {
		t.Error("the failure after the install is not known")
	}
}
