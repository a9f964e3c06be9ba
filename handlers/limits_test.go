package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wsusfix/store/storetest"

	"github.com/go-chi/chi/v5"
)

// limitsApp is the real router over a fresh database.
func limitsApp(t *testing.T) (*handler, http.Handler) {
	t.Helper()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "limits.db"))
	h := newHandler(Deps{Logger: slog.New(slog.DiscardHandler), Store: st})
	return h, h.routes()
}

// chunked hides a reader's length, so the request goes out without
// Content-Length, as a chunked upload does.
type chunked struct{ io.Reader }

// TestBodyLimits ensures every route that changes state has a decided body
// limit (so a new one cannot take a body by accident), and that each route
// refuses one byte over its limit with 413, whether the client declares
// the length or not, while a body at the limit gets through.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	_, mux := limitsApp(t)
	seen := map[string]bool{}
	var keys []string
	err := chi.Walk(mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		key := method + " " + pattern
		keys = append(keys, key)
		seen[key] = true
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
			return nil
		}
		if _, ok := bodyLimits[key]; !ok && pattern != "/static/*" {
			t.Errorf("route %s has no body limit: add it to bodyLimits in limits.go (0 when it takes no body)", key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range bodyLimits {
		if !seen[key] {
			t.Errorf("bodyLimits lists %s, which the router does not serve", key)
		}
	}

	send := func(key string, body []byte, hideLength bool) int {
		method, pattern, _ := strings.Cut(key, " ")
		path := strings.NewReplacer("{name}", "ghost", "{id}", "999999", "*", "x").Replace(pattern)
		var rd io.Reader = bytes.NewReader(body)
		if hideLength {
			rd = chunked{rd}
		}
		req := httptest.NewRequest(method, path, rd)
		if hideLength {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	// "a=1&" repeated: a well-formed form of any length, no value over a limit.
	form := func(n int64) []byte { return bytes.Repeat([]byte("a=1&"), int(n/4)+1)[:n] }
	checked := 0
	for _, key := range keys {
		method, pattern, _ := strings.Cut(key, " ")
		if method == http.MethodConnect || method == http.MethodTrace || method == http.MethodHead {
			continue
		}
		limit := bodyLimits[key]
		for _, hide := range []bool{false, true} {
			if got := send(key, form(limit+1), hide); got != http.StatusRequestEntityTooLarge {
				t.Errorf("%s with %d bytes (length hidden %v): %d, want 413", key, limit+1, hide, got)
			}
			if limit > 0 {
				if got := send(key, form(limit), hide); got == http.StatusRequestEntityTooLarge {
					t.Errorf("%s with %d bytes, its limit (length hidden %v): 413", key, limit, hide)
				}
			}
		}
		if pattern != "/static/*" {
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d routes", checked)
	}
}

// TestBodyLimits_Forms ensures a body is read only as a URL-encoded form:
// multipart and other formats are refused with 415 where a form is
// expected, and an unreadable query is a 400, not a 500.
func TestBodyLimits_Forms(t *testing.T) {
	t.Parallel()
	_, mux := limitsApp(t)
	tests := []struct {
		name, method, target, ctype, body string
		want                              int
	}{
		{"multipart sign-in", "POST", "/login", "multipart/form-data; boundary=x",
			"--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nadmin\r\n--x--\r\n", http.StatusUnsupportedMediaType},
		{"multipart settings", "POST", "/admin/settings", "multipart/form-data; boundary=x", "--x--\r\n", http.StatusUnsupportedMediaType},
		{"JSON sign-in", "POST", "/login", "application/json", `{"username":"admin"}`, http.StatusUnsupportedMediaType},
		{"no type", "POST", "/repairs", "", "host=PC-1", http.StatusUnsupportedMediaType},
		{"form sign-in", "POST", "/login", "application/x-www-form-urlencoded", "username=admin&password=x", http.StatusUnauthorized},
		{"semicolon query", "GET", "/healthz?a=1;b=2", "", "", http.StatusBadRequest},
		{"bad escape", "GET", "/login?next=%zz", "", "", http.StatusBadRequest},
		{"bad form escape", "POST", "/login", "application/x-www-form-urlencoded", "username=%zz&password=x", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("%s %s: %d, want %d", tt.method, tt.target, rec.Code, tt.want)
			}
		})
	}
}

// TestParams ensures every listed parameter is refused one character over
// its limit with a 400 naming it and the limit, and passes at the limit;
// an unlisted parameter has a limit too.
func TestParams(t *testing.T) {
	t.Parallel()
	_, mux := limitsApp(t)
	get := func(v url.Values) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/login?"+v.Encode(), nil))
		return rec.Code, rec.Body.String()
	}
	for name, p := range params {
		code, body := get(url.Values{name: {strings.Repeat("é", p.max+1)}})
		want := p.label + " is longer than " + strconv.Itoa(p.max) + " characters"
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s over its limit: %d, want 400 saying %q", name, code, want)
		}
		if code, _ := get(url.Values{name: {strings.Repeat("é", p.max)}}); code == http.StatusBadRequest {
			t.Errorf("%s at its limit (%d characters): 400", name, p.max)
		}
	}
	if code, body := get(url.Values{"unheard_of": {strings.Repeat("x", otherParam.max+1)}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "is longer than 256 characters") {
		t.Errorf("an unlisted parameter over 256 characters: %d", code)
	}
}

// TestPathLimit ensures a path over maxPath bytes is refused with 414
// before routing, while the longest host name's pages are well inside it.
func TestPathLimit(t *testing.T) {
	t.Parallel()
	_, mux := limitsApp(t)
	label := strings.Repeat("é", 31) // 62 bytes, 186 once escaped
	name := strings.Join([]string{label, label, label, label}, ".")
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/hosts/" + strings.Repeat("a", maxPath), http.StatusRequestURITooLong},
		{"POST", "/hosts/" + strings.Repeat("a", maxPath) + "/repair", http.StatusRequestURITooLong},
		{"GET", "/hosts/" + url.PathEscape(name), http.StatusSeeOther},
		{"POST", "/hosts/" + url.PathEscape(strings.Repeat("a", 253)) + "/repair", http.StatusSeeOther},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %.40s… (%d bytes): %d, want %d", tt.method, tt.path, len(tt.path), rec.Code, tt.want)
		}
	}
}
