package store

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"wsusfix/store/run"
)

// TestRefreshFailures_rule ensures the failure summaries follow their rule
// on histories made to catch its corners: several attempts at one update,
// the same KB under other update IDs, entries without a KB, entries at the
// same time (ids break the tie), uninstallations, and batches that add to
// what is stored. The rule, as written here: walk a host's installations
// newest first (time, then id); the first that is an update's newest
// attempt and failed is the summary; without one the host is ok, and
// without history unknown.
func TestRefreshFailures_rule(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(1, 2))
	const hosts = 60
	var in []HostInput
	for i := range hosts {
		in = append(in, HostInput{Name: fmt.Sprintf("PC-%02d", i)})
	}
	addHosts(t, s, in...)
	results := []run.UpdateResult{run.ResultSucceeded, run.ResultSucceeded, run.ResultFailed, run.ResultAborted}
	for batch := range 4 {
		var ev []EventInput
		for range 150 {
			h := r.IntN(hosts - 5) // the last five keep no history
			kb := ""
			if r.IntN(4) > 0 {
				kb = fmt.Sprintf("KB50%02d", r.IntN(6))
			}
			e := EventInput{HostName: in[h].Name, At: day(1 + r.IntN(5)), UpdateID: fmt.Sprintf("u%d", r.IntN(8)),
				KB: kb, Operation: "Installation", Result: results[r.IntN(len(results))], HResult: uint32(1 + r.IntN(9)),
				Source: SourceImport, Title: "t"}
			if r.IntN(8) == 0 {
				e.Operation = "Uninstallation"
			}
			if h%3 == 0 && e.Result == run.ResultFailed { // every third host ends ok
				e.Result = run.ResultSucceeded
			}
			ev = append(ev, e)
		}
		if batch%2 == 0 {
			addEvents(t, s, ev...)
		} else {
			c, err := s.AppendUpdateEvents(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RefreshFailures(ctx, c.Touched); err != nil {
				t.Fatal(err)
			}
		}
	}
	states := map[string]int{}
	for _, hi := range in {
		h, err := s.HostByName(ctx, hi.Name)
		if err != nil {
			t.Fatal(err)
		}
		hist, _, err := s.History(ctx, h.ID, 10_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantState, wantID := StateUnknown, int64(0)
		if len(hist) > 0 {
			wantState = StateOK
		}
		slices.SortFunc(hist, func(a, b UpdateEvent) int {
			return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
		})
		seen := map[string]bool{}
		for _, e := range hist {
			key := e.KB
			if key == "" {
				key = e.UpdateID
			}
			if e.Operation != "Installation" || seen[key] {
				continue
			}
			seen[key] = true
			if e.Result == run.ResultFailed {
				wantState, wantID = StateFailing, e.ID
				break
			}
		}
		gotID := int64(0)
		if h.Failure != nil {
			gotID = h.Failure.EventID
		}
		if h.State != wantState || gotID != wantID {
			t.Errorf("%s: state %s, failure %d; want %s, %d", h.Name, h.State, gotID, wantState, wantID)
		}
		states[h.State]++
	}
	if states[StateFailing] < 5 || states[StateOK] < 5 || states[StateUnknown] != 5 {
		t.Errorf("states %v: the histories no longer cover the rule's cases", states)
	}
}
