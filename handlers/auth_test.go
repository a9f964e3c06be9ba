package handlers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"wsusfix/handlers"
	"wsusfix/store"
)

// testPassword is every test user's password.
const testPassword = "test password 1234"

// ensureUser creates name with role, or resets an existing one to role and
// testPassword (benchmarks reuse their database).
func ensureUser(tb testing.TB, st *store.Store, name string, role store.Role) store.User {
	tb.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, name, role, testPassword)
	if errors.Is(err, store.ErrConflict) {
		if _, err = st.SetPassword(ctx, name, testPassword); err == nil {
			u, err = st.SetRole(ctx, name, role)
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// newClient returns a client with its own cookie jar. It follows redirects
// unless follow is false, when it returns the 3xx response itself.
func newClient(follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// signIn creates (or resets) user name with role and signs in through the
// login form, returning a redirect-following client holding the session.
func signIn(tb testing.TB, base string, st *store.Store, name string, role store.Role) *http.Client {
	tb.Helper()
	ensureUser(tb, st, name, role)
	return loginClient(tb, base, name)
}

// loginClient signs an existing user with testPassword in through the form.
func loginClient(tb testing.TB, base, name string) *http.Client {
	tb.Helper()
	c := newClient(true)
	res, err := c.PostForm(base+"/login", url.Values{"username": {name}, "password": {testPassword}})
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		tb.Fatalf("sign in as %s: status %d at %s", name, res.StatusCode, res.Request.URL)
	}
	return c
}

// sessionCookie signs name in against h directly and returns the session
// cookie, for tests and benchmarks that call ServeHTTP.
func sessionCookie(tb testing.TB, h http.Handler, st *store.Store, name string, role store.Role) *http.Cookie {
	tb.Helper()
	ensureUser(tb, st, name, role)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"username": {name},
		"password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if strings.HasSuffix(c.Name, "wsusfix_session") && c.Value != "" {
			return c
		}
	}
	tb.Fatalf("sign in as %s: status %d, no session cookie", name, rec.Code)
	return nil
}

// login posts the form with c and returns the response, body read.
func (a *app) login(t *testing.T, c *http.Client, name, pw, next string) (*http.Response, *goquery.Document) {
	t.Helper()
	return page(t)(c.PostForm(a.srv.URL+"/login", url.Values{"username": {name}, "password": {pw}, "next": {next}}))
}

// do sends a request with c and returns the response with its body closed.
func do(t *testing.T, c *http.Client, method, u string, form url.Values, header map[string]string) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// sessionOf returns the session cookie c holds for base, or "".
func sessionOf(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "wsusfix_session") {
			return ck.Value
		}
	}
	return ""
}

// TestLogin_FlowAndNext ensures an anonymous page request goes to /login
// remembering the page, the form signs in and returns there, and the
// header then names the user.
func TestLogin_FlowAndNext(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "vera", store.RoleViewer)
	c := newClient(false)

	res := do(t, c, http.MethodGet, a.srv.URL+"/runs?state=failed", nil, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fruns%3Fstate%3Dfailed" {
		t.Fatalf("anonymous page: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, doc := get(t, c, a.srv.URL+"/login?next=%2Fruns%3Fstate%3Dfailed")
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="login-form"] input[name="next"]`).AttrOr("value", "") != "/runs?state=failed" {
		t.Fatalf("login form: %d, next %q", res.StatusCode, doc.Find(`input[name="next"]`).AttrOr("value", ""))
	}
	res, _ = a.login(t, c, "VERA", testPassword, "/runs?state=failed")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/runs?state=failed" {
		t.Fatalf("sign in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, doc = get(t, c, a.srv.URL+"/")
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="user-name"]`).Text() != "vera" ||
		doc.Find(`[data-testid="user-role"]`).Text() != "viewer" || doc.Find(`[data-testid="nav-admin"]`).Length() != 0 {
		t.Fatalf("after sign-in: %d, user %q", res.StatusCode, doc.Find(`[data-testid="user-menu"]`).Text())
	}
	// Somewhere else after sign-in is never another site.
	for _, next := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`, "javascript:alert(1)"} {
		c := newClient(false)
		if res, _ := a.login(t, c, "vera", testPassword, next); res.Header.Get("Location") != "/" {
			t.Errorf("next %q: redirected to %q", next, res.Header.Get("Location"))
		}
	}
}

// get fetches u with c and parses the body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, *goquery.Document) {
	t.Helper()
	return page(t)(c.Get(u))
}

// TestLogin_SameAnswer ensures an unknown user, a wrong password and a
// disabled account get the same status and message in similar time.
func TestLogin_SameAnswer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	ensureUser(t, a.st, "olga", store.RoleOperator)
	ensureUser(t, a.st, "gone", store.RoleOperator)
	a.st.SetDisabled(t.Context(), "gone", true)

	type answer struct {
		status  int
		problem string
		took    time.Duration
	}
	// The fastest of three tries, so a busy machine does not fake a difference.
	try := func(name, pw string) answer {
		var best answer
		for i := range 3 {
			start := time.Now()
			res, doc := a.login(t, newClient(false), name, pw, "")
			got := answer{res.StatusCode, doc.Find(`[data-testid="login-problem"]`).Text(), time.Since(start)}
			if i == 0 || got.took < best.took {
				best = got
			}
		}
		return best
	}
	wrong := try("olga", "not the password")
	unknown := try("nobody-here", "not the password")
	disabled := try("gone", testPassword)
	if wrong.status != http.StatusUnauthorized || wrong.problem == "" {
		t.Fatalf("wrong password: %+v", wrong)
	}
	for name, got := range map[string]answer{"unknown user": unknown, "disabled account": disabled} {
		if got.status != wrong.status || got.problem != wrong.problem {
			t.Errorf("%s answered %d %q; wrong password %d %q", name, got.status, got.problem, wrong.status, wrong.problem)
		}
		if got.took < wrong.took/3 || got.took > wrong.took*3 {
			t.Errorf("%s took %v, wrong password %v: timing tells them apart", name, got.took, wrong.took)
		}
	}
	if res, _ := a.login(t, newClient(false), "olga", "", ""); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty password: %d, want 422", res.StatusCode)
	}
}

// TestLogin_SessionFixation ensures signing in issues a new session token:
// a token held before (planted or from another sign-in) opens nothing.
func TestLogin_SessionFixation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	ensureUser(t, a.st, "olga", store.RoleOperator)
	c := newClient(false)
	u, _ := url.Parse(a.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "wsusfix_session", Value: "planted-by-an-attacker"}})
	a.login(t, c, "admin", testPassword, "")
	first := sessionOf(c, a.srv.URL)
	if first == "" || first == "planted-by-an-attacker" {
		t.Fatalf("token after sign-in %q", first)
	}
	// Signing in again over a live session replaces its token too.
	a.login(t, c, "olga", testPassword, "")
	second := sessionOf(c, a.srv.URL)
	if second == "" || second == first {
		t.Fatalf("token kept across sign-ins: %q", second)
	}
	old := newClient(false)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "wsusfix_session", Value: first}})
	if res := do(t, old, http.MethodGet, a.srv.URL+"/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the pre-sign-in token still opens pages: %d", res.StatusCode)
	}
}

// TestLogout ensures logout ends the session on the server: the old cookie
// opens nothing afterwards, and the session row is gone.
func TestLogout(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := signIn(t, a.srv.URL, a.st, "olga", store.RoleOperator)
	token := sessionOf(c, a.srv.URL)
	nf := newClient(false)
	res := do(t, nf, http.MethodPost, a.srv.URL+"/logout", url.Values{}, map[string]string{"Cookie": "wsusfix_session=" + token})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	replay := do(t, nf, http.MethodGet, a.srv.URL+"/", nil, map[string]string{"Cookie": "wsusfix_session=" + token})
	if replay.StatusCode != http.StatusSeeOther || !strings.HasPrefix(replay.Header.Get("Location"), "/login") {
		t.Fatalf("old cookie after logout: %d to %q", replay.StatusCode, replay.Header.Get("Location"))
	}
	if n, _ := a.st.Sessions().AllCtx(t.Context()); len(n) != 0 {
		t.Errorf("%d sessions stored after logout", len(n))
	}
}

// TestLogin_Throttle ensures repeated failures for one account, and from
// one address across accounts, are refused with 429 and Retry-After, even
// with the right password, while other accounts are unaffected.
func TestLogin_Throttle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	ensureUser(t, a.st, "olga", store.RoleOperator)
	for i := range 5 {
		if res, _ := a.login(t, newClient(false), "olga", "guess", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, res.StatusCode)
		}
	}
	res, doc := a.login(t, newClient(false), "olga", testPassword, "")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(doc.Find(`[data-testid="login-problem"]`).Text(), "Too many") {
		t.Fatalf("sixth attempt: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res, _ := a.login(t, newClient(false), "admin", testPassword, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account throttled too: %d", res.StatusCode)
	}
	// Guessing across many accounts from one address hits the address limit.
	for i := range 15 {
		a.login(t, newClient(false), "user"+string(rune('a'+i)), "guess", "")
	}
	if res, _ := a.login(t, newClient(false), "admin", testPassword, ""); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %d, want 429", res.StatusCode)
	}
}

// TestSessionCookie ensures the session cookie is HttpOnly and Lax always,
// and Secure with the __Host- prefix when served over TLS.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		a := newApp(t, withDeps(handlers.Deps{SecureCookies: secure}))
		ensureUser(t, a.st, "admin", store.RoleAdmin)
		res, _ := a.login(t, newClient(false), "admin", testPassword, "")
		cookies := res.Cookies()
		if len(cookies) != 1 {
			t.Fatalf("secure=%v: cookies %v", secure, cookies)
		}
		c := cookies[0]
		wantName := "wsusfix_session"
		if secure {
			wantName = "__Host-wsusfix_session"
		}
		if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.Path != "/" ||
			c.MaxAge != 0 || len(c.Value) < 40 {
			t.Errorf("secure=%v: cookie %s", secure, c.String())
		}
		if secure && !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Error("no HSTS over TLS")
		}
	}
}

// TestSessionTimeouts ensures sessions end after the idle timeout, and
// after the absolute lifetime even when used.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		idle, lifetime time.Duration
		pause          time.Duration
		touches        int
	}{
		{"idle", 400 * time.Millisecond, time.Hour, 600 * time.Millisecond, 0},
		{"absolute", time.Hour, 900 * time.Millisecond, 250 * time.Millisecond, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, withDeps(handlers.Deps{SessionIdle: tt.idle, SessionLifetime: tt.lifetime}))
			c := signIn(t, a.srv.URL, a.st, "olga", store.RoleOperator)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			status := 0
			for range tt.touches + 1 {
				time.Sleep(tt.pause)
				status = do(t, c, http.MethodGet, a.srv.URL+"/", nil, nil).StatusCode
			}
			if status != http.StatusSeeOther {
				t.Fatalf("after the %s timeout: %d, want 303 to /login", tt.name, status)
			}
		})
	}
}

// TestDisabledUser_SessionsEnd ensures disabling a user, or resetting their
// password, ends their open sessions at once.
func TestDisabledUser_SessionsEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := signIn(t, a.srv.URL, a.st, "admin", store.RoleAdmin)
	ensureUser(t, a.st, "olga", store.RoleOperator)
	for _, action := range []string{"disable", "password"} {
		t.Run(action, func(t *testing.T) {
			a.st.SetDisabled(t.Context(), "olga", false)
			a.st.SetPassword(t.Context(), "olga", testPassword)
			olga := loginClient(t, a.srv.URL, "olga")
			olga2 := loginClient(t, a.srv.URL, "olga") // a second browser
			if res := do(t, admin, http.MethodPost, a.srv.URL+"/admin/users/olga/"+action, url.Values{}, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", action, res.StatusCode)
			}
			for i, c := range []*http.Client{olga, olga2} {
				res, _ := get(t, c, a.srv.URL+"/")
				if res.Request.URL.Path != "/login" {
					t.Errorf("session %d of olga still opens %s after %s", i+1, res.Request.URL, action)
				}
			}
		})
	}
}

// TestCrossOrigin ensures state-changing requests from another site are
// refused with 403 and audited, while same-origin ones go through.
func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	form := url.Values{"username": {"admin"}, "password": {testPassword}}
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		if res := do(t, newClient(false), http.MethodPost, a.srv.URL+"/login", form, hdr); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST /login with %v: %d, want 403", hdr, res.StatusCode)
		}
	}
	c := newClient(true)
	res := do(t, c, http.MethodPost, a.srv.URL+"/login", form, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": a.srv.URL})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		t.Fatalf("same-origin sign-in: %d at %s", res.StatusCode, res.Request.URL)
	}
	res = do(t, c, http.MethodPost, a.srv.URL+"/admin/settings", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("signed-in cross-site POST: %d, want 403", res.StatusCode)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionCrossOrigin})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 || entries[0].Outcome != store.OutcomeDenied {
		t.Errorf("%d cross-origin audit entries, want 4", len(entries))
	}
}

// TestEventStream_NeedsSignIn ensures the SSE stream refuses anonymous
// clients with 401 (an EventSource cannot follow a redirect to a form).
func TestEventStream_NeedsSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := do(t, newClient(false), http.MethodGet, a.srv.URL+"/runs/1/events", nil, map[string]string{"Accept": "text/event-stream"})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous event stream: %d, want 401", res.StatusCode)
	}
}

// TestSecurityHeaders_Auth ensures the sign-in page and redirects carry the
// security headers too.
func TestSecurityHeaders_Auth(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, path := range []string{"/login", "/", "/admin/users"} {
		res := do(t, newClient(false), http.MethodGet, a.srv.URL+path, nil, nil)
		h := res.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}
