package ingest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// newTestStore opens a fresh database file under t.TempDir.
func newTestStore(t *testing.T) *store.Store {
	t.Helper()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "test.db"))
	return st
}

// collect returns a RejectFunc that appends to *got.
func collect(got *[]Rejection) RejectFunc {
	return func(r Rejection) { *got = append(*got, r) }
}

var may14 = time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC)

// TestHostWriter ensures hosts given as records are validated as the CSV's
// rows are, stored in batches with canonical values, and counted: new,
// changed, repeated within the input, and refused with their refs.
func TestHostWriter(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	var rej []Rejection
	w := NewHostWriter(st, 2, collect(&rej))
	in := []Host{
		{Name: "PC-1", FQDN: "pc-1.corp.example", Address: "fd00:0::5", OSBuild: "10.0.26100.2894", LastReport: may14},
		{Name: "BAD HOST"},
		{Name: "PC-2", Address: "10.0.0.300"},
		{Name: "PC-3", OSBuild: "10.0.x"},
		{Name: "pc-1", FQDN: "pc-1.corp.example", Address: "fd00::5", OSBuild: "10.0.26100.2894", LastReport: may14},
		{Name: "PC-4", Group: strings.Repeat("g", 256)},
		{Name: "PC-4", FQDN: "-pc-4.corp"},
		{Name: "PC-4", Group: "Pilot"},
		{Name: "PC-4", Group: "Broad"},
	}
	for i, h := range in {
		if err := w.Add(ctx, h, 10+i); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	c, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 9, Imported: 2, Duplicate: 1, Rejected: 6}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	want := []Rejection{
		{11, `name "BAD HOST": has ' ': only letters, digits, hyphens and dots are allowed`},
		{12, `address "10.0.0.300": want an IP address or IP:port, such as 10.1.2.3, 10.1.2.3:5986 or [fd00::5]:5986`},
		{13, `os_build "10.0.x": want digits and dots, such as 10.0.26100.2894`},
		{15, "group is longer than 255 characters"},
		{16, `fqdn "-pc-4.corp": label "-pc-4" starts with a hyphen`},
		{18, "host PC-4 already given at line 17 with different values"},
	}
	if diff := cmp.Diff(want, rej); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	h, err := st.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	if h.Address != "fd00::5" || h.FQDN != "pc-1.corp.example" || !h.LastReportAt.Equal(may14) {
		t.Errorf("PC-1 stored as %+v", h)
	}

	// The same hosts again, one changed: an update and unchanged ones.
	w = NewHostWriter(st, 0, nil)
	for i, h := range []Host{in[0], {Name: "PC-4", Group: "Broad"}} {
		if err := w.Add(ctx, h, i); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := w.Close(ctx); err != nil || c != (Counts{Read: 2, Updated: 1, Duplicate: 1}) {
		t.Errorf("second pass = %+v, %v; want one updated, one duplicate", c, err)
	}
}

// TestHistoryWriter ensures history records are validated as the CSV's
// rows are, stored under the writer's source with canonical names,
// refused in ref order when their host is unknown (even across batches),
// and that Close leaves every touched host's failure summary current.
func TestHistoryWriter(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "PC-1"}, {Name: "PC-2"}}); err != nil {
		t.Fatal(err)
	}
	var rej []Rejection
	w := NewHistoryWriter(st, store.SourceWSUS, 2, collect(&rej))
	rec := func(host, kb, op, result string, code uint32) HistoryRecord {
		return HistoryRecord{Host: host, At: may14, KB: kb, Title: "Update " + kb, Operation: op, Result: result, HResult: code}
	}
	in := []HistoryRecord{
		rec("GHOST", "KB5037771", "Installation", "Failed", 0),
		rec("PC-1", "KB50", "Installation", "Failed", 0),
		rec("PC-1", "kb5037771", "installation", "4", 0x80070002),
		rec("PC-2", "5037771", "1", "Succeeded", 0),
		rec("PC-1", "", "Installation", "Failed", 0),
		rec("PC-1", "KB5037772", "Install", "Failed", 0),
		rec("PC-1", "KB5037772", "Installation", "Broken", 0),
		{Host: "PC-1", KB: "KB5037773", Operation: "Installation", Result: "Failed"},
		rec("pc-1", "KB5037771", "Installation", "Failed", 0x80070002),
		rec("bad_host", "KB5037771", "Installation", "Failed", 0),
	}
	for i, r := range in {
		if err := w.Add(ctx, r, i+2); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	c, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 10, Imported: 2, Duplicate: 1, Rejected: 7}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	// GHOST is refused only when its batch is stored, after the record
	// behind it was refused by validation; the CSV reader puts such
	// messages back in line order.
	want := []Rejection{
		{3, `kb "KB50": want KB followed by 6 to 8 digits, such as KB5034441`},
		{2, "unknown host GHOST (import hosts first)"},
		{6, "no kb and no update_id: nothing identifies the update"},
		{7, `operation "Install": want Installation or Uninstallation (or 1, 2)`},
		{8, `result "Broken": want Succeeded, SucceededWithErrors, Failed, Aborted or InProgress (or 2, 3, 4, 5, 1)`},
		{9, "time is empty"},
		{11, `host "bad_host": has '_': only letters, digits, hyphens and dots are allowed`},
	}
	if diff := cmp.Diff(want, rej); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	pc1, err := st.HostByName(ctx, "PC-1")
	if err != nil {
		t.Fatal(err)
	}
	if pc1.State != store.StateFailing || pc1.Failure == nil || pc1.Failure.HResult != 0x80070002 || pc1.Failure.KB != "KB5037771" {
		t.Errorf("PC-1 after Close: state %s, failure %+v; want failing with 0x80070002", pc1.State, pc1.Failure)
	}
	events, _, err := st.History(ctx, pc1.ID, 10, 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("PC-1 history: %d entries, %v", len(events), err)
	}
	if e := events[0]; e.Source != store.SourceWSUS || e.Operation != "Installation" || e.Result != run.ResultFailed {
		t.Errorf("PC-1 entry stored as %+v", e)
	}
	pc2, _ := st.HostByName(ctx, "PC-2")
	if pc2.State != store.StateOK {
		t.Errorf("PC-2 state %s, want ok", pc2.State)
	}
}

// TestWriters_storeFailure ensures a store failure stops a writer: Add
// returns it, later records are not written, and Close returns it too.
func TestWriters_storeFailure(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	st.Close() // every write now fails
	w := NewHostWriter(st, 1, nil)
	if err := w.Add(ctx, Host{Name: "PC-1"}, 1); err == nil {
		t.Fatal("Add on a closed store: no error")
	}
	if err := w.Add(ctx, Host{Name: "PC-2"}, 2); err == nil {
		t.Error("Add after a store failure: no error")
	}
	if _, err := w.Close(ctx); err == nil {
		t.Error("Close after a store failure: no error")
	}
	hw := NewHistoryWriter(st, store.SourceImport, 1, nil)
	if err := hw.Add(ctx, HistoryRecord{Host: "PC-1", At: may14, KB: "KB5037771", Operation: "1", Result: "2"}, 1); err == nil {
		t.Fatal("history Add on a closed store: no error")
	}
	if _, err := hw.Close(ctx); err == nil {
		t.Error("history Close after a store failure: no error")
	}
}
