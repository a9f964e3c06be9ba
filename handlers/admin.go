package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"wsusfix/store"
	"wsusfix/views"
)

// audit appends one entry to the audit log for the request's user and
// client. A failed write is logged, not returned: the action itself has
// already happened or been refused, and the request should say so.
// Handlers call it for actions whose target or outcome only they know,
// e.g. h.audit(r, store.ActionRepairStart, host.Name, store.OutcomeOK, "run 42").
func (h *handler) audit(r *http.Request, action, target, outcome, detail string) {
	e := store.AuditEntry{Actor: h.actor(r), Client: h.clientAddr(r), Action: action, Target: target,
		Outcome: outcome, Detail: detail, RequestID: requestIDFrom(r.Context())}
	if err := h.store.Audit(context.WithoutCancel(r.Context()), e); err != nil {
		h.log.Error("audit write failed", "action", action, "request_id", e.RequestID, "error", err)
	}
}

// audited records action for every request through the route, with the
// outcome read from the response status, and any redirect target as detail
// (a new run's page, say). target names what was acted on; nil uses the
// path. One line in routes.go audits a route whose handler knows nothing of
// auditing: r.With(h.audited(store.ActionX, nil)).Post(...).
func (h *handler) audited(action string, target func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				next.ServeHTTP(w, r) // headers only: nothing was done or handed over
				return
			}
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				status := sw.status
				if v != nil {
					status = http.StatusInternalServerError
				}
				t := r.URL.Path
				if target != nil {
					t = target(r)
				}
				h.audit(r, action, t, outcomeOf(status), sw.Header().Get("Location"))
				if v != nil {
					panic(v)
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter remembers the status written through it. It implements
// Unwrap, so http.ResponseController still reaches Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status before passing it on.
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records 200 when no status was set (as net/http does), then passes the bytes on.
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap exposes the wrapped ResponseWriter to http.ResponseController.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// outcomeOf reads an audit outcome from a response status.
func outcomeOf(status int) string {
	switch {
	case status == 0 || status < 400:
		return store.OutcomeOK
	case status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return store.OutcomeDenied
	case status >= 500:
		return store.OutcomeError
	}
	return store.OutcomeFailed
}

// handleAdmin sends GET /admin to the users page.
func (h *handler) handleAdmin(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// handleUsers renders GET /admin/users.
func (h *handler) handleUsers(w http.ResponseWriter, r *http.Request) {
	h.renderUsers(w, r, http.StatusOK, views.UsersProps{})
}

func (h *handler) renderUsers(w http.ResponseWriter, r *http.Request, status int, p views.UsersProps) {
	users, err := h.store.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Users, p.Me = users, h.actor(r)
	h.render(w, r, status, views.UsersPage(p))
}

// handleUserCreate adds a user (POST /admin/users: name, role) with a
// generated password, shown once in this response. It renders rather than
// redirects because the password must not travel through the session.
func (h *handler) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	p := views.UsersProps{NewName: name, NewRole: r.PostFormValue("role")}
	role, err := store.ParseRole(p.NewRole)
	if err == nil {
		err = store.ValidateUserName(name)
	}
	if reason, ok := invalid(err); ok {
		p.Problem = sentence(reason)
		h.renderUsers(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pw := store.GeneratePassword()
	u, err := h.store.CreateUser(r.Context(), name, role, pw)
	if errors.Is(err, store.ErrConflict) {
		h.audit(r, store.ActionUserCreate, name, store.OutcomeFailed, "name taken")
		p.Problem = "A user called " + strconv.Quote(name) + " already exists."
		h.renderUsers(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	if err != nil {
		h.audit(r, store.ActionUserCreate, name, store.OutcomeError, "")
		h.fail(w, r, err)
		return
	}
	h.audit(r, store.ActionUserCreate, u.Name, store.OutcomeOK, "role "+string(u.Role))
	h.renderUsers(w, r, http.StatusOK, views.UsersProps{OneTime: &views.OneTimePassword{User: u.Name,
		Password: string(pw), Created: true}})
}

// handleUserRole changes a user's role (POST /admin/users/{name}/role).
// The change applies to the user's open sessions at their next request.
func (h *handler) handleUserRole(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	role, err := store.ParseRole(r.PostFormValue("role"))
	if reason, ok := invalid(err); ok {
		h.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersProps{Problem: sentence(reason)})
		return
	}
	before, err := h.store.UserByName(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.store.SetRole(r.Context(), name, role)
	if h.userChangeFailed(w, r, store.ActionUserRole, name, err) {
		return
	}
	h.audit(r, store.ActionUserRole, u.Name, store.OutcomeOK, string(before.Role)+" → "+string(u.Role))
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// handleUserDisable disables a user and ends their sessions
// (POST /admin/users/{name}/disable). Admins cannot disable themselves.
func (h *handler) handleUserDisable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.EqualFold(name, h.actor(r)) {
		h.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersProps{Problem: "You cannot disable your own account."})
		return
	}
	u, err := h.store.SetDisabled(r.Context(), name, true)
	if h.userChangeFailed(w, r, store.ActionUserDisable, name, err) {
		return
	}
	n, err := EndSessions(r.Context(), h.store, u.ID)
	if err != nil {
		// The epoch check still ends them at their next request.
		h.log.Warn("deleting a disabled user's sessions failed", "user", u.Name, "error", err)
	}
	h.audit(r, store.ActionUserDisable, u.Name, store.OutcomeOK, strconv.Itoa(n)+" sessions ended")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// handleUserEnable enables a user again (POST /admin/users/{name}/enable).
func (h *handler) handleUserEnable(w http.ResponseWriter, r *http.Request) {
	u, err := h.store.SetDisabled(r.Context(), r.PathValue("name"), false)
	if h.userChangeFailed(w, r, store.ActionUserEnable, r.PathValue("name"), err) {
		return
	}
	h.audit(r, store.ActionUserEnable, u.Name, store.OutcomeOK, "")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// handleUserPassword resets a user's password to a generated one, shown
// once in this response, and ends their sessions
// (POST /admin/users/{name}/password).
func (h *handler) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	pw := store.GeneratePassword()
	u, err := h.store.SetPassword(r.Context(), r.PathValue("name"), pw)
	if h.userChangeFailed(w, r, store.ActionUserPassword, r.PathValue("name"), err) {
		return
	}
	if _, err := EndSessions(r.Context(), h.store, u.ID); err != nil {
		h.log.Warn("deleting sessions after a password reset failed", "user", u.Name, "error", err)
	}
	h.audit(r, store.ActionUserPassword, u.Name, store.OutcomeOK, "reset; sessions ended")
	h.renderUsers(w, r, http.StatusOK, views.UsersProps{OneTime: &views.OneTimePassword{User: u.Name, Password: string(pw)}})
}

// userChangeFailed answers a failed user change and reports whether it
// did: the last admin is a problem shown on the page, anything else goes
// to fail.
func (h *handler) userChangeFailed(w http.ResponseWriter, r *http.Request, action, name string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrLastAdmin):
		h.audit(r, action, name, store.OutcomeFailed, "last admin")
		h.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersProps{
			Problem: "At least one enabled admin must remain: make another user admin first."})
	case errors.Is(err, store.ErrDirectoryManaged):
		h.audit(r, action, name, store.OutcomeFailed, "managed by the directory")
		h.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersProps{
			Problem: "The directory decides this user's role and password: change their groups or password there."})
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, r, err)
	default:
		h.audit(r, action, name, store.OutcomeError, "")
		h.fail(w, r, err)
	}
	return true
}

// sentence turns a lowercase error message into a sentence for people.
func sentence(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs) + "."
}

// auditPerPage is how many audit entries one page lists.
const auditPerPage = 100

// parseAuditQuery reads the audit filters from the URL.
func parseAuditQuery(r *http.Request) (views.AuditQuery, store.AuditFilter) {
	v := r.URL.Query()
	q := views.AuditQuery{Actor: strings.TrimSpace(v.Get("actor")), Action: v.Get("action"),
		Outcome: v.Get("outcome"), Target: strings.TrimSpace(v.Get("target"))}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q, store.AuditFilter{Actor: q.Actor, Action: q.Action, Outcome: q.Outcome, Target: q.Target}
}

// handleAudit renders GET /admin/audit: the audit log, newest first.
func (h *handler) handleAudit(w http.ResponseWriter, r *http.Request) {
	q, f := parseAuditQuery(r)
	f.Limit, f.Offset = auditPerPage, (q.Page-1)*auditPerPage
	entries, total, err := h.store.AuditEntries(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	actions, err := h.store.AuditActions(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.AuditPage(views.AuditProps{Entries: entries, Query: q, Actions: actions,
		Total: total, Page: q.Page, Pages: max(1, (total+auditPerPage-1)/auditPerPage)}))
}

// auditHeader is the column list of /admin/audit.csv.
var auditHeader = []string{"time", "actor", "client", "action", "target", "outcome", "detail", "request_id"}

// handleAuditExport streams GET /admin/audit.csv: every entry matching the
// filters, newest first, without holding them in memory.
func (h *handler) handleAuditExport(w http.ResponseWriter, r *http.Request) {
	_, f := parseAuditQuery(r)
	h.streamCSV(w, r, "audit", auditHeader, func(emit func([]string) error) error {
		return h.store.EachAuditEntry(r.Context(), f, func(e store.AuditEntry) error {
			return emit([]string{e.At.Format(time.RFC3339), e.Actor, e.Client, e.Action, e.Target, e.Outcome, e.Detail, e.RequestID})
		})
	})
}

// invalid returns the reason of a value a store validator refused: text
// written for the person who typed it, unlike other errors' text, which is
// never shown.
func invalid(err error) (string, bool) {
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return ie.Reason, true
	}
	return "", false
}
