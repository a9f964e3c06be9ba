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

// actor names who is making the request, for run and audit records: the
// signed-in user's name, or "" for nobody.
func (h *handler) actor(r *http.Request) string {
	u, _ := currentUser(r)
	if t, ok := currentToken(r); ok {
		// The API acts for the user, under the token's name.
		return u.Name + " (token " + t.Name + ")"
	}
	return u.Name
}

// can reports whether the request's user holds perm, for showing or hiding
// controls. Routes enforce permissions themselves (require, in routes.go).
func (h *handler) can(r *http.Request, perm permission) bool {
	u, ok := currentUser(r)
	return ok && u.Role.Allows(roleFor[perm])
}
