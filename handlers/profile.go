package handlers

import (
	"net/http"
	"strconv"
	"time"

	"wsusfix/store"
	"wsusfix/views"
)

// profileProps is the user's own page as it stands.
func (h *handler) profileProps(r *http.Request) (views.ProfileProps, error) {
	u, _ := currentUser(r)
	p := views.ProfileProps{User: u, Now: time.Now()}
	for _, role := range store.Roles {
		if u.Role.Allows(role) {
			p.Roles = append(p.Roles, role)
		}
	}
	var err error
	p.Tokens, err = h.store.Tokens(r.Context(), u.ID)
	return p, err
}

// handleProfile renders GET /profile: the user's API tokens.
func (h *handler) handleProfile(w http.ResponseWriter, r *http.Request) {
	p, err := h.profileProps(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.ProfilePage(p))
}

// handleTokenCreate handles POST /profile/tokens: a token for the user,
// its secret shown once on the page answered (never stored, logged or
// audited); a refused one is shown again with the reason, 422.
func (h *handler) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	u, _ := currentUser(r)
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil {
		days = 0 // refused below with the reason
	}
	sec, t, err := h.store.CreateToken(r.Context(), u, r.PostFormValue("name"), store.Role(r.PostFormValue("role")), days)
	p, perr := h.profileProps(r)
	if perr != nil {
		h.fail(w, r, perr)
		return
	}
	if reason, ok := invalid(err); ok {
		p.Error, p.Name = reason, r.PostFormValue("name")
		h.render(w, r, http.StatusUnprocessableEntity, views.ProfilePage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	p.Created, p.Name = sec.Reveal(), t.Name // shown once, on this page only
	h.render(w, r, http.StatusCreated, views.ProfilePage(p))
}

// handleTokenRevoke handles POST /profile/tokens/{id}/revoke: one of the
// user's own tokens; another user's is not found.
func (h *handler) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, _ := currentUser(r)
	if _, err := h.store.RevokeToken(r.Context(), u.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/profile#tokens", http.StatusSeeOther)
}
