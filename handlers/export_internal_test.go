package handlers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
