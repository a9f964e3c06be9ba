package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

type ctxKey int

const requestIDKey ctxKey = iota

// requestID gives every request a random ID, returned in X-Request-ID and
// shown on error pages so a user's report can be matched to the log.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// requestIDFrom returns the request's ID, or "" outside a request.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// routePattern is the matched chi pattern, which keeps log cardinality low.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return rc.RoutePattern()
	}
	return "unmatched"
}

// accessLog writes one line per request with the route pattern, not the
// raw path, and never the query string (it may hold search text).
func (h *handler) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		took, route, status := time.Since(start), routePattern(r), ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		h.log.Log(r.Context(), h.accessLvl, "request", "method", r.Method, "route", route, "status", status,
			"bytes", ww.BytesWritten(), "duration_ms", took.Milliseconds(),
			"request_id", requestIDFrom(r.Context()))
		// An event stream lasts as long as its watcher: its duration says
		// nothing about the server's speed.
		h.metrics.Request(route, r.Method, status, took, strings.HasSuffix(route, "/events"))
	})
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func (h *handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// csp allows only same-origin scripts, styles and images: no inline script,
// no plugins, no framing, no base-tag tricks.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// headWithoutBody lets HEAD through to the GET handler (chi's GetHead
// routes it there) and drops whatever that handler writes, so a HEAD
// answer has GET's status and headers and never a body, whoever serves it.
// Handlers that would otherwise work at length (exports, event streams)
// stop after the headers for HEAD.
func headWithoutBody(next http.Handler) http.Handler {
	get := middleware.GetHead(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w = headWriter{w}
		}
		get.ServeHTTP(w, r)
	})
}

// headWriter discards the body of a HEAD response. It implements Unwrap,
// so http.ResponseController still reaches Flush and deadlines.
type headWriter struct{ http.ResponseWriter }

// Write discards p, reporting it written.
func (headWriter) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap exposes the wrapped ResponseWriter to http.ResponseController.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
