// Package handlers is wsusfix's whole HTTP surface: routes, one file per
// resource, the single error-to-status mapping, and middleware. It reads
// through *store.Store, decodes codes with remote/hresult, and renders
// views; it never writes internal error text to a response.
package handlers

import (
	"log/slog"
	"net/http"

	"wsusfix/store"
)

// Deps are the collaborators the HTTP layer needs. All fields are required.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
}

type handler struct {
	log   *slog.Logger
	store *store.Store
}

// New returns the application's root HTTP handler.
func New(d Deps) http.Handler {
	h := &handler{log: d.Logger, store: d.Store}
	return h.routes()
}
