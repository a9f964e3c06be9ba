package handlers_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"wsusfix/store"
)

// apiToken makes (or reuses) the user name with role and returns the
// secret of a new API token of that role.
func (a *app) apiToken(t *testing.T, name string, role store.Role) string {
	t.Helper()
	u := ensureUser(t, a.st, name, role)
	sec, _, err := a.st.CreateToken(t.Context(), u, "test "+name, role, 1)
	if err != nil {
		t.Fatal(err)
	}
	return string(sec)
}

// cursorOf encodes s as the API's cursors are encoded, so a test can
// forge one that decodes but is not one the server gave.
func cursorOf(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestAPI_BadPaging ensures a cursor the server did not give and a limit
// that is not a number from 1 to the maximum are refused with 400 as a
// problem document whose detail names the parameter, on every list that
// pages, while the edges of the range and a cursor the server gave work.
func TestAPI_BadPaging(t *testing.T) {
	t.Parallel()
	a := newApp(t, withHosts("PC-1", "PC-2"))
	token := a.apiToken(t, "pager", store.RoleViewer)
	lists := []string{"/api/v1/hosts", "/api/v1/hosts/PC-1/history", "/api/v1/runs", "/api/v1/batches"}
	tests := []struct {
		name, query, param string
	}{
		{"limit not a number", "limit=ten", "limit"},
		{"limit a fraction", "limit=1.5", "limit"},
		{"limit zero", "limit=0", "limit"},
		{"limit negative", "limit=-1", "limit"},
		{"limit over the maximum", "limit=1001", "limit"},
		{"cursor not base64", "cursor=" + url.QueryEscape("!!"), "cursor"},
		{"cursor without its prefix", "cursor=" + cursorOf("5"), "cursor"},
		{"cursor not a number", "cursor=" + cursorOf("o:five"), "cursor"},
		{"cursor negative", "cursor=" + cursorOf("o:-5"), "cursor"},
	}
	for _, list := range lists {
		for _, tt := range tests {
			var p problem
			res := a.api(t, http.MethodGet, list+"?"+tt.query, token, nil, &p)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" ||
				p.Status != http.StatusBadRequest || !strings.Contains(p.Detail, tt.param) {
				t.Errorf("%s, %s: %d %q %+v; want 400 as a problem naming %s", list, tt.name, res.StatusCode,
					res.Header.Get("Content-Type"), p, tt.param)
			}
		}
		for _, query := range []string{"limit=1", "limit=1000", "cursor=" + cursorOf("o:1")} {
			if res := a.api(t, http.MethodGet, list+"?"+query, token, nil, &map[string]any{}); res.StatusCode != http.StatusOK {
				t.Errorf("%s?%s: %d, want 200", list, query, res.StatusCode)
			}
		}
	}
}

// TestAPI_UnknownProcedure ensures starting a run or a batch with a
// procedure it does not take is refused with 400 as a problem document
// whose detail names the parameter, and that nothing is started.
func TestAPI_UnknownProcedure(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withHosts("PC-1"))
	token := a.apiToken(t, "starter", store.RoleOperator)
	tests := []struct {
		name, path, procedure string
	}{
		{"run, unknown", "/api/v1/hosts/PC-1/runs", "reboot"},
		{"run, missing", "/api/v1/hosts/PC-1/runs", ""},
		{"run, wrong case", "/api/v1/hosts/PC-1/runs", "Repair"},
		{"batch, unknown", "/api/v1/batches", "reboot"},
		{"batch, history (single hosts only)", "/api/v1/batches", "history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p problem
			res := a.api(t, http.MethodPost, tt.path, token, url.Values{"procedure": {tt.procedure}, "host": {"PC-1"}}, &p)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" ||
				p.Status != http.StatusBadRequest || !strings.Contains(p.Detail, "procedure") {
				t.Errorf("procedure %q: %d %q %+v; want 400 as a problem naming procedure", tt.procedure, res.StatusCode,
					res.Header.Get("Content-Type"), p)
			}
		})
	}
	if runs, total, err := a.st.Runs(t.Context(), store.RunFilter{}); err != nil || total != 0 || len(a.runner.got) != 0 {
		t.Errorf("refused starts left runs %+v (%v) and jobs %+v", runs, err, a.runner.got)
	}
}
