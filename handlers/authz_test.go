package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"wsusfix/store"
	"wsusfix/store/storetest"
)

// access is who may use a route.
type access string

const (
	public   access = "public" // anyone, signed in or not
	viewer   access = "viewer"
	operator access = "operator"
	admin    access = "admin"
)

// decisions is the authorization table: every route the router serves,
// as "METHOD pattern", with who may use it. A route missing here fails
// TestRoleMatrix, so no route ships without a decision. Routes not built
// yet may be listed ahead; they are simply not found by the walk.
var decisions = map[string]access{
	"GET /healthz":             public,
	"GET /metrics":             public, // the metrics token, not a role: TestMetricsToken
	"* /static/*":              public, // any method: the file server answers
	"GET /login":               public,
	"POST /login":              public,
	"POST /logout":             public, // ends whatever session there is
	"GET /":                    viewer,
	"GET /hosts":               viewer,
	"GET /hosts/{name}":        viewer,
	"GET /runs":                viewer,
	"GET /runs/{id}":           viewer,
	"GET /runs/{id}/events":    viewer,
	"GET /batches":             viewer,
	"GET /batches/{id}":        viewer,
	"GET /batches/{id}/events": viewer,
	"GET /export/hosts.{format:csv|xlsx|json}":         viewer,
	"GET /export/runs.{format:csv|xlsx|json}":          viewer,
	"GET /hosts/{name}/history.{format:csv|xlsx|json}": viewer,
	"GET /reports":                                         viewer,
	"GET /profile":                                         viewer,
	"POST /profile/tokens":                                 viewer,
	"POST /profile/tokens/{id}/revoke":                     viewer,
	"GET /api/v1/openapi.json":                             public,
	"GET /api/v1/hosts":                                    viewer,
	"GET /api/v1/hosts/{name}":                             viewer,
	"GET /api/v1/hosts/{name}/history":                     viewer,
	"GET /api/v1/runs":                                     viewer,
	"GET /api/v1/runs/{id}":                                viewer,
	"GET /api/v1/runs/{id}/events":                         viewer,
	"GET /api/v1/runs/{id}/stream":                         viewer,
	"POST /api/v1/hosts/{name}/runs":                       operator,
	"POST /api/v1/runs/{id}/cancel":                        operator,
	"GET /api/v1/batches":                                  viewer,
	"GET /api/v1/batches/{id}":                             viewer,
	"GET /api/v1/reports/{list:compliance|activity|codes}": viewer,
	"POST /api/v1/batches":                                 operator,
	"GET /api/v1/sync":                                     admin,
	"POST /api/v1/sync":                                    admin,
	"GET /reports/{list:compliance|activity|codes}.{format:csv|xlsx|json}": viewer,
	"GET /repairs/new":                  operator,
	"GET /hosts/{name}/repair":          operator,
	"POST /hosts/{name}/repair":         operator,
	"POST /hosts/{name}/refresh":        operator,
	"POST /runs/{id}/cancel":            operator,
	"POST /repairs":                     operator,
	"POST /batches/{id}/rerun":          operator,
	"POST /batches/{id}/cancel":         operator,
	"GET /admin":                        admin,
	"GET /admin/users":                  admin,
	"POST /admin/users":                 admin,
	"POST /admin/users/{name}/role":     admin,
	"POST /admin/users/{name}/disable":  admin,
	"POST /admin/users/{name}/enable":   admin,
	"POST /admin/users/{name}/password": admin,
	"GET /admin/settings":               admin,
	"POST /admin/settings":              admin,
	"GET /admin/audit":                  admin,
	"GET /admin/audit.csv":              admin,
	"GET /admin/sync":                   admin,
	"POST /admin/sync":                  admin,
	"POST /admin/critical-groups":       admin,
	"GET /admin/syncs/{id}":             admin,
}

// rank orders the accesses; public ranks lowest.
func (a access) rank() int {
	return map[access]int{public: 0, viewer: 1, operator: 2, admin: 3}[a]
}

// TestRoleMatrix ensures every route the router serves has a decision in
// the table, and that every route answers every role (and nobody) as the
// table says: allowed, sign in first (303 to /login), or 403.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "authz.db"))
	h := newHandler(Deps{Logger: slog.New(slog.DiscardHandler), Store: st})
	mux := h.routes()

	type route struct{ method, pattern string }
	var routes []route
	err := chi.Walk(mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, route{method, pattern})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].pattern+routes[i].method < routes[j].pattern+routes[j].method })

	users := map[access]*http.Cookie{public: nil}
	tokens := map[access]string{} // the API's routes take a token of the role instead
	for _, role := range []access{viewer, operator, admin} {
		u, err := st.CreateUser(t.Context(), "matrix-"+string(role), store.Role(role), "matrix password 1")
		if err != nil {
			t.Fatal(err)
		}
		users[role] = &http.Cookie{Name: h.sessions.Cookie.Name, Value: mintSession(t, h, u)}
		sec, _, err := st.CreateToken(t.Context(), u, "matrix", store.Role(role), 1)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = string(sec)
	}

	checked := 0
	for _, rt := range routes {
		want, ok := decisions[rt.method+" "+rt.pattern]
		if !ok {
			want, ok = decisions["* "+rt.pattern]
		}
		if !ok {
			t.Errorf("route %s %s has no decision in the role table of authz_test.go: add it with the role it needs, "+
				"and put the route in that role's group in routes.go", rt.method, rt.pattern)
			continue
		}
		if rt.method == "CONNECT" || rt.method == "TRACE" {
			continue // not something a browser or test client sends
		}
		path := strings.NewReplacer("{name}", "ghost", "{id}", "999999", "*", "nothing").Replace(rt.pattern)
		for _, who := range []access{public, viewer, operator, admin} {
			req := httptest.NewRequest(rt.method, path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			api := strings.HasPrefix(rt.pattern, "/api/v1/")
			if api && who != public {
				req.Header.Set("Authorization", "Bearer "+tokens[who])
			} else if c := users[who]; c != nil && !api {
				// A fresh session per request: logout must not spoil the next one.
				u, err := st.UserByName(t.Context(), "matrix-"+string(who))
				if err != nil {
					t.Fatal(err)
				}
				req.AddCookie(&http.Cookie{Name: c.Name, Value: mintSession(t, h, u)})
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			toLogin := rec.Code == http.StatusSeeOther && (loc == "/login" || strings.HasPrefix(loc, "/login?"))
			if api {
				toLogin = rec.Code == http.StatusUnauthorized // the API's "sign in first"
			}
			name := string(who)
			if who == public {
				name = "nobody"
			}
			switch {
			case want == public || who.rank() >= want.rank():
				if rec.Code == http.StatusForbidden || (want != public && toLogin) {
					t.Errorf("%s %s as %s: %d (Location %q), want it allowed", rt.method, path, name, rec.Code, rec.Header().Get("Location"))
				}
			case who == public:
				if !toLogin {
					t.Errorf("%s %s as nobody: %d (Location %q), want 303 to /login", rt.method, path, rec.Code, rec.Header().Get("Location"))
				}
			default:
				if rec.Code != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d, want 403", rt.method, path, name, rec.Code)
				}
			}
			checked++
		}
	}
	if len(routes) < 20 || checked == 0 {
		t.Fatalf("walked only %d routes", len(routes))
	}
}

// mintSession stores a signed-in session for u directly, without hashing a
// password, and returns its cookie value.
func mintSession(t *testing.T, h *handler, u store.User) string {
	t.Helper()
	ctx, err := h.sessions.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	h.sessions.Put(ctx, sessUserID, u.ID)
	h.sessions.Put(ctx, sessEpoch, u.SessionEpoch)
	token, _, err := h.sessions.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
