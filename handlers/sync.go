package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/wsus"
	"wsusfix/store"
	"wsusfix/views"
)

// syncsShown is how many past syncs the sync page lists.
const syncsShown = 20

// handleSync renders GET /admin/sync: the WSUS server synced, the sync
// running now with its progress, when the next is due, and the last syncs.
func (h *handler) handleSync(w http.ResponseWriter, r *http.Request) {
	syncs, err := h.store.Syncs(r.Context(), syncsShown)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.SyncProps{Syncs: syncs, Now: time.Now(), Busy: r.URL.Query().Get("busy") == "1",
		CriticalSaved: r.URL.Query().Get("critical") == "saved"}
	if p.Critical, err = h.store.CriticalGroups(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.syncState(&p)
	h.render(w, r, http.StatusOK, views.SyncPage(p))
}

// handleCriticalGroups handles POST /admin/critical-groups: the WSUS
// groups whose hosts repair confirmations flag, one a line. A refused
// list is shown again with the reason, status 422.
func (h *handler) handleCriticalGroups(w http.ResponseWriter, r *http.Request) {
	u, _ := currentUser(r)
	groups := strings.Split(strings.ReplaceAll(r.PostFormValue("groups"), "\r\n", "\n"), "\n")
	_, err := h.store.SetCriticalGroups(r.Context(), groups, u.Name)
	if reason, ok := invalid(err); ok {
		syncs, lerr := h.store.Syncs(r.Context(), syncsShown)
		if lerr != nil {
			h.fail(w, r, lerr)
			return
		}
		p := views.SyncProps{Syncs: syncs, Now: time.Now(), Critical: groups, CriticalError: reason}
		h.syncState(&p)
		h.render(w, r, http.StatusUnprocessableEntity, views.SyncPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/sync?critical=saved#critical", http.StatusSeeOther)
}

// syncState fills in what the scheduler knows: nothing without one.
func (h *handler) syncState(p *views.SyncProps) {
	if h.syncer == nil {
		return
	}
	p.Server, p.Interval = h.syncer.Server(), h.syncer.Interval()
	p.Current, p.Next = h.syncer.State()
	if p.Current != nil {
		p.ETA = p.Current.ETA(p.Now)
	}
}

// handleSyncStart handles POST /admin/sync, "Sync now": it starts a sync
// in the background and shows it; a second one while one runs is refused
// with the running one on the page.
func (h *handler) handleSyncStart(w http.ResponseWriter, r *http.Request) {
	if h.syncer == nil {
		h.fail(w, r, unavailable{"No WSUS server is configured: start wsusfix serve with -wsus-server " +
			"(or WSUSFIX_WSUS_SERVER) to sync the inventory from WSUS."})
		return
	}
	u, _ := currentUser(r)
	id, err := h.syncer.Start(u.Name, r.PostFormValue("full") == "1")
	switch {
	case errors.Is(err, wsus.ErrBusy):
		w.Header().Set("Location", "/admin/sync?busy=1")
		w.WriteHeader(http.StatusSeeOther) // audited as refused: nothing was started
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/syncs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// handleSyncShow renders GET /admin/syncs/{id}: one sync, its counts,
// outcome and log; live while it runs.
func (h *handler) handleSyncShow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	y, err := h.store.SyncByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.SyncProps{Syncs: []store.Sync{y}, Now: time.Now()}
	h.syncState(&p)
	if p.Current != nil && p.Current.ID != id {
		p.Current = nil // another sync is running: this page shows its own
	}
	h.render(w, r, http.StatusOK, views.SyncShowPage(p))
}
