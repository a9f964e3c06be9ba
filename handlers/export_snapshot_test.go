package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/handlers/sheet"
	"wsusfix/store"
	"wsusfix/store/run"
)

// hookWriter runs hook once, as the first bytes of the body go out: in a
// long export, after its first rows were read and written, with most of
// it still to come. first is the size of that first write.
type hookWriter struct {
	http.ResponseWriter
	hook  func()
	once  sync.Once
	first int
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { w.first = len(p); w.hook() })
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *hookWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestExportHistory_Snapshot ensures a history export during which a
// "Refresh history" commits new entries, some newer than every entry
// (the head of the list) and some older (its tail), lists exactly the
// history it began with: none skipped, none twice, none of the new. The
// new entries are committed through the handler's own store, from inside
// the export's first write.
func TestExportHistory_Snapshot(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "app.db"))
	ctx := context.Background()
	if _, err := st.UpsertHosts(ctx, []store.HostInput{{Name: "PC-000"}}); err != nil {
		t.Fatal(err)
	}
	newest := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if _, err := st.AddUpdateEvents(ctx, historyEntries("PC-000", "u-", 2500, newest)); err != nil {
		t.Fatal(err)
	}
	var hook atomic.Pointer[hookWriter]
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hw := hook.Swap(nil); hw != nil && strings.HasPrefix(r.URL.Path, "/hosts/PC-000/history.") {
			hw.ResponseWriter, w = w, hw
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a := &app{srv: srv, st: st, client: signIn(t, srv.URL, st, "tester", store.RoleViewer)}
	for _, format := range []sheet.Format{sheet.FormatCSV, sheet.FormatJSON} {
		before := referenceHistory(t, st, "PC-000")
		committed := false
		hw := &hookWriter{hook: func() {
			refresh := append(historyEntries("PC-000", string(format)+"-new-", 300, newest.AddDate(0, 0, 30)),
				historyEntries("PC-000", string(format)+"-old-", 300, newest.AddDate(-2, 0, 0))...)
			c, err := st.AddUpdateEvents(context.Background(), refresh)
			committed = err == nil && c.Inserted == len(refresh)
			if !committed {
				t.Errorf("refresh during the export: %+v, %v", c, err)
			}
		}}
		hook.Store(hw)
		_, got := a.download(t, "/hosts/PC-000/history."+string(format))
		if !committed || hw.first >= len(got)/2 {
			t.Fatalf("%s: the refresh ran %v, at byte %d of %d: not in the middle of the export", format, committed, hw.first, len(got))
		}
		sameExport(t, string(format), format, got, writeTable(t, format, "History", historyCols, before))
		if after := referenceHistory(t, st, "PC-000"); len(after) != len(before)+600 {
			t.Fatalf("%s: %d entries after the refresh, want %d", format, len(after), len(before)+600)
		}
	}
}

// TestExportRuns_Snapshot ensures a runs export during which new runs are
// started, newer than every run listed, lists exactly the runs it began
// with: none skipped, none twice, none of the new. The runs are started
// through the handler's own store, from inside the export's first write.
func TestExportRuns_Snapshot(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	st := openStore(t, path)
	ctx := context.Background()
	var hosts []store.HostInput
	for i := range 60 {
		hosts = append(hosts, store.HostInput{Name: "PC-" + strconv.Itoa(100+i)})
	}
	if _, err := st.UpsertHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	batch, err := st.CreateBatch(ctx, store.Batch{Procedure: run.ProcedureRepair, RequestedBy: "olga", Description: "old"})
	if err != nil {
		t.Fatal(err)
	}
	insertRuns(t, path, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int64{batch.ID}, 2500) // hosts 11-60 run nothing yet
	var hook atomic.Pointer[hookWriter]
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hw := hook.Swap(nil); hw != nil && strings.HasPrefix(r.URL.Path, "/export/runs.") {
			hw.ResponseWriter, w = w, hw
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a := &app{srv: srv, st: st, client: signIn(t, srv.URL, st, "tester", store.RoleViewer)}
	next := int64(11)
	for _, format := range []sheet.Format{sheet.FormatCSV, sheet.FormatJSON} {
		before := referenceRuns(t, st, store.RunFilter{})
		started := 0
		hw := &hookWriter{hook: func() {
			for range 20 {
				if _, err := st.CreateRun(context.Background(), store.RunInput{HostID: next, Procedure: run.ProcedureCheck,
					RequestedBy: "bob"}); err != nil {
					t.Errorf("a run started during the export: %v", err)
					return
				}
				next++
				started++
			}
		}}
		hook.Store(hw)
		_, got := a.download(t, "/export/runs."+string(format))
		if started != 20 || hw.first >= len(got)/2 {
			t.Fatalf("%s: %d runs started, at byte %d of %d: not in the middle of the export", format, started, hw.first, len(got))
		}
		sameExport(t, string(format), format, got, writeTable(t, format, "Runs", runCols, before))
		if after := referenceRuns(t, st, store.RunFilter{}); len(after) != len(before)+20 {
			t.Fatalf("%s: %d runs after, want %d", format, len(after), len(before)+20)
		}
	}
}
