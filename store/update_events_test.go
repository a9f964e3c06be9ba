package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"wsusfix/store/run"
)

const (
	fileNotFound  = 0x80070002
	pathNotFound  = 0x80070003
	wsusUnavail   = 0x80244022
	installFailed = "Installation"
)

func ev(host string, d int, update string, result run.UpdateResult, code uint32) EventInput {
	return EventInput{HostName: host, At: day(d), UpdateID: update, KB: "KB" + update, Title: "Update " + update,
		Operation: installFailed, Result: result, HResult: code, Source: SourceImport}
}

// TestStore_AddUpdateEvents ensures history is de-duplicated, unknown hosts
// are reported rather than stored, and each host's failure summary follows
// its newest attempt at every update.
func TestStore_AddUpdateEvents(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC1"}, HostInput{Name: "PC2"}, HostInput{Name: "PC3"})

	c := addEvents(t, s,
		ev("PC1", 1, "5001", run.ResultSucceeded, 0),
		ev("PC1", 2, "5002", run.ResultFailed, pathNotFound),
		ev("PC1", 3, "5003", run.ResultFailed, fileNotFound), // newest failure
		ev("pc2", 1, "5002", run.ResultFailed, fileNotFound),
		ev("PC2", 4, "5002", run.ResultSucceeded, 0), // retried and fixed
		ev("GHOST", 1, "5001", run.ResultFailed, fileNotFound),
		ev("PC1", 1, "5001", run.ResultSucceeded, 0), // duplicate within the batch
	)
	if c.Inserted != 5 || c.Duplicates != 1 || len(c.UnknownIdx) != 1 || c.UnknownIdx[0] != 5 {
		t.Fatalf("counts = %+v", c)
	}
	if again := addEvents(t, s, ev("PC1", 1, "5001", run.ResultSucceeded, 0)); again.Inserted != 0 || again.Duplicates != 1 {
		t.Fatalf("re-import = %+v, want a duplicate", again)
	}

	pc1, err := s.HostByName(ctx, "PC1")
	if err != nil {
		t.Fatal(err)
	}
	if pc1.State != StateFailing || pc1.Failure == nil || pc1.Failure.HResult != fileNotFound || pc1.Failure.KB != "KB5003" {
		t.Fatalf("PC1 = %+v / %+v, want failing with 0x80070002 on KB5003", pc1, pc1.Failure)
	}
	pc2, err := s.HostByName(ctx, "PC2")
	if err != nil {
		t.Fatal(err)
	}
	if pc2.State != StateOK || pc2.Failure != nil {
		t.Fatalf("PC2 = %+v, want ok: its failed update later succeeded", pc2)
	}
	pc3, err := s.HostByName(ctx, "PC3")
	if err != nil {
		t.Fatal(err)
	}
	if pc3.State != StateUnknown {
		t.Fatalf("PC3 state %q, want unknown (no history)", pc3.State)
	}

	// A later success of PC1's newest failure leaves the older failure as
	// the one to show.
	addEvents(t, s, ev("PC1", 5, "5003", run.ResultSucceeded, 0))
	pc1, _ = s.HostByName(ctx, "PC1")
	if pc1.Failure == nil || pc1.Failure.HResult != pathNotFound {
		t.Fatalf("PC1 failure = %+v, want 0x80070003 after 5003 succeeded", pc1.Failure)
	}

	hist, total, err := s.History(ctx, pc1.ID, 2, 0)
	if err != nil || total != 4 || len(hist) != 2 {
		t.Fatalf("History = %d rows of %d, %v", len(hist), total, err)
	}
	if !hist[0].At.Equal(day(5)) || !hist[1].At.Equal(day(3)) || hist[1].HResult != fileNotFound {
		t.Fatalf("history not newest first with codes intact: %+v", hist)
	}
}

// TestStore_SameKBIsSameUpdate ensures a later success of the same KB
// recorded under another update ID (a repair's evidence) ends the failure.
func TestStore_SameKBIsSameUpdate(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	addHosts(t, s, HostInput{Name: "PC1"})
	addEvents(t, s, ev("PC1", 1, "5001", run.ResultFailed, fileNotFound))
	fixed := ev("PC1", 2, "5001", run.ResultSucceeded, 0)
	fixed.UpdateID, fixed.Source = "", SourceRepair // evidence has the KB only
	addEvents(t, s, fixed)
	if h, _ := s.HostByName(t.Context(), "PC1"); h.State != StateOK || h.Failure != nil {
		t.Fatalf("host %+v still failing after its KB installed", h)
	}
}

// TestStore_HResultRange ensures codes with the top bit set survive the
// round trip as unsigned 32-bit values.
func TestStore_HResultRange(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	addHosts(t, s, HostInput{Name: "PC1"})
	addEvents(t, s, ev("PC1", 1, "1", run.ResultFailed, 0xFFFFFFFF))
	h, err := s.HostByName(t.Context(), "PC1")
	if err != nil {
		t.Fatal(err)
	}
	if h.Failure == nil || h.Failure.HResult != 0xFFFFFFFF {
		t.Fatalf("failure %+v, want 0xFFFFFFFF", h.Failure)
	}
}

// TestStore_AddUpdateEventsStoredAsGiven ensures the bulk insert stores
// every field as given, in each of the shapes a chunk travels in: update
// IDs apart from the KB, none (the KB then), codes with the top bit set,
// words outside the known ones, and a host whose id is too large to pack.
func TestStore_AddUpdateEventsStoredAsGiven(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC1"})
	// Hosts are numbered in order, so one inserted with the largest id
	// packed makes the next one too large.
	if _, err := s.write.ExecContext(ctx, `INSERT INTO hosts (id, name, created_at, updated_at) VALUES (?, 'PC0', 1, 1)`,
		maxPackedHost); err != nil {
		t.Fatal(err)
	}
	addHosts(t, s, HostInput{Name: "BIG"})
	pc1, _ := s.HostByName(ctx, "PC1")
	big, _ := s.HostByName(ctx, "BIG")
	batches := []struct {
		shape eventShape
		in    []EventInput
	}{
		{shapePacked, []EventInput{
			{HostName: "PC1", At: day(1), UpdateID: "guid-1", KB: "KB5001", Title: "a", Operation: "Installation",
				Result: run.ResultFailed, HResult: 0x80070002, Source: SourceWSUS},
			{HostName: "PC1", At: day(2), KB: "KB5002", Title: "b", Operation: "Uninstallation",
				Result: run.ResultSucceededWithErrors, HResult: 0xFFFFFFFF, Source: SourceRepair},
		}},
		{shapeWords, []EventInput{{HostName: "PC1", At: day(3), KB: "KB5003", Title: "c", Operation: "Installation",
			Result: "Weird", Source: SourceHost}}},
		{shapePackedKB, []EventInput{{HostName: "PC1", At: day(4), UpdateID: "KB5004", KB: "KB5004", Title: "d",
			Operation: "Installation", Result: run.ResultAborted, HResult: 1, Source: SourceImport}}},
		{shapePackedKB, []EventInput{{HostName: "PC0", At: day(5), KB: "KB5005", Title: "e", Operation: "Installation",
			Result: run.ResultFailed, HResult: 0x80070003, Source: SourceImport}}},
		{shapeWords, []EventInput{{HostName: "BIG", At: day(5), KB: "KB5005", Title: "e", Operation: "Installation",
			Result: run.ResultFailed, HResult: 0x80070003, Source: SourceImport}}},
	}
	want := map[int64][]EventInput{}
	for _, b := range batches {
		chunk, ids := []int{}, []int64{}
		for i, e := range b.in {
			chunk, ids = append(chunk, i), append(ids, map[string]int64{"PC0": maxPackedHost, "PC1": pc1.ID, "BIG": big.ID}[e.HostName])
		}
		if got := shapeOf(b.in, chunk, ids); got != b.shape {
			t.Fatalf("%+v: shape %d, want %d: the test no longer covers every shape", b.in, got, b.shape)
		}
		if c := addEvents(t, s, b.in...); c.Inserted != len(b.in) {
			t.Fatalf("counts %+v", c)
		}
		for k, e := range b.in {
			want[ids[k]] = append([]EventInput{e}, want[ids[k]]...) // newest first
		}
	}
	for id, want := range want {
		got, _, err := s.History(ctx, id, 10, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("history of %d: %+v, %v", id, got, err)
		}
		for i, w := range want {
			e := got[i]
			wantID := w.UpdateID
			if wantID == "" {
				wantID = w.KB
			}
			if e.HostID != id || !e.At.Equal(w.At) || e.UpdateID != wantID || e.KB != w.KB || e.Title != w.Title ||
				e.Operation != w.Operation || e.Result != w.Result || e.HResult != w.HResult || e.Source != w.Source {
				t.Errorf("entry %d of host %d = %+v, want %+v", i, id, e, w)
			}
		}
	}
}

// TestStore_EachHistory ensures EachHistory gives a host's whole history
// as History lists it, in its order (newest first, the id breaking ties),
// and no other host's; that fn's error stops the walk and is what it
// returns; and that a walk during which a refresh commits entries newer
// and older than all gives the history as it was when it began.
func TestStore_EachHistory(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC1"}, HostInput{Name: "PC2"}, HostInput{Name: "PC3"})
	var in []EventInput
	for i := range 60 {
		e := ev("PC1", 10+i/3, fmt.Sprint(5000+i), []run.UpdateResult{run.ResultSucceeded, run.ResultFailed}[i%2], fileNotFound)
		in = append(in, e, EventInput{HostName: "PC2", At: e.At, UpdateID: e.UpdateID, Operation: e.Operation,
			Result: e.Result, Source: SourceWSUS})
	}
	addEvents(t, s, in...)
	pc1, _ := s.HostByName(ctx, "PC1")
	pc3, _ := s.HostByName(ctx, "PC3")
	each := func(hostID int64, fn func()) []UpdateEvent {
		t.Helper()
		var got []UpdateEvent
		if err := s.EachHistory(ctx, hostID, func(e *UpdateEvent) error {
			if len(got) == 0 && fn != nil {
				fn()
			}
			got = append(got, *e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, total, err := s.History(ctx, pc1.ID, 1000, 0)
	if err != nil || total != 60 {
		t.Fatalf("History: %d entries, %v", total, err)
	}
	if got := each(pc1.ID, nil); !slices.Equal(got, want) {
		t.Errorf("EachHistory: %d entries, History lists %d\n got %v\nwant %v", len(got), len(want), got[:3], want[:3])
	}
	if got := each(pc3.ID, nil); len(got) != 0 {
		t.Errorf("a host without history: %d entries", len(got))
	}

	stop := errors.New("stop")
	calls := 0
	if err := s.EachHistory(ctx, pc1.ID, func(*UpdateEvent) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn failing: %v after %d calls, want its error after 1", err, calls)
	}

	got := each(pc1.ID, func() {
		addEvents(t, s, ev("PC1", 30, "6001", run.ResultSucceeded, 0), ev("PC1", 30, "6002", run.ResultSucceeded, 0),
			ev("PC1", 1, "6003", run.ResultFailed, pathNotFound))
	})
	if !slices.Equal(got, want) {
		t.Errorf("a walk during a refresh: %d entries\n got %v\nwant the history as it began, %d entries", len(got), got[:3], len(want))
	}
	if now, total, _ := s.History(ctx, pc1.ID, 1, 0); total != 63 || now[0].UpdateID != "6002" {
		t.Errorf("after the walk: %d entries, newest %+v; want 63, 6002 first", total, now)
	}
}
