package handlers

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"wsusfix/static"
)

// routes lists the whole surface at a glance.
func (h *handler) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, h.accessLog, h.recoverer, securityHeaders)
	r.NotFound(h.handleNotFound)
	r.MethodNotAllowed(h.handleMethodNotAllowed)

	r.Get("/healthz", h.handleHealthz)
	r.Handle("/static/*", http.StripPrefix("/static/", static.Handler()))

	r.Group(func(r chi.Router) {
		r.Use(middleware.Timeout(30 * time.Second))
		r.Get("/", h.handleTriageList)
		r.Get("/hosts/{name}", h.handleHostShow)
		r.Post("/hosts/{name}/repair", h.handleHostRepair)
		r.Get("/runs", h.handleRunList)
		r.Get("/runs/{id}", h.handleRunShow)
		r.Post("/runs/{id}/cancel", h.handleRunCancel)
		r.Get("/repairs/new", h.handleRepairNew)
		r.Post("/repairs", h.handleRepairCreate)
		r.Get("/batches/{id}", h.handleBatchShow)
		r.Post("/batches/{id}/rerun", h.handleBatchRerun)
	})
	// Long-lived: no Timeout middleware; ends with the client, the run or shutdown.
	r.Get("/runs/{id}/events", h.handleRunEvents)
	// Streams rows as they are read: no page-sized timeout.
	r.Get("/export/hosts.csv", h.handleExportHosts)

	return http.NewCrossOriginProtection().Handler(r)
}
