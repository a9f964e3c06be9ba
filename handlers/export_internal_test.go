package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
)

// TestStreamCSV_FailsCleanly ensures an export whose query fails before
// the first row answers an ordinary error page with its status, instead of
// a download cut short, and one that fails after rows have gone out aborts
// the response so the download cannot look complete.
func TestStreamCSV_FailsCleanly(t *testing.T) {
	t.Parallel()
	h, _ := limitsApp(t)
	rec := httptest.NewRecorder()
	h.streamCSV(rec, httptest.NewRequest("GET", "/export/hosts.csv", nil), "x", []string{"a"},
		func(func([]string) error) error { return badRequest{"The filter is wrong."} })
	if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		rec.Header().Get("Content-Disposition") != "" || !strings.Contains(rec.Body.String(), "The filter is wrong.") {
		t.Errorf("failure before any row: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
	}

	rec = httptest.NewRecorder()
	aborted := func() (v any) {
		defer func() { v = recover() }()
		h.streamCSV(rec, httptest.NewRequest("GET", "/export/hosts.csv", nil), "x", []string{"a"},
			func(emit func([]string) error) error {
				if err := emit([]string{"=1"}); err != nil {
					return err
				}
				return errors.New("disk gone")
			})
		return nil
	}()
	if aborted != http.ErrAbortHandler || !strings.Contains(rec.Body.String(), "a\n'=1\n") {
		t.Errorf("failure after a row: recovered %v, body %q", aborted, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	h.streamCSV(rec, httptest.NewRequest("GET", "/export/hosts.csv", nil), "x", []string{"=a"},
		func(func([]string) error) error { return nil })
	if rec.Code != http.StatusOK || rec.Body.String() != "'=a\n" {
		t.Errorf("no rows: %d %q, want the header alone", rec.Code, rec.Body.String())
	}
}

// TestReadAhead ensures readAhead hands over every host the store gives,
// in order, across many batches, and that a writer's failure stops the
// read and is what it returns.
func TestReadAhead(t *testing.T) {
	t.Parallel()
	h, _ := limitsApp(t)
	ctx := t.Context()
	n := 2*exportBatch + 37
	var hosts []store.HostInput
	var events []store.EventInput
	for i := range n {
		name := fmt.Sprintf("PC-%04d", i)
		hosts = append(hosts, store.HostInput{Name: name})
		events = append(events, store.EventInput{HostName: name, At: time.Date(2026, 10, 1, 0, 0, i, 0, time.UTC),
			UpdateID: "u1", Operation: "Installation", Result: run.ResultFailed, HResult: 0x80070002, Source: store.SourceImport})
	}
	if _, err := h.store.UpsertHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.AddUpdateEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	f := store.TriageFilter{Sort: store.SortName}
	each := func(ctx context.Context, fn func(*store.ExportHost) error) error {
		return h.store.EachExportHost(ctx, f, fn)
	}
	var want, got []string
	if err := h.store.EachExportHost(ctx, f, func(e *store.ExportHost) error { want = append(want, e.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := readAhead(ctx, each, func(e *store.ExportHost) error { got = append(got, e.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(want) != n || !slices.Equal(got, want) {
		t.Errorf("read ahead %d hosts, the store gives %d (of %d)", len(got), len(want), n)
	}

	full := errors.New("disk full")
	seen := 0
	err := readAhead(ctx, each, func(*store.ExportHost) error {
		if seen++; seen == exportBatch+5 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || seen != exportBatch+5 {
		t.Errorf("after a failure at host %d: %v after %d hosts", exportBatch+5, err, seen)
	}
}

// TestReadAhead_Faults ensures readAhead hands over every row the store
// read before it failed, then returns the store's error; and that a
// writing failure cancels the read and returns only once the reading
// goroutine has ended.
func TestReadAhead_Faults(t *testing.T) {
	t.Parallel()
	broken := errors.New("disk I/O error")
	rows := 2*exportBatch + 10
	failing := func(ctx context.Context, fn func(*int) error) error {
		for i := range rows {
			if err := fn(&i); err != nil {
				return err
			}
		}
		return broken
	}
	got := 0
	if err := readAhead(t.Context(), failing, func(*int) error { got++; return nil }); !errors.Is(err, broken) || got != rows {
		t.Errorf("a read failing after %d rows: %d handed over, %v", rows, got, err)
	}

	var cancelled, ended atomic.Bool
	endless := func(ctx context.Context, fn func(*int) error) error {
		defer ended.Store(true)
		for i := 0; ; i++ {
			if err := ctx.Err(); err != nil {
				cancelled.Store(true)
				return err
			}
			if err := fn(&i); err != nil {
				return err
			}
		}
	}
	full := errors.New("client gone")
	seen := 0
	err := readAhead(t.Context(), endless, func(*int) error {
		if seen++; seen == 3 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || !cancelled.Load() || !ended.Load() {
		t.Errorf("a write failing: %v, read cancelled %v, reader ended %v", err, cancelled.Load(), ended.Load())
	}
}
