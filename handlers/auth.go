package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"wsusfix/store"
	"wsusfix/store/secret"
	"wsusfix/views"
)

// Session values. The session holds only who signed in and the user's
// session epoch at the time; role and state are read from the database on
// every request, so a change applies at once.
const (
	sessUserID = "uid"
	sessEpoch  = "epoch"
	// sessDirChecked is when the directory last confirmed a directory
	// user's role (unix seconds); see refreshDirectoryRole.
	sessDirChecked = "dirchecked"
)

// Session defaults: idle 30 minutes, absolute one long shift.
const (
	defaultSessionIdle     = 30 * time.Minute
	defaultSessionLifetime = 10 * time.Hour
)

// roleFor is the lowest role that holds each permission.
var roleFor = map[permission]store.Role{
	permView:   store.RoleViewer,
	permRepair: store.RoleOperator,
	permAdmin:  store.RoleAdmin,
}

// newSessions configures server-side sessions in the database. The cookie
// is HttpOnly and SameSite=Lax always, Secure (with the __Host- prefix)
// whenever users reach the server over TLS; it lasts as long as the browser
// unless a timeout ends it first. Tokens are hashed before they are stored.
func newSessions(d Deps, onError func(http.ResponseWriter, *http.Request, error)) *scs.SessionManager {
	sm := scs.New()
	sm.Store = d.Store.Sessions()
	sm.HashTokenInStore = true
	sm.Codec = sessionCodec{}
	sm.IdleTimeout, sm.Lifetime = d.SessionIdle, d.SessionLifetime
	if sm.IdleTimeout <= 0 {
		sm.IdleTimeout = defaultSessionIdle
	}
	if sm.Lifetime <= 0 {
		sm.Lifetime = defaultSessionLifetime
	}
	sm.Cookie.Name = "wsusfix_session"
	if d.SecureCookies {
		sm.Cookie.Name, sm.Cookie.Secure = "__Host-wsusfix_session", true
	}
	sm.Cookie.HttpOnly, sm.Cookie.SameSite, sm.Cookie.Path, sm.Cookie.Persist = true, http.SameSiteLaxMode, "/", false
	sm.ErrorFunc = onError
	return sm
}

type userKey struct{}

// currentUser is the signed-in user of the request, set by loadUser.
func currentUser(r *http.Request) (store.User, bool) {
	u, ok := r.Context().Value(userKey{}).(store.User)
	return u, ok
}

// loadUser puts the session's user in the request context. A session whose
// user has since been disabled, removed or had their password reset (the
// epoch moved on) is destroyed here: it ends at its next request, wherever
// the change was made (admin page or command line).
func (h *handler) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		uid := h.sessions.GetInt64(ctx, sessUserID)
		if uid == 0 {
			next.ServeHTTP(w, r)
			return
		}
		u, err := h.store.UserByID(ctx, uid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		if err != nil || u.Disabled || u.SessionEpoch != h.sessions.GetInt64(ctx, sessEpoch) {
			if err := h.sessions.Destroy(ctx); err != nil {
				h.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if u.Source == store.SourceDirectory {
			var ok bool
			if u, ok = h.refreshDirectoryRole(r, u); !ok {
				if err := h.sessions.Destroy(ctx); err != nil {
					h.fail(w, r, err)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
		}
		ctx = context.WithValue(ctx, userKey{}, u)
		ctx = views.WithSignedIn(ctx, views.SignedIn{Name: u.Name, Role: string(u.Role)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// require lets a request through only when its user holds perm. Nobody
// signed in goes to the sign-in page; a user whose role falls short gets
// 403, and the refusal is audited.
func (h *handler) require(perm permission) func(http.Handler) http.Handler {
	need, ok := roleFor[perm]
	if !ok {
		panic(fmt.Sprintf("handlers: no role for permission %d", perm))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := currentUser(r)
			switch {
			case !ok:
				h.toLogin(w, r)
			case !u.Role.Allows(need):
				h.audit(r, store.ActionAccessDenied, r.Method+" "+r.URL.Path, store.OutcomeDenied, "needs "+string(need))
				h.log.Warn("access denied", "user", u.Name, "role", u.Role, "need", need, "method", r.Method,
					"route", routePattern(r), "request_id", requestIDFrom(r.Context()))
				h.refuse(w, r, http.StatusForbidden, "Not allowed", "Your role ("+string(u.Role)+") does not allow this. "+
					"Ask an administrator if you need it.")
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// refuse answers a refusal in the request's own terms: a problem
// document to the API, an error page otherwise.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	if isAPI(r) {
		h.problem(w, r, status, title, message)
		return
	}
	h.render(w, r, status, views.ErrorPage(views.ErrorProps{Status: status, Title: title, Message: message}))
}

// toLogin sends an anonymous request to the sign-in page: 303 for pages
// (coming back afterwards), 401 for event streams and htmx requests, which
// cannot follow a redirect to a form.
func (h *handler) toLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("HX-Request") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		w.Header().Set("HX-Redirect", "/login")
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	target := "/login"
	// Come back afterwards, unless the address is too long to carry
	// through the sign-in form's limits.
	if uri := r.URL.RequestURI(); (r.Method == http.MethodGet || r.Method == http.MethodHead) && len(uri) <= maxNext {
		target += "?next=" + url.QueryEscape(uri)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// maxNext is the longest address sign-in returns to: with the name and
// password it stays well inside /login's body limit, and inside the
// "next" parameter's limit once escaped.
const maxNext = 1024

// safeNext keeps a post-sign-in destination only when it is a path on this
// site, so /login cannot be used to send people elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, `\`) ||
		u.Scheme != "" || u.Host != "" || u.Path == "/login" {
		return "/"
	}
	return next
}

// handleLoginForm renders GET /login; someone already signed in goes on.
func (h *handler) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := currentUser(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, views.LoginPage(views.LoginProps{Next: next, Directory: h.dir != nil}))
}

// handleLogin checks POST /login (username, password, next). An unknown
// user and a wrong password get the same answer after the same work;
// repeated failures per account and per client address are throttled.
// Success issues a new session token (no fixation) and answers 303 to next.
func (h *handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("username")) // at most 256 characters (limitInput)
	pw := secret.Secret(r.PostFormValue("password"))
	p := views.LoginProps{Username: name, Next: safeNext(r.PostFormValue("next")), Directory: h.dir != nil}
	if name == "" || pw == "" {
		p.Problem = "Enter your user name and password."
		h.render(w, r, http.StatusUnprocessableEntity, views.LoginPage(p))
		return
	}
	client := h.clientAddr(r)
	// Counted before the password is checked, so parallel guesses cannot
	// all get past the limit while each one's check is still running.
	try, wait := h.throttle.begin(name, client)
	if wait > 0 {
		h.audit(r, store.ActionLoginFailed, name, store.OutcomeDenied, "throttled")
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		p.Problem = fmt.Sprintf("Too many failed sign-ins. Try again in %d minutes.", int(wait.Minutes())+1)
		h.render(w, r, http.StatusTooManyRequests, views.LoginPage(p))
		return
	}
	u, err := h.authenticate(r, name, pw)
	if errors.Is(err, store.ErrBadCredentials) {
		var why refusal
		errors.As(err, &why)
		h.audit(r, store.ActionLoginFailed, name, store.OutcomeFailed, why.detail)
		h.log.Info("sign-in failed", "user", name, "client", client, "request_id", requestIDFrom(ctx))
		p.Problem = "That user name and password do not match an enabled account."
		h.render(w, r, http.StatusUnauthorized, views.LoginPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err) // the attempt stays counted: a failing server is no reason to allow more guesses
		return
	}
	h.throttle.succeeded(try)
	// A new token at sign-in: a token planted or seen before is worthless.
	if err := h.sessions.RenewToken(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	h.sessions.Put(ctx, sessUserID, u.ID)
	h.sessions.Put(ctx, sessEpoch, u.SessionEpoch)
	if u.Source == store.SourceDirectory {
		h.sessions.Put(ctx, sessDirChecked, time.Now().Unix())
	}
	if err := h.store.RecordLogin(ctx, u.ID); err != nil {
		h.log.Warn("recording sign-in failed", "user", u.Name, "error", err)
	}
	r = r.WithContext(context.WithValue(ctx, userKey{}, u))
	h.audit(r, store.ActionLoginOK, u.Name, store.OutcomeOK, "")
	h.log.Info("signed in", "user", u.Name, "role", u.Role, "client", client, "request_id", requestIDFrom(ctx))
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

// handleLogout ends the session on the server (POST /logout) and goes to
// the sign-in page; the old cookie no longer opens anything.
func (h *handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	if u, ok := currentUser(r); ok {
		h.audit(r, store.ActionLogout, u.Name, store.OutcomeOK, "")
	}
	if err := h.sessions.Destroy(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// EndSessions deletes every stored session of the user with userID, so a
// disabled user is signed out everywhere at once. (Such sessions would
// also die at their next request, since disabling moves the user's session
// epoch on; this removes them from the database too.)
func EndSessions(ctx context.Context, st *store.Store, userID int64) (int, error) {
	return st.Sessions().DeleteMatching(ctx, func(data []byte) bool {
		_, values, err := sessionCodec{}.Decode(data)
		id, _ := values[sessUserID].(int64)
		return err == nil && id == userID
	})
}

// crossOrigin refuses cross-site state-changing requests (Go's
// CrossOriginProtection: Sec-Fetch-Site, then Origin against Host), and
// logs and audits each refusal. The check runs before anything else reads
// the request; only a refused request then has its session loaded, so the
// audit log names whose browser was used.
func (h *handler) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(h.sessions.LoadAndSave(h.loadUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if len(origin) > 200 {
			origin = origin[:200]
		}
		h.log.Warn("cross-origin request refused", "method", r.Method, "origin", origin, "user", h.actor(r),
			"client", h.clientAddr(r), "request_id", requestIDFrom(r.Context()))
		h.audit(r, store.ActionCrossOrigin, r.Method+" "+r.URL.Path, store.OutcomeDenied, "origin "+origin)
		h.render(w, r, http.StatusForbidden, views.ErrorPage(views.ErrorProps{Status: http.StatusForbidden,
			Title: "Refused", Message: "This request came from another site, so it was not carried out."}))
	}))))
	return cop.Handler(next)
}

// hsts tells browsers to use HTTPS only, once they have reached us over it.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		next.ServeHTTP(w, r)
	})
}
