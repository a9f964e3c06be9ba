package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestExports_OwnPool ensures exports stalled by slow downloads, more of
// them than there are connections, leave the pages' reads free: a run
// list, a host's history and the triage counts still answer at once. The
// stalled exports end once their downloads go on.
func TestExports_OwnPool(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	addHosts(t, s, HostInput{Name: "PC-1"})
	h, err := s.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRun(ctx, RunInput{HostID: h.ID, Procedure: run.ProcedureRepair, RequestedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, ev("PC-1", 1, "1", run.ResultFailed, 0x80070002))

	release := make(chan struct{})
	inside := make(chan struct{}, 16) // a walk has its connection and a row
	var done sync.WaitGroup
	stalled := exportConns + 2 // every export connection held, and exports waiting for one
	for i := range stalled {
		done.Add(1)
		go func() {
			defer done.Done()
			stall := func() error {
				inside <- struct{}{}
				<-release // the client reads no further
				return nil
			}
			var err error
			switch i % 3 {
			case 0:
				err = s.EachRun(ctx, RunFilter{}, func(*Run) error { return stall() })
			case 1:
				err = s.EachHistory(ctx, h.ID, func(*UpdateEvent) error { return stall() })
			default:
				err = s.EachExportHost(ctx, TriageFilter{}, func(*ExportHost) error { return stall() })
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	defer func() { // never leave the walks waiting, whatever failed
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	for range exportConns { // which walks get the connections is the pool's choice
		select {
		case <-inside:
		case <-time.After(10 * time.Second):
			t.Fatal("the exports did not start")
		}
	}
	page, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if runs, _, err := s.Runs(page, RunFilter{Limit: 10}); err != nil || len(runs) != 1 {
		t.Errorf("the runs page's read while %d exports stall: %d runs, %v", stalled, len(runs), err)
	}
	if ev, _, err := s.History(page, h.ID, 10, 0); err != nil || len(ev) != 1 {
		t.Errorf("the host page's history while exports stall: %d entries, %v", len(ev), err)
	}
	if _, err := s.FailureCounts(page, TriageFilter{}); err != nil {
		t.Errorf("triage's counts while exports stall: %v", err)
	}
	close(release)
	done.Wait()
}
