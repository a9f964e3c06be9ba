package handlers_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// TestHead ensures HEAD answers where GET does, with no body: /healthz for
// monitors, and the triage page signed in and not.
func TestHead(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	for _, tt := range []struct {
		path   string
		client *http.Client
		want   int
	}{
		{"/healthz", newClient(false), http.StatusOK},
		{"/", a.client, http.StatusOK},
		{"/", newClient(false), http.StatusSeeOther},
	} {
		req, _ := http.NewRequest(http.MethodHead, a.srv.URL+tt.path, nil)
		res, err := tt.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.want || len(body) != 0 || res.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: %d, %d bytes, Content-Type %q; want %d and no body", tt.path, res.StatusCode, len(body),
				res.Header.Get("Content-Type"), tt.want)
		}
	}
}

// TestParams_Long ensures over-long filter values, including the ones
// that used to reach SQLite as LIKE patterns too complex for it, answer a
// 400 saying which limit was passed, on pages, exports and streams alike,
// before anything is streamed; and that LIKE wildcards up to the limit are
// plain text.
func TestParams_Long(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("tester", store.RoleAdmin))
	hosts, fails := fleet(30)
	a.seed(t, hosts, fails)
	tests := []struct {
		path string
		want int
		says string
	}{
		{"/runs?host=" + strings.Repeat("a", 50_001), 400, "host name is longer than 253 characters"},
		{"/?q=" + strings.Repeat("%25", 201), 400, "search is longer than 200 characters"},
		{"/?q=" + strings.Repeat("_", 25_001), 400, "search is longer than 200 characters"},
		{"/repairs/new?q=" + strings.Repeat("_", 201), 400, "search is longer than 200 characters"},
		{"/export/hosts.csv?q=" + strings.Repeat("_", 201), 400, "search is longer than 200 characters"},
		{"/admin/audit.csv?target=" + strings.Repeat("x", 201), 400, "target is longer than 200 characters"},
		{"/admin/audit?actor=" + strings.Repeat("x", 65), 400, "actor is longer than 64 characters"},
		{"/runs/1/events?after=" + strings.Repeat("9", 20), 400, "event number is longer than 19 characters"},
		{"/?group=" + strings.Repeat("g", 256), 400, "group is longer than 255 characters"},
		{"/?q=" + strings.Repeat("_", 200), 200, ""},
		{"/?q=" + strings.Repeat("%25", 200), 200, ""},
		{"/runs?host=" + strings.Repeat("_", 253), 200, ""},
	}
	for _, tt := range tests {
		res, doc := a.get(t, tt.path)
		if res.StatusCode != tt.want || !strings.Contains(doc.Find(`[data-testid="error-message"]`).Text(), tt.says) {
			t.Errorf("GET %.40s…: %d %q, want %d saying %q", tt.path, res.StatusCode,
				doc.Find(`[data-testid="error-message"]`).Text(), tt.want, tt.says)
		}
		if tt.want == 400 && res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %.40s…: Content-Type %q, want the error page", tt.path, res.Header.Get("Content-Type"))
		}
	}
	// The wildcard is text: "_" finds no host (no host name holds one),
	// not every failing PC-0nn, which "-" finds.
	_, doc := a.get(t, "/?q=-")
	if got := texts(doc, `[data-testid="host-link"]`); len(got) != len(fails) {
		t.Errorf("search -: %d hosts, want every failing one (%d)", len(got), len(fails))
	}
	_, doc = a.get(t, "/?q=_")
	if got := texts(doc, `[data-testid="host-link"]`); len(got) != 0 {
		t.Errorf("search _: %v, want none", got)
	}
}

// TestCrossOrigin_AuditsUser ensures a refused cross-site request is
// audited with the user whose session cookie it carried, and with nobody
// when there is none.
func TestCrossOrigin_AuditsUser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := signIn(t, a.srv.URL, a.st, "alice", store.RoleAdmin)
	cross := map[string]string{"Sec-Fetch-Site": "cross-site"}
	if res := do(t, admin, http.MethodPost, a.srv.URL+"/admin/settings", url.Values{"winrm_user": {"x"}}, cross); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST with alice's session: %d, want 403", res.StatusCode)
	}
	if res := do(t, newClient(false), http.MethodPost, a.srv.URL+"/login", url.Values{"username": {"x"}}, cross); res.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous cross-site POST: %d, want 403", res.StatusCode)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionCrossOrigin})
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d cross-origin entries (%v), want 2", len(entries), err)
	}
	// Newest first.
	if entries[1].Actor != "alice" || entries[1].Target != "POST /admin/settings" || entries[0].Actor != "" {
		t.Errorf("audited as %q on %q and %q; want alice, then nobody", entries[1].Actor, entries[1].Target, entries[0].Actor)
	}
	// Refusing the request did not end or change alice's session.
	if res, _ := get(t, admin, a.srv.URL+"/admin/users"); res.StatusCode != http.StatusOK || res.Request.URL.Path != "/admin/users" {
		t.Errorf("alice after the refusal: %d at %s", res.StatusCode, res.Request.URL)
	}
}

// fuzzRoutes are the pages, exports and streams whose query the fuzz test
// varies: triage, bulk confirmation, runs, the audit log, both exports,
// a host page and a finished run's event stream.
var fuzzRoutes = []string{"/", "/repairs/new", "/runs", "/admin/audit", "/export/hosts.csv", "/admin/audit.csv",
	"/hosts/PC-001", "/runs/1/events"}

// FuzzQueryParams ensures no query, however long, malformed or full of
// LIKE wildcards, makes any triage, runs, audit or export route answer
// 5xx. Its seeds, which include the values found by hostile probing, run
// in every go test; go test -fuzz FuzzQueryParams ./handlers/ searches on.
func FuzzQueryParams(f *testing.F) {
	st := openStore(f, filepath.Join(f.TempDir(), "fuzz.db"))
	a := &app{st: st}
	hosts, fails := fleet(12)
	a.seed(f, hosts, fails)
	h := handlers.New(handlers.Deps{Logger: slog.New(slog.DiscardHandler), Store: st})
	cookie := sessionCookie(f, h, st, "fuzzer", store.RoleAdmin)
	// A finished rn, so its event stream ends by itself.
	pc, err := st.HostByName(f.Context(), "PC-001")
	if err != nil {
		f.Fatal(err)
	}
	rn, err := st.CreateRun(f.Context(), store.RunInput{HostID: pc.ID, Procedure: run.ProcedureCheck, RequestedBy: "fuzzer"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := st.FinishRun(f.Context(), rn.ID, store.RunResult{State: run.StateSucceeded, Outcome: "ok"}); err != nil {
		f.Fatal(err)
	}

	long := strings.Repeat("a", 50_001)
	for _, kv := range [][2]string{
		{"q", "%"}, {"q", "_"}, {"q", strings.Repeat("_", 25_001)}, {"q", strings.Repeat("%", 201)}, {"q", "PC\\"},
		{"host", long}, {"host", "%_"}, {"group", "\x00=1+1"}, {"code", "0x80070002"}, {"code", "zz"},
		{"sort", "name; DROP TABLE hosts"}, {"dir", "desc"}, {"page", "99999999999999999999"}, {"page", "-3"},
		{"state", "running"}, {"who", "o'brien"}, {"from", "2026-13-45"}, {"to", "2026-11-30"},
		{"actor", "%"}, {"action", "user."}, {"action", "."}, {"outcome", "denied"}, {"target", "_%\\"},
		{"after", "-1"}, {"after", "9223372036854775808"}, {"x", long},
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), kv[0], kv[1], "")
		}
	}
	f.Add(uint8(0), "q", "a", "a=1;b=2")
	f.Add(uint8(2), "host", "a", "%zz")
	f.Add(uint8(5), "action", "", "action=login.&target=%25")
	f.Fuzz(func(t *testing.T, route uint8, key, value, raw string) {
		q := url.Values{key: {value}}.Encode()
		if raw != "" {
			q += "&" + raw
		}
		req, err := http.NewRequest(http.MethodGet, fuzzRoutes[int(route)%len(fuzzRoutes)]+"?"+q, nil)
		if err != nil {
			return // not a request a client could send
		}
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			doc, _ := goquery.NewDocumentFromReader(rec.Body)
			t.Fatalf("GET %.300s: %d %q", req.URL, rec.Code, doc.Find(`[data-testid="error-message"]`).Text())
		}
	})
}

// TestLogin_LongNext ensures an anonymous request for a long address goes
// to the sign-in page without it (rather than to a /login address over
// the limits), and a usual one keeps it.
func TestLogin_LongNext(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	long := "/?" + url.Values{"a": {strings.Repeat("x", 250)}, "b": {strings.Repeat("y", 250)},
		"c": {strings.Repeat("z", 250)}, "d": {strings.Repeat("w", 250)}, "e": {strings.Repeat("v", 250)}}.Encode()
	for _, tt := range []struct{ path, want string }{
		{"/runs?state=failed", "/login?next=%2Fruns%3Fstate%3Dfailed"},
		{long, "/login"},
	} {
		res := do(t, newClient(false), http.MethodGet, a.srv.URL+tt.path, nil, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tt.want {
			t.Errorf("GET %.30s…: %d to %.60q, want 303 to %q", tt.path, res.StatusCode, res.Header.Get("Location"), tt.want)
		}
	}
}
