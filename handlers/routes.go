package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"wsusfix/static"
	"wsusfix/store"
	"wsusfix/store/run"
)

// routes lists the whole surface at a glance. Every route but /healthz,
// /static and sign-in sits in a group that requires a role: viewer
// (permView), operator (permRepair) or admin (permAdmin). A new route goes
// into the group of the role it needs, and into the decision table of
// authz_test.go, which fails for a route it does not know.
func (h *handler) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, h.accessLog, h.recoverer, securityHeaders)
	if h.secureCookies {
		r.Use(hsts)
	}
	// HEAD wherever GET works (and never a body, even on a refusal),
	// bounded input, and no cross-site state change: before any handler,
	// and before a session is read.
	r.Use(headWithoutBody, h.limitInput(r), h.crossOrigin)
	// A missing page still shows who is signed in.
	r.NotFound(h.sessions.LoadAndSave(h.loadUser(http.HandlerFunc(h.handleNotFound))).ServeHTTP)
	r.MethodNotAllowed(h.handleMethodNotAllowed)
	pageTimeout := middleware.Timeout(30 * time.Second) // never around streams

	// Public, and no session is read or written.
	r.Get("/healthz", h.handleHealthz)
	// Prometheus with the metrics token; never a session or a user's token.
	r.With(pageTimeout).Get("/metrics", h.handleMetrics)
	r.Handle("/static/*", http.StripPrefix("/static/", static.Handler()))

	// The API: a token in the Authorization header, never a session.
	r.Route("/api/v1", func(r chi.Router) {
		r.With(pageTimeout).Get("/openapi.json", h.handleOpenAPI)
		r.Group(func(r chi.Router) {
			r.Use(h.bearer)
			r.Group(func(r chi.Router) {
				r.Use(h.require(permView))
				r.Group(func(r chi.Router) {
					r.Use(pageTimeout)
					r.Get("/hosts", h.handleAPIHosts)
					r.Get("/hosts/{name}", h.handleAPIHost)
					r.Get("/hosts/{name}/history", h.handleAPIHistory)
					r.Get("/runs", h.handleAPIRuns)
					r.Get("/runs/{id}", h.handleAPIRun)
					r.Get("/runs/{id}/events", h.handleAPIRunEvents)
					r.Get("/batches", h.handleAPIBatches)
					r.Get("/batches/{id}", h.handleAPIBatch)
					r.With(h.audited(store.ActionExport, queryTarget)).Get("/reports/{list:compliance|activity|codes}", h.handleAPIReport)
				})
				// The same stream the run page follows; long-lived, no timeout.
				r.Get("/runs/{id}/stream", h.handleRunEvents)
			})
			r.Group(func(r chi.Router) {
				r.Use(h.require(permRepair), pageTimeout)
				r.With(h.audited(store.ActionRepairStart, repairTarget), h.freshRole(permRepair)).Post("/hosts/{name}/runs", h.handleAPIStartRun)
				r.With(h.audited(store.ActionRepairCancel, prefixed("run ", "id"))).Post("/runs/{id}/cancel", h.handleAPICancelRun)
				r.With(h.audited(store.ActionRepairBulk, bulkTarget), h.freshRole(permRepair)).Post("/batches", h.handleAPIStartBatch)
			})
			r.Group(func(r chi.Router) {
				r.Use(h.require(permAdmin), pageTimeout)
				r.Get("/sync", h.handleAPISync)
				r.With(h.audited(store.ActionSyncStart, syncTarget)).Post("/sync", h.handleAPISyncStart)
			})
		})
	})

	r.Group(func(r chi.Router) {
		r.Use(h.sessions.LoadAndSave, h.loadUser)
		r.With(pageTimeout).Get("/login", h.handleLoginForm)
		r.With(pageTimeout).Post("/login", h.handleLogin)
		r.With(pageTimeout).Post("/logout", h.handleLogout)

		// Viewers see everything and export.
		r.Group(func(r chi.Router) {
			r.Use(h.require(permView))
			r.Group(func(r chi.Router) {
				r.Use(pageTimeout)
				r.With(h.cachedPages).Get("/", h.handleTriageList)
				r.Get("/hosts", h.handleHostList)
				r.With(h.cachedPages).Get("/hosts/{name}", h.handleHostShow)
				r.Get("/runs", h.handleRunList)
				r.Get("/runs/{id}", h.handleRunShow)
				r.Get("/batches", h.handleBatchList)
				r.Get("/batches/{id}", h.handleBatchShow)
				r.Get("/reports", h.handleReports)
				r.Get("/profile", h.handleProfile)
				r.With(h.audited(store.ActionTokenCreate, func(r *http.Request) string { return "token " + r.PostFormValue("name") })).
					Post("/profile/tokens", h.handleTokenCreate)
				r.With(h.audited(store.ActionTokenRevoke, prefixed("token ", "id"))).Post("/profile/tokens/{id}/revoke", h.handleTokenRevoke)
			})
			// Long-lived: no Timeout middleware; ends with the client, the run or shutdown.
			r.Get("/runs/{id}/events", h.handleRunEvents)
			r.Get("/batches/{id}/events", h.handleBatchEvents)
			// Streams rows as they are read: no page-sized timeout.
			r.With(h.audited(store.ActionExport, queryTarget)).Get("/export/hosts.{format:csv|xlsx|json}", h.handleExportHosts)
			r.With(h.audited(store.ActionExport, queryTarget)).Get("/export/runs.{format:csv|xlsx|json}", h.handleExportRuns)
			r.With(h.audited(store.ActionExport, queryTarget)).Get("/hosts/{name}/history.{format:csv|xlsx|json}", h.handleExportHistory)
			r.With(h.audited(store.ActionExport, queryTarget)).Get("/reports/{list:compliance|activity|codes}.{format:csv|xlsx|json}", h.handleReportExport)
		})

		// Operators also repair, cancel and refresh history.
		r.Group(func(r chi.Router) {
			r.Use(h.require(permRepair), pageTimeout)
			r.Get("/repairs/new", h.handleRepairNew)                 // the confirmation step of a bulk repair
			r.Get("/hosts/{name}/repair", h.handleHostRepairConfirm) // and of a single host's
			// Starting a run asks the directory again (freshRole): a role
			// taken away there stops repairs now, not at the session's end.
			r.With(h.audited(store.ActionRepairStart, repairTarget), h.freshRole(permRepair)).Post("/hosts/{name}/repair", h.handleHostRepair)
			r.With(h.audited(store.ActionHistoryReload, pathTarget("name")), h.freshRole(permRepair)).Post("/hosts/{name}/refresh", h.handleHostRefresh)
			r.With(h.audited(store.ActionRepairCancel, prefixed("run ", "id"))).Post("/runs/{id}/cancel", h.handleRunCancel)
			r.With(h.audited(store.ActionRepairBulk, bulkTarget), h.freshRole(permRepair)).Post("/repairs", h.handleRepairCreate)
			r.With(h.audited(store.ActionRepairBulk, prefixed("re-run of batch ", "id")), h.freshRole(permRepair)).
				Post("/batches/{id}/rerun", h.handleBatchRerun)
			r.With(h.audited(store.ActionRepairCancel, prefixed("batch ", "id"))).Post("/batches/{id}/cancel", h.handleBatchCancel)
		})

		// Admins also manage users and settings, and read the audit log.
		r.Group(func(r chi.Router) {
			r.Use(h.require(permAdmin))
			r.Group(func(r chi.Router) {
				r.Use(pageTimeout)
				r.Get("/admin", h.handleAdmin)
				r.Get("/admin/users", h.handleUsers)
				r.Post("/admin/users", h.handleUserCreate)
				r.Post("/admin/users/{name}/role", h.handleUserRole)
				r.Post("/admin/users/{name}/disable", h.handleUserDisable)
				r.Post("/admin/users/{name}/enable", h.handleUserEnable)
				r.Post("/admin/users/{name}/password", h.handleUserPassword)
				r.Get("/admin/settings", h.handleSettings)
				r.Post("/admin/settings", h.handleSettingsSave)
				r.Get("/admin/audit", h.handleAudit)
				r.Get("/admin/sync", h.handleSync)
				r.Get("/admin/syncs/{id}", h.handleSyncShow)
				r.With(h.audited(store.ActionSyncStart, syncTarget)).Post("/admin/sync", h.handleSyncStart)
				r.With(h.audited(store.ActionSettings, func(*http.Request) string { return "critical groups" })).
					Post("/admin/critical-groups", h.handleCriticalGroups)
			})
			r.With(h.audited(store.ActionExport, queryTarget)).Get("/admin/audit.csv", h.handleAuditExport)
		})
	})
	return r
}

// queryTarget audits an export by its path and filters.
func queryTarget(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return r.URL.Path
	}
	return r.URL.Path + "?" + r.URL.RawQuery
}

// repairTarget audits a single-host run by host name, noting a check.
func repairTarget(r *http.Request) string {
	if p := r.PostFormValue("procedure"); p != "" && run.Procedure(p) != run.ProcedureRepair {
		return r.PathValue("name") + " (" + p + ")"
	}
	return r.PathValue("name")
}

// bulkTarget audits a bulk repair by the hosts it names or its filter.
func bulkTarget(r *http.Request) string {
	if hosts := r.PostForm["host"]; len(hosts) > 0 {
		t := strconv.Itoa(len(hosts)) + " hosts: " + strings.Join(hosts[:min(len(hosts), 5)], ", ")
		if len(hosts) > 5 {
			t += ", …"
		}
		return t
	}
	return "filter " + r.URL.RawQuery + " " + r.PostForm.Encode()
}

// syncTarget audits "Sync now" by its kind.
func syncTarget(r *http.Request) string {
	if r.PostFormValue("full") == "1" {
		return "full reconcile"
	}
	return "incremental"
}

// pathTarget audits a route by one path value (a host's name).
func pathTarget(key string) func(*http.Request) string {
	return func(r *http.Request) string { return r.PathValue(key) }
}

// prefixed audits a route by a path value with a prefix ("run 42").
func prefixed(prefix, key string) func(*http.Request) string {
	return func(r *http.Request) string { return prefix + r.PathValue(key) }
}
