package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// api calls the API with token and decodes the JSON answer into out.
func (a *app) api(t *testing.T, method, path, token string, form url.Values, out any) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %v", method, path, res.StatusCode, err)
		}
	}
	return res
}

// problem is an RFC 9457 problem document as the API answers it.
type problem struct {
	Title, Detail, Link string
	Status              int
}

// TestAPI ensures a token made on the profile page (shown once) reads the
// failing hosts page by page with triage's filters, starts a run that is
// audited under the token's name, is refused where its role falls short
// with the pages' words as a problem document, and stops working once
// revoked; and that no cookie is set.
func TestAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("olga", store.RoleOperator), withRunner())
	hosts, fails := fleet(40)
	a.seed(t, hosts, fails)

	res, doc := postForm(t, a.client, a.srv.URL+"/profile/tokens", url.Values{"name": {"ci"}, "role": {"operator"}, "days": {"30"}})
	secret := doc.Find(`[data-testid="token-secret"]`).Text()
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(secret, store.TokenPrefix) {
		t.Fatalf("token made: %d %q", res.StatusCode, secret)
	}
	if _, doc := a.get(t, "/profile"); strings.Contains(doc.Text(), secret) || doc.Find(`[data-testid="token-row"]`).Length() != 1 {
		t.Error("the profile shows the secret again, or not the token")
	}
	_, doc = postForm(t, a.client, a.srv.URL+"/profile/tokens", url.Values{"name": {"viewer"}, "role": {"viewer"}, "days": {"30"}})
	viewerToken := doc.Find(`[data-testid="token-secret"]`).Text()

	// Paging with the triage filters.
	want := 0
	for _, c := range fails {
		if c == 0x80070002 {
			want++
		}
	}
	var seen []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		var page struct {
			Hosts []struct {
				Name    string
				Failure struct{ HResult string }
			}
			Total      int
			NextCursor string `json:"next_cursor"`
		}
		res := a.api(t, "GET", "/api/v1/hosts?code=0x80070002&limit=3&cursor="+cursor, secret, nil, &page)
		if res.StatusCode != http.StatusOK || res.Header.Get("Set-Cookie") != "" || page.Total != want {
			t.Fatalf("hosts page: %d, cookie %q, total %d (want %d)", res.StatusCode, res.Header.Get("Set-Cookie"), page.Total, want)
		}
		for _, h := range page.Hosts {
			if h.Failure.HResult != "0x80070002" {
				t.Errorf("host %s fails with %s", h.Name, h.Failure.HResult)
			}
			seen = append(seen, h.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	sort.Strings(seen)
	if len(seen) != want || len(seen) > 1 && seen[0] == seen[1] {
		t.Errorf("paged through %d hosts, want %d, each once: %v", len(seen), want, seen)
	}

	// A host names its primary group and every group.
	var grouped struct {
		Group  string
		Groups []string
	}
	if res := a.api(t, "GET", "/api/v1/hosts/"+seen[0], secret, nil, &grouped); res.StatusCode != http.StatusOK ||
		grouped.Group == "" || len(grouped.Groups) == 0 || grouped.Groups[0] != grouped.Group {
		t.Errorf("host %s: %d, group %q, groups %q", seen[0], res.StatusCode, grouped.Group, grouped.Groups)
	}

	var started struct {
		ID          int64
		State       string
		RequestedBy string `json:"requested_by"`
	}
	res = a.api(t, "POST", "/api/v1/hosts/"+seen[0]+"/runs", secret, url.Values{"procedure": {"check"}}, &started)
	if res.StatusCode != http.StatusCreated || started.RequestedBy != "olga (token ci)" || len(a.runner.got) != 1 ||
		a.runner.got[0].Procedure != run.ProcedureCheck {
		t.Fatalf("start: %d %+v, jobs %+v", res.StatusCode, started, a.runner.got)
	}
	var busy problem
	res = a.api(t, "POST", "/api/v1/hosts/"+seen[0]+"/runs", secret, url.Values{"procedure": {"repair"}}, &busy)
	if res.StatusCode != http.StatusConflict || res.Header.Get("Content-Type") != "application/problem+json" ||
		busy.Title != "Already running" || !strings.HasPrefix(busy.Link, "/runs/") {
		t.Errorf("second start: %d %+v", res.StatusCode, busy)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionRepairStart})
	if err != nil || len(entries) < 1 || entries[len(entries)-1].Actor != "olga (token ci)" {
		t.Errorf("audit %+v, %v", entries, err)
	}

	var batch struct {
		ID   int64
		Runs int
	}
	// seen[0] already runs its check: the batch queues the other two, and says so.
	res = a.api(t, "POST", "/api/v1/batches", secret, url.Values{"procedure": {"check"}, "host": {seen[0], seen[1], seen[2]}}, &batch)
	if res.StatusCode != http.StatusCreated || batch.Runs != 2 {
		t.Fatalf("bulk start: %d %+v", res.StatusCode, batch)
	}
	var one struct {
		Batch struct{ Runs int }
		Runs  []struct{ Run struct{ Host string } }
	}
	if res := a.api(t, "GET", "/api/v1/batches/"+strconv.FormatInt(batch.ID, 10), secret, nil, &one); res.StatusCode != http.StatusOK ||
		len(one.Runs) != 2 || one.Batch.Runs != 2 {
		t.Errorf("the batch: %d %+v", res.StatusCode, one)
	}
	var codes []map[string]any
	if res := a.api(t, "GET", "/api/v1/reports/codes", secret, nil, &codes); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Disposition") != "" || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("report codes: %d, %q, %q: want JSON data, not a download", res.StatusCode,
			res.Header.Get("Content-Disposition"), res.Header.Get("Content-Type"))
	}
	var noSync problem
	if res := a.api(t, "GET", "/api/v1/sync", secret, nil, &noSync); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator token reading the sync: %d, want 403 (admins only)", res.StatusCode)
	}

	var denied problem
	if res := a.api(t, "POST", "/api/v1/runs/1/cancel", viewerToken, url.Values{}, &denied); res.StatusCode != http.StatusForbidden || denied.Title != "Not allowed" {
		t.Errorf("a viewer token cancelling: %d %+v", res.StatusCode, denied)
	}
	var missing problem
	if res := a.api(t, "GET", "/api/v1/hosts/NO-SUCH-HOST", secret, nil, &missing); res.StatusCode != http.StatusNotFound || missing.Title != "Not found" {
		t.Errorf("an unknown host: %d %+v", res.StatusCode, missing)
	}

	_, doc = a.get(t, "/profile")
	revoke := doc.Find(`[data-testid="token-row"]`).Last().Find("form").AttrOr("action", "")
	a.post(t, noRedirect(a.client), revoke, url.Values{}, http.StatusSeeOther)
	var refused problem
	if res := a.api(t, "GET", "/api/v1/hosts", secret, nil, &refused); res.StatusCode != http.StatusUnauthorized || refused.Title != "Token refused" {
		t.Errorf("a revoked token: %d %+v", res.StatusCode, refused)
	}
	if res := a.api(t, "GET", "/api/v1/hosts", "", nil, &refused); res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d", res.StatusCode)
	}
}

var chiParam = regexp.MustCompile(`\{([a-z]+):[^}]*\}`)

// TestOpenAPI_MatchesRoutes ensures every API route is in the OpenAPI
// document and everything in it is routed.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if res := a.api(t, "GET", "/api/v1/openapi.json", "", nil, &doc); res.StatusCode != http.StatusOK || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %d %q", res.StatusCode, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	mux := handlers.New(handlers.Deps{Logger: slog.New(slog.DiscardHandler), Store: a.st})
	err := chi.Walk(mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(pattern, "/api/v1/") {
			// chi's {list:a|b} is OpenAPI's {list}, its values an enum there.
			routed[method+" "+chiParam.ReplaceAllString(pattern, "{$1}")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("%s is routed but not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("%s is in openapi.json but not routed", d)
		}
	}
	if len(routed) < 10 {
		t.Errorf("only %d API routes walked", len(routed))
	}
}

// TestProfile_TokenRefused ensures a token above the user's role, or with
// no name, is refused on the page with its reason (422) and none is made.
func TestProfile_TokenRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("vera", store.RoleViewer))
	for _, form := range []url.Values{
		{"name": {"ci"}, "role": {"operator"}, "days": {"30"}},
		{"name": {""}, "role": {"viewer"}, "days": {"30"}},
		{"name": {"ci"}, "role": {"viewer"}, "days": {"0"}},
	} {
		res, doc := postForm(t, a.client, a.srv.URL+"/profile/tokens", form)
		if res.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="token-error"]`).Text() == "" ||
			doc.Find(`[data-testid="token-secret"]`).Length() != 0 {
			t.Errorf("%v: %d, error %q", form, res.StatusCode, doc.Find(`[data-testid="token-error"]`).Text())
		}
	}
	u, _ := a.st.UserByName(t.Context(), "vera")
	if toks, err := a.st.Tokens(t.Context(), u.ID); err != nil || len(toks) != 0 {
		t.Errorf("tokens made: %+v, %v", toks, err)
	}
}

// TestAPI_ErrorsAreProblems ensures every error on the API is a problem
// document, including those from code the pages share (a report list's
// bad filter), from before the token is read (a body too large), and for
// an address the API does not have.
func TestAPI_ErrorsAreProblems(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("root", store.RoleAdmin))
	u, err := a.st.UserByName(t.Context(), "root")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.st.CreateToken(t.Context(), u, "errors", store.RoleAdmin, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path string
		body         io.Reader
		status       int
	}{
		{http.MethodGet, "/api/v1/reports/codes?from=yesterday", nil, http.StatusBadRequest},
		{http.MethodGet, "/api/v1/no-such-call", nil, http.StatusNotFound},
		{http.MethodPost, "/api/v1/batches", strings.NewReader(strings.Repeat("x", 8<<20)), http.StatusRequestEntityTooLarge},
	} {
		req, _ := http.NewRequest(tt.method, a.srv.URL+tt.path, tt.body)
		req.Header.Set("Authorization", "Bearer "+string(tok))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		derr := json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if res.StatusCode != tt.status || res.Header.Get("Content-Type") != "application/problem+json" || derr != nil ||
			doc.Status != tt.status || doc.Title == "" {
			t.Errorf("%s %s: %d %q, %+v (%v); want %d as a problem document", tt.method, tt.path, res.StatusCode,
				res.Header.Get("Content-Type"), doc, derr, tt.status)
		}
	}
}
