package handlers

import "net/http"

// permission is what a request may do; roles grant permissions.
type permission int

// Permissions, from least to most.
const (
	permView   permission = iota // see everything, export
	permRepair                   // start and cancel runs
	permAdmin                    // users, settings, audit log
)

// actor names who is making the request, for run and audit records.
// Until sign-in exists every request is the local operator.
func (h *handler) actor(r *http.Request) string { return "local" }

// can reports whether the request's user holds perm. Until roles exist,
// everyone may view and repair, and no one administers.
func (h *handler) can(r *http.Request, perm permission) bool { return perm != permAdmin }
