package store

import (
	"errors"
	"strings"
	"testing"
)

// TestStore_Syncs ensures a sync is kept from start to end, a stopped
// server's running sync is marked interrupted, an over-long log keeps its
// end, and the last good sync skips failed ones.
func TestStore_Syncs(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	if _, err := st.LastGoodSync(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("last good sync of a new store: %v", err)
	}
	ok, err := st.StartSync(ctx, "WSUS01", true, SyncBySchedule)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("warning: ghost update\n", 20000) + "the last line\n"
	if err := st.FinishSync(ctx, ok, SyncSucceeded, SyncCounts{Computers: 10, New: 9, Updated: 1}, "", long); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishSync(ctx, ok, SyncFailed, SyncCounts{}, "again", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("finishing a finished sync: %v, want not found", err)
	}
	failed, _ := st.StartSync(ctx, "WSUS01", false, "alice")
	if err := st.FinishSync(ctx, failed, SyncFailed, SyncCounts{}, "WinRM refused the account", ""); err != nil {
		t.Fatal(err)
	}
	running, _ := st.StartSync(ctx, "WSUS01", false, "bob")

	n, err := st.InterruptSyncs(ctx, "The server stopped during this sync.")
	if err != nil || n != 1 {
		t.Fatalf("interrupted %d, %v; want the one running", n, err)
	}
	y, err := st.SyncByID(ctx, running)
	if err != nil || y.Outcome != SyncInterrupted || y.FinishedAt.IsZero() || y.Error != "The server stopped during this sync." {
		t.Errorf("running sync after a restart: %+v, %v", y, err)
	}
	good, err := st.LastGoodSync(ctx)
	if err != nil || good.ID != ok || good.Counts.New != 9 || !good.Full || good.StartedBy != SyncBySchedule {
		t.Errorf("last good sync %+v, %v", good, err)
	}
	if len(good.Log) > 300<<10 || !strings.HasPrefix(good.Log, "[the start of this log was left out]") ||
		!strings.HasSuffix(good.Log, "the last line\n") {
		t.Errorf("stored log of %d bytes starts %.60q", len(good.Log), good.Log)
	}
	all, err := st.Syncs(ctx, 2)
	if err != nil || len(all) != 2 || all[0].ID != running || all[1].ID != failed {
		t.Errorf("newest two syncs %+v, %v", all, err)
	}
}
