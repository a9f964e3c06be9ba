package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

// Request bodies: sign-in a few KB, the other forms 64 KB; a route not
// listed in bodyLimits takes no body at all.
const (
	loginBody int64 = 8 << 10
	formBody  int64 = 64 << 10
)

// bodyLimits is the largest body each route accepts, by "METHOD pattern".
// A route that is not listed accepts none, so a new route cannot take a
// body by accident; TestBodyLimits fails for a non-GET route missing here.
// The forms that are only a button send nothing and get 0.
var bodyLimits = map[string]int64{
	"POST /login":                       loginBody,
	"POST /logout":                      0,
	"POST /hosts/{name}/repair":         formBody,
	"POST /hosts/{name}/refresh":        formBody,
	"POST /batches/{id}/cancel":         formBody,
	"POST /runs/{id}/cancel":            0,
	"POST /repairs":                     formBody,
	"POST /batches/{id}/rerun":          0,
	"POST /admin/users":                 formBody,
	"POST /admin/users/{name}/role":     formBody,
	"POST /admin/users/{name}/disable":  0,
	"POST /admin/users/{name}/enable":   0,
	"POST /admin/users/{name}/password": 0,
	"POST /admin/settings":              formBody,
	"POST /admin/sync":                  formBody,
	"POST /admin/critical-groups":       formBody,
	"POST /api/v1/hosts/{name}/runs":    formBody,
	"POST /api/v1/runs/{id}/cancel":     0,
	"POST /api/v1/batches":              formBody,
	"POST /api/v1/sync":                 formBody,
	"POST /profile/tokens":              formBody,
	"POST /profile/tokens/{id}/revoke":  0,
}

// param is how people call a query or form parameter, and its longest
// value in characters.
type param struct {
	label string
	max   int
}

// params limits every query and form parameter the pages use; values are
// checked before any handler runs, so no page, export or stream sees a
// longer one. Names not listed here get otherParam.
var params = map[string]param{
	// Triage, bulk repair and exports.
	"q":         {"search", 200},
	"code":      {"error code", 32},
	"group":     {"group", 255},
	"host":      {"host name", 253},
	"sort":      {"sort column", 16},
	"dir":       {"sort direction", 4},
	"page":      {"page number", 9},
	"procedure": {"procedure", 16},
	"expect":    {"host count", 9},
	"back":      {"address to return to", 1024},
	// Runs and the audit log.
	"state":   {"state", 32},
	"who":     {"user name", 64},
	"from":    {"from date", 10},
	"to":      {"to date", 10},
	"actor":   {"actor", 64},
	"action":  {"action", 64},
	"outcome": {"outcome", 16},
	"target":  {"target", 200},
	"after":   {"event number", 19},
	// Sign-in, users and settings.
	"next":           {"return address", 2048},
	"username":       {"user name", 256},
	"password":       {"password", 1024},
	"name":           {"user name", 64},
	"role":           {"role", 16},
	"saved":          {"saved flag", 1},
	"winrm_user":     {"WinRM account", 256},
	"winrm_password": {"WinRM password", 1024},
	"winrm_auth":     {"authentication method", 16},
	"winrm_https":    {"HTTPS choice", 5},
	"winrm_port":     {"port", 5},
	// API paging and tokens.
	"cursor": {"cursor", 64},
	"batch":  {"batch number", 19},
	"limit":  {"page size", 4},
	"days":   {"days", 3},
	// Reports.
	"stale": {"stale days", 3},
	// The inventory sync page.
	"full":     {"full reconcile choice", 1},
	"busy":     {"busy flag", 1},
	"critical": {"saved flag", 5},
	"groups":   {"critical groups", 8 << 10},
}

// maxPath is the longest path, in bytes: room for a 253-character host
// name with its escapes and the action after it. Path values reach
// handlers and the audit log like parameters do.
const maxPath = 1024

// otherParam limits parameters no page uses; they are ignored, but still
// never reach a handler unbounded.
var otherParam = param{"parameter", 256}

// Request-shape errors, mapped to statuses in fail.
type (
	// tooLarge is a body over its route's limit (413).
	tooLarge struct{ limit int64 }
	// unsupportedBody is a body in a form the route does not read (415).
	unsupportedBody struct{ multipart bool }
	// pathTooLong is a path over maxPath bytes (414).
	pathTooLong struct{}
)

// Error says what was refused.
func (pathTooLong) Error() string { return fmt.Sprintf("path over %d bytes", maxPath) }

// Error says what was refused.
func (e tooLarge) Error() string { return fmt.Sprintf("request body over %d bytes", e.limit) }

// Error says what was refused.
func (e unsupportedBody) Error() string {
	if e.multipart {
		return "multipart request body"
	}
	return "request body is not a URL-encoded form"
}

// limitInput bounds what a request may carry before anything else reads
// it: the path to maxPath (414); the body to its route's entry in
// bodyLimits (refused with 413 from Content-Length alone when that says too
// much, so nothing is read); a body only as a URL-encoded form (multipart
// is refused with 415); and every query and form value to its entry in
// params (400). The form is parsed here, under the limit, so handlers never
// parse it again.
func (h *handler) limitInput(mux *chi.Mux) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path := r.URL.RawPath
			if path == "" {
				path = r.URL.Path
			}
			if len(path) > maxPath {
				h.fail(w, r, pathTooLong{})
				return
			}
			limit := bodyLimits[r.Method+" "+mux.Find(chi.NewRouteContext(), r.Method, path)]
			if err := readForm(w, r, limit); err != nil {
				var big tooLarge
				if errors.As(err, &big) {
					// Whatever is left of the body is not read: end the connection.
					w.Header().Set("Connection", "close")
				}
				h.fail(w, r, err)
				return
			}
			if err := checkParams(r.Form); err != nil {
				h.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// readForm parses r's query and, for a route that takes one, its form
// body, reading at most limit bytes of it.
func readForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return tooLarge{limit}
	}
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	if hasBody {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if limit == 0 {
			// Length unknown (chunked): one byte tells whether there is a body.
			var b [1]byte
			if n, err := r.Body.Read(b[:]); n > 0 || err != nil && !errors.Is(err, io.EOF) {
				return tooLarge{limit}
			}
		} else if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return unsupportedBody{multipart: mt == "multipart/form-data"}
		}
	}
	if err := r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return tooLarge{limit}
		}
		return badRequest{"The address or the form could not be read: it has a malformed parameter."}
	}
	if r.PostForm == nil {
		r.PostForm = url.Values{} // parsed: PostFormValue must not try multipart later
	}
	return nil
}

// checkParams refuses any value longer than its parameter's limit, naming
// the parameter and the limit.
func checkParams(v url.Values) error {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names) // the same request always gets the same message
	for _, name := range names {
		p, ok := params[name]
		if !ok {
			p = otherParam
			if utf8.RuneCountInString(name) > 64 {
				return badRequest{"A parameter name is longer than 64 characters."}
			}
			p.label = "The parameter " + strconv.Quote(name)
		} else {
			p.label = "The " + p.label
		}
		for _, s := range v[name] {
			if len(s) > p.max && utf8.RuneCountInString(s) > p.max {
				return badRequest{fmt.Sprintf("%s is longer than %d characters.", p.label, p.max)}
			}
		}
	}
	return nil
}
