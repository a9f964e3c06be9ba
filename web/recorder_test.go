package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsusfix/remote/runner"
	"wsusfix/store"
	runs "wsusfix/store/run"
	"wsusfix/store/storetest"
)

// TestRecorder_SaveHistoryChecksTheHost ensures history read from a host
// passes the import's checks against a real SQLite store: a title too long
// for any page and an entry with nothing naming its update are refused and
// named, the valid entries are stored once, and a repeat is not stored
// twice.
func TestRecorder_SaveHistoryChecksTheHost(t *testing.T) {
	ctx := t.Context()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "recorder.db"))
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "pc042", FQDN: "pc042.corp.example"}}); err != nil {
		t.Fatal(err)
	}
	h, err := st.HostByName(ctx, "pc042")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 22, 45, 0, 0, time.UTC)
	good := runner.HistoryEntry{Time: at, KB: "KB5031364", Title: "2026-11 Cumulative Update", Operation: "Installation",
		Result: runs.ResultFailed, HResult: 0x80070002}
	long := good
	long.Time, long.Title = at.Add(time.Hour), strings.Repeat("x", 5000)
	anonymous := good
	anonymous.Time, anonymous.KB = at.Add(2*time.Hour), ""
	rec := recorder{st: st}

	err = rec.SaveHistory(ctx, h.ID, []runner.HistoryEntry{good, long, anonymous}, "host")
	if err == nil {
		t.Fatal("entries the import would refuse were stored without a word")
	}
	for _, want := range []string{"2 of 3 entries refused", "entry 2: title is longer than 4096 characters"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	if err := rec.SaveHistory(ctx, h.ID, []runner.HistoryEntry{good}, "host"); err != nil {
		t.Fatalf("saving a known entry again: %v", err)
	}
	events, total, err := st.History(ctx, h.ID, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(events) != 1 || events[0].KB != "KB5031364" {
		t.Fatalf("stored %d entries (%+v), want the one valid entry once", total, events)
	}
}
