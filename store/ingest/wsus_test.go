package ingest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHostWriter_WSUSFacts ensures a host's WSUS facts are validated like
// its other fields, stored with it, and that an import without them
// leaves the stored facts alone.
func TestHostWriter_WSUSFacts(t *testing.T) {
	t.Parallel()
	st := newTestStore(t)
	ctx := t.Context()
	const id = "5f0c2b1a-9d3e-4c8b-a1f2-0e9d8c7b6a55"
	facts := func(server, id string, failed int) *WSUSFacts {
		return &WSUSFacts{Server: server, ComputerID: id, Failed: failed, Needed: 2, SeenAt: may14}
	}
	var rej []Rejection
	w := NewHostWriter(st, 10, collect(&rej))
	for i, h := range []Host{
		{Name: "PC-1", WSUS: facts("wsus01.corp.example", id, 3)},
		{Name: "PC-2", WSUS: facts("wsus01.corp.example", "not-a-guid", 0)},
		{Name: "PC-3", WSUS: facts("wsus 01", id, 0)},
		{Name: "PC-4", WSUS: facts("wsus01.corp.example", id, -1)},
		{Name: "PC-5", WSUS: &WSUSFacts{Server: "wsus01", ComputerID: id}},
	} {
		if err := w.Add(ctx, h, i+1); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := w.Close(ctx); err != nil || c.Imported != 1 || c.Rejected != 4 {
		t.Fatalf("counts %+v, %v", c, err)
	}
	want := []Rejection{
		{2, `wsus_computer_id "not-a-guid": want a GUID`},
		{3, `wsus_server "wsus 01": has ' ': only letters, digits, hyphens and dots are allowed`},
		{4, "failed count -1 is negative"},
		{5, "wsus facts of " + id + " have no sync time"},
	}
	if diff := cmp.Diff(want, rej); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}

	// A CSV import of the same host keeps what WSUS said.
	w = NewHostWriter(st, 10, nil)
	if err := w.Add(ctx, Host{Name: "PC-1", OSCaption: "Windows 11"}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := st.HostByName(ctx, "PC-1")
	if err != nil || h.WSUS == nil || h.WSUS.ComputerID != id || h.WSUS.Failed != 3 || h.WSUS.Needed != 2 {
		t.Errorf("host %+v (wsus %+v), %v", h, h.WSUS, err)
	}
}
