package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"wsusfix/store"
	"wsusfix/views"
)

// badRequest is a problem with the request itself; its message is safe to
// show because the handler wrote it for people.
type badRequest struct{ msg string }

// Error returns the message.
func (e badRequest) Error() string { return e.msg }

// fail is the one place an error becomes an answer. It logs once, here,
// and shows a safe message; err.Error() never reaches the client.
//
// The API (any path under /api/) gets the same words as an RFC 9457
// problem document; so do refusals there made before a token is read
// (limitInput), and whatever shared code (exports, report lists, event
// streams) fails while serving it.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := h.classify(r, err)
	if !ok {
		return
	}
	if isAPI(r) {
		d := problemDoc{Type: "about:blank", Title: p.Title, Status: p.Status, Detail: p.Message, Instance: r.URL.Path}
		if p.Ref != "" {
			d.Detail += " (reference " + p.Ref + ")"
		}
		d.Link = p.Link
		h.writeProblem(w, r, d)
		return
	}
	h.render(w, r, p.Status, views.ErrorPage(p))
}

// isAPI reports whether r is a call of the API, answered in JSON.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// classify turns err into what the client is told, and logs it once. It
// reports false when there is no one left to tell (the client went away).
func (h *handler) classify(r *http.Request, err error) (views.ErrorProps, bool) {
	ref := requestIDFrom(r.Context())
	p := views.ErrorProps{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "The server could not complete this request.", Ref: ref}
	var br badRequest
	var big tooLarge
	var unsup unsupportedBody
	var longPath pathTooLong
	var un unavailable
	var active *store.ActiveRunError
	level := slog.LevelError
	switch {
	case errors.As(err, &active):
		p = views.ErrorProps{Status: http.StatusConflict, Title: "Already running",
			Message: "This host already has a run in progress; wait for it to end or cancel it.",
			Link:    string(views.RunHref(active.RunID)), LinkFor: fmt.Sprintf("Follow run #%d", active.RunID)}
		level = slog.LevelDebug
	case errors.As(err, &un):
		p = views.ErrorProps{Status: http.StatusServiceUnavailable, Title: "Not available", Message: un.msg}
		level = slog.LevelWarn
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		h.log.Debug("client went away", "route", routePattern(r), "request_id", ref)
		return p, false
	case errors.Is(err, store.ErrNotFound):
		p = views.ErrorProps{Status: http.StatusNotFound, Title: "Not found",
			Message: "There is nothing at this address. The host may have been renamed or removed from the inventory."}
		level = slog.LevelDebug
	case errors.As(err, &big):
		p = views.ErrorProps{Status: http.StatusRequestEntityTooLarge, Title: "Too large",
			Message: fmt.Sprintf("This request is larger than this address accepts (%s).", sizeWords(big.limit))}
		level = slog.LevelWarn
	case errors.As(err, &unsup):
		p = views.ErrorProps{Status: http.StatusUnsupportedMediaType, Title: "Not accepted",
			Message: "This address accepts only an ordinary form; uploads (multipart) and other formats are refused."}
		level = slog.LevelWarn
	case errors.As(err, &longPath):
		p = views.ErrorProps{Status: http.StatusRequestURITooLong, Title: "Address too long",
			Message: "This address is longer than any page of this site."}
		level = slog.LevelDebug
	case errors.As(err, &br):
		p = views.ErrorProps{Status: http.StatusBadRequest, Title: "Bad request", Message: br.msg}
		level = slog.LevelDebug
	case errors.Is(err, store.ErrFilterTooLong):
		// limitInput refuses long values first with a precise message;
		// this answers any path that reaches the store another way.
		p = views.ErrorProps{Status: http.StatusBadRequest, Title: "Bad request", Message: "A filter is too long; shorten it."}
		level = slog.LevelWarn
	case errors.Is(err, store.ErrConflict):
		p = views.ErrorProps{Status: http.StatusConflict, Title: "Conflict", Message: "That conflicts with what is already stored."}
		level = slog.LevelWarn
	case errors.Is(err, context.DeadlineExceeded):
		p = views.ErrorProps{Status: http.StatusGatewayTimeout, Title: "Timed out",
			Message: "The request took too long. Try again, or narrow the filters.", Ref: ref}
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "request failed", "method", r.Method, "route", routePattern(r),
		"status", p.Status, "request_id", ref, "error", err)
	return p, true
}

// sizeWords says a body limit for people: "no body", "8 KB".
func sizeWords(n int64) string {
	if n == 0 {
		return "no body"
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// handleNotFound renders the 404 page for unknown paths: signed in as the
// user is (routes.go loads the session for it), and without the renamed-
// host hint, which only fits a host that is gone.
func (h *handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	h.log.Debug("no route", "path_len", len(r.URL.Path), "request_id", requestIDFrom(r.Context()))
	if isAPI(r) {
		h.problem(w, r, http.StatusNotFound, "Not found", "There is no API call at this address; see /api/v1/openapi.json.")
		return
	}
	h.render(w, r, http.StatusNotFound, views.ErrorPage(views.ErrorProps{Status: http.StatusNotFound, Title: "Not found",
		Message: "There is no page at this address.", Link: "/", LinkFor: "Failing hosts"}))
}

// handleMethodNotAllowed answers 405 with an Allow-less plain page.
func (h *handler) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		h.problem(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept that kind of request.")
		return
	}
	h.render(w, r, http.StatusMethodNotAllowed, views.ErrorPage(views.ErrorProps{
		Status: http.StatusMethodNotAllowed, Title: "Method not allowed",
		Message: "This address does not accept that kind of request."}))
}
