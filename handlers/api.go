package handlers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/secret"
	"wsusfix/views"
)

// The API (/api/v1) answers JSON to scripts that present an API token as
// "Authorization: Bearer …": no cookie is read or set, so no browser can
// be made to call it cross-site. Its permissions are the pages' (require's
// roleFor), its errors the pages' words as RFC 9457 problem documents, and
// what it changes is audited under the token's name. Bodies, where a call
// takes one, are URL-encoded forms (what Invoke-RestMethod -Body @{…} and
// curl -d send).

type tokenKey struct{}

// currentToken is the API token the request came with, set by bearer.
func currentToken(r *http.Request) (store.Token, bool) {
	t, ok := r.Context().Value(tokenKey{}).(store.Token)
	return t, ok
}

// bearer signs an API request in with its token. A missing or refused
// token is 401, with the same answer whatever was wrong.
func (h *handler) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		presented, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || presented == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsusfix"`)
			h.problem(w, r, http.StatusUnauthorized, "Sign-in required", "Send an API token as Authorization: Bearer <token>; make one on your profile page.")
			return
		}
		u, t, err := h.store.AuthenticateToken(r.Context(), secret.Secret(strings.TrimSpace(presented)))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsusfix", error="invalid_token"`)
			if !errors.Is(err, store.ErrTokenRefused) {
				h.fail(w, r, err)
				return
			}
			h.log.Info("api token refused", "route", routePattern(r), "request_id", requestIDFrom(r.Context()))
			h.tokenRefused(w, r)
			return
		}
		if u.Source == store.SourceDirectory {
			var ok bool
			if u, ok = h.recheckTokenUser(r, u); !ok {
				h.tokenRefused(w, r)
				return
			}
			u = tokenRole(u, t)
		}
		ctx := context.WithValue(r.Context(), userKey{}, u)
		ctx = context.WithValue(ctx, tokenKey{}, t)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// tokenRefused is the one answer to a token that does not sign in,
// whatever was wrong with it, so the answer tells an attacker nothing.
func (h *handler) tokenRefused(w http.ResponseWriter, r *http.Request) {
	h.problem(w, r, http.StatusUnauthorized, "Token refused", "The token is unknown, revoked or expired, or its user is disabled.")
}

// tokenRole is u acting through t: a token's role is at most its user's.
// The store's AuthenticateToken applies it too; a directory re-check,
// which reads the user's role as stored, gives it back uncapped.
func tokenRole(u store.User, t store.Token) store.User {
	if !t.Role.Allows(u.Role) {
		u.Role = t.Role
	}
	return u
}

// recheckTokenUser asks the directory again about a directory user who
// signs in with a token, once per re-check interval, as a session's user
// is asked (refreshDirectoryRole): without it, someone taken out of every
// group would keep the API until their token expired. ok is false when the
// directory no longer admits u; recheck has then ended their sessions and
// revoked their tokens. When the directory cannot answer, u keeps the role
// last confirmed.
func (h *handler) recheckTokenUser(r *http.Request, u store.User) (store.User, bool) {
	if h.dir == nil || !h.tokenChecks.due(u.ID, h.dirRecheck) {
		return u, true
	}
	return h.recheckRole(r, u)
}

// checkTimes remembers when each user was last asked about, for checks
// that a session cannot carry (a token has none).
type checkTimes struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

// due reports whether id was last checked every or longer ago, and if
// so counts it as checked now. The map holds one entry per user.
func (c *checkTimes) due(id int64, every time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.last[id]) < every {
		return false
	}
	if c.last == nil {
		c.last = map[int64]time.Time{}
	}
	c.last[id] = time.Now()
	return true
}

// problemDoc is an RFC 9457 problem document.
type problemDoc struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Link     string `json:"link,omitempty"` // a resource that helps, such as the run already active
}

// problem writes a problem document.
func (h *handler) problem(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	h.writeProblem(w, r, problemDoc{Type: "about:blank", Title: title, Status: status, Detail: detail, Instance: r.URL.Path})
}

func (h *handler) writeProblem(w http.ResponseWriter, r *http.Request, p problemDoc) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(p)
	}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// API paging: an opaque cursor (today it holds an offset; clients must
// pass it back as given) and a page size.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 1000
)

// apiPage reads ?cursor= and ?limit=.
func apiPage(r *http.Request) (offset, limit int, err error) {
	limit = apiDefaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > apiMaxLimit {
			return 0, 0, badRequest{"limit must be a number from 1 to " + strconv.Itoa(apiMaxLimit) + "."}
		}
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, derr := base64.RawURLEncoding.DecodeString(c)
		if derr == nil {
			offset, derr = strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		}
		if derr != nil || offset < 0 || !strings.HasPrefix(string(b), "o:") {
			return 0, 0, badRequest{"The cursor is not one this server gave; start again without it."}
		}
	}
	return offset, limit, nil
}

// nextCursor is the cursor of the page after one of n rows at offset, or
// "" at the end.
func nextCursor(offset, limit, n, total int) string {
	if n < limit || offset+n >= total {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+n)))
}

// apiFailure is a host's failure as the API shows it.
type apiFailure struct {
	KB            string    `json:"kb"`
	Title         string    `json:"title"`
	HResult       string    `json:"hresult"`
	Symbol        string    `json:"symbol"`
	Meaning       string    `json:"meaning"`
	Action        string    `json:"suggested_action"`
	RepairApplies bool      `json:"kb910336_applies"`
	At            time.Time `json:"failed_at"`
}

// apiHost is a host as the API shows it.
type apiHost struct {
	Name       string      `json:"name"`
	FQDN       string      `json:"fqdn"`
	Address    string      `json:"address,omitempty"`
	OS         string      `json:"os"`
	OSBuild    string      `json:"os_build"`
	Group      string      `json:"group"`  // the primary WSUS group
	Groups     []string    `json:"groups"` // every WSUS group, the primary first
	State      string      `json:"state"`
	LastReport *time.Time  `json:"last_report,omitempty"`
	Gone       bool        `json:"gone_from_wsus"`
	Failure    *apiFailure `json:"failure"`
}

func toAPIHost(h store.Host) apiHost {
	a := apiHost{Name: h.Name, FQDN: h.FQDN, Address: h.Address, OS: h.OSCaption, OSBuild: h.OSBuild, Group: h.Group,
		Groups: h.AllGroups(), State: string(h.State), Gone: !h.GoneAt.IsZero()}
	if a.Groups == nil {
		a.Groups = []string{}
	}
	if !h.LastReportAt.IsZero() {
		t := h.LastReportAt
		a.LastReport = &t
	}
	if h.Failure != nil {
		d := decode(h.Failure.HResult)
		a.Failure = &apiFailure{KB: h.Failure.KB, Title: h.Failure.Title, HResult: d.Code, Symbol: d.Symbol,
			Meaning: d.Meaning, Action: d.Action, RepairApplies: d.RepairApplies, At: h.Failure.At}
	}
	return a
}

// apiRun is a run as the API shows it.
type apiRun struct {
	ID          int64      `json:"id"`
	Host        string     `json:"host"`
	Procedure   string     `json:"procedure"`
	Batch       int64      `json:"batch,omitempty"`
	State       string     `json:"state"`
	Outcome     string     `json:"outcome,omitempty"`
	Summary     string     `json:"summary,omitempty"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Page        string     `json:"page"` // the run's page in the dashboard
}

func toAPIRun(rn store.Run) apiRun {
	a := apiRun{ID: rn.ID, Host: rn.HostName, Procedure: string(rn.Procedure), Batch: rn.BatchID, State: string(rn.State),
		Outcome: string(rn.Outcome), Summary: rn.Summary, RequestedBy: rn.RequestedBy, CreatedAt: rn.CreatedAt,
		Page: string(views.RunHref(rn.ID))}
	if !rn.StartedAt.IsZero() {
		t := rn.StartedAt
		a.StartedAt = &t
	}
	if !rn.FinishedAt.IsZero() {
		t := rn.FinishedAt
		a.FinishedAt = &t
	}
	return a
}

// handleAPIHosts answers GET /api/v1/hosts: the failing hosts under
// triage's filters (code, group, q, sort, dir), a page at a time.
func (h *handler) handleAPIHosts(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseTriageQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, limit, err := apiPage(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.store.FailureCounts(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	total := f.Matching(counts)
	f.Limit, f.Offset = limit, offset
	hosts, err := h.store.FailingHosts(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]apiHost, len(hosts))
	for i, host := range hosts {
		out[i] = toAPIHost(host)
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"hosts": out, "total": total, "next_cursor": nextCursor(offset, limit, len(hosts), total)})
}

// handleAPIHost answers GET /api/v1/hosts/{name}: one host, any state.
func (h *handler) handleAPIHost(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, toAPIHost(host))
}

// apiEvent is a history entry as the API shows it.
type apiEvent struct {
	At        time.Time `json:"time"`
	KB        string    `json:"kb"`
	Title     string    `json:"title"`
	Operation string    `json:"operation"`
	Result    string    `json:"result"`
	HResult   string    `json:"hresult"`
	Symbol    string    `json:"symbol"`
	Source    string    `json:"source"`
	UpdateID  string    `json:"update_id"`
}

// handleAPIHistory answers GET /api/v1/hosts/{name}/history, newest first.
func (h *handler) handleAPIHistory(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, limit, err := apiPage(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, total, err := h.store.History(r.Context(), host.ID, limit, offset)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]apiEvent, len(events))
	for i, e := range events {
		d := decode(e.HResult)
		out[i] = apiEvent{At: e.At, KB: e.KB, Title: e.Title, Operation: e.Operation, Result: string(e.Result),
			HResult: d.Code, Symbol: d.Symbol, Source: e.Source, UpdateID: e.UpdateID}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"history": out, "total": total, "next_cursor": nextCursor(offset, limit, len(events), total)})
}

// handleAPIRuns answers GET /api/v1/runs under the runs list's filters
// (host, state, who, from, to, code), newest first.
func (h *handler) handleAPIRuns(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseRunsQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, limit, err := apiPage(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Limit, f.Offset = limit, offset
	runs, total, err := h.store.Runs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]apiRun, len(runs))
	for i, rn := range runs {
		out[i] = toAPIRun(rn)
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"runs": out, "total": total, "next_cursor": nextCursor(offset, limit, len(runs), total)})
}

// handleAPIRun answers GET /api/v1/runs/{id}: the run and its steps.
func (h *handler) handleAPIRun(w http.ResponseWriter, r *http.Request) {
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.store.RunEvents(r.Context(), rn.ID, 0, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type step struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Duration string `json:"duration,omitempty"`
		Detail   string `json:"detail,omitempty"`
	}
	var steps []step
	for _, s := range views.BuildSteps(rn.Procedure.Steps(), events) {
		steps = append(steps, step{Name: s.Name, State: s.State, Duration: s.Duration, Detail: s.Detail})
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"run": toAPIRun(rn), "steps": steps})
}

// handleAPIRunEvents answers GET /api/v1/runs/{id}/events: the run's
// stored log as JSON, after ?after= (an event number).
func (h *handler) handleAPIRunEvents(w http.ResponseWriter, r *http.Request) {
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.store.RunEvents(r.Context(), rn.ID, lastEventID(r), 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]sseEvent, len(events))
	for i, ev := range events {
		out[i] = sseEvent{Seq: ev.Seq, Kind: ev.Kind, Step: ev.Step, Stream: ev.Stream, Text: ev.Text, Status: ev.Status,
			DurationMS: ev.DurationMS, Detail: ev.Detail, At: ev.At.UTC().Format(time.RFC3339Nano)}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"events": out, "active": rn.Active()})
}

// handleAPIStartRun answers POST /api/v1/hosts/{name}/runs (form field
// procedure: repair, check or history): 201 with the run, or the pages'
// 409 naming the run already active.
func (h *handler) handleAPIStartRun(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	procedure := run.Procedure(r.PostFormValue("procedure"))
	switch procedure {
	case run.ProcedureRepair, run.ProcedureCheck, run.ProcedureHistory:
	default:
		h.fail(w, r, badRequest{"procedure must be repair, check or history."})
		return
	}
	rn, err := h.startRun(r, host, procedure, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/runs/"+strconv.FormatInt(rn.ID, 10))
	writeJSON(w, r, http.StatusCreated, toAPIRun(rn))
}

// apiCancel is the answer to a cancel: the run as stored once the cancel
// was recorded. Cancelling is true while a running run is being stopped:
// the executor records it cancelled only once its host's services are
// restored, so until then its state is still running.
type apiCancel struct {
	apiRun
	Cancelling bool `json:"cancelling"`
}

// handleAPICancelRun answers POST /api/v1/runs/{id}/cancel: 202 while the
// run ends (its host's services restored), with the run after the cancel.
func (h *handler) handleAPICancelRun(w http.ResponseWriter, r *http.Request) {
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rn.Active() {
		h.cancelRun(r, rn)
		// The cancel may have ended the run already (a queued one, or one
		// no worker had): the client is told what it did, not what was.
		if rn, err = h.store.Run(r.Context(), rn.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	writeJSON(w, r, http.StatusAccepted, apiCancel{apiRun: toAPIRun(rn), Cancelling: rn.Active()})
}
