package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"wsusfix/remote/wsus"
	"wsusfix/store"
)

// TestAPI_SyncStart_NotConfigured ensures POST /api/v1/sync without a
// WSUS server is 503 as a problem document that says how to configure one.
func TestAPI_SyncStart_NotConfigured(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	token := a.apiToken(t, "root", store.RoleAdmin)
	var p problem
	res := a.api(t, http.MethodPost, "/api/v1/sync", token, url.Values{}, &p)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Content-Type") != "application/problem+json" ||
		p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "-wsus-server") {
		t.Errorf("sync without a server: %d %q %+v; want 503 as a problem naming -wsus-server", res.StatusCode,
			res.Header.Get("Content-Type"), p)
	}
}

// TestAPI_SyncStart_Busy ensures POST /api/v1/sync starts a sync (202 with
// its id), is refused with 409 as a problem document while that sync runs
// (GET shows it running), and starts one again once it has ended. The
// sync is held running by a dial that waits for the test, as the sync
// page's test holds it.
func TestAPI_SyncStart_Busy(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var sync heldSync
	a := newApp(t, withHeldSync(&sync, release, func(context.Context) (wsus.Session, error) {
		return nil, errors.New("test: no WSUS server behind this dial")
	}))
	sync.run(t)
	token := a.apiToken(t, "root", store.RoleAdmin)

	type started struct {
		ID   int64
		Page string
	}
	var first started
	waitUntil(t, func() bool { // until Run has begun
		first = started{}
		return a.api(t, http.MethodPost, "/api/v1/sync", token, url.Values{}, &first).StatusCode == http.StatusAccepted
	})
	if first.ID == 0 || !strings.HasPrefix(first.Page, "/admin/syncs/") {
		t.Fatalf("sync started as %+v", first)
	}
	var state struct {
		Running struct{ ID int64 }
	}
	if res := a.api(t, http.MethodGet, "/api/v1/sync", token, nil, &state); res.StatusCode != http.StatusOK || state.Running.ID != first.ID {
		t.Errorf("GET while it runs: %d, running %d, want %d", res.StatusCode, state.Running.ID, first.ID)
	}
	var p problem
	res := a.api(t, http.MethodPost, "/api/v1/sync", token, url.Values{"full": {"1"}}, &p)
	if res.StatusCode != http.StatusConflict || res.Header.Get("Content-Type") != "application/problem+json" ||
		p.Status != http.StatusConflict || p.Title != "Already syncing" {
		t.Errorf("second sync: %d %q %+v; want 409 as a problem", res.StatusCode, res.Header.Get("Content-Type"), p)
	}

	close(release)
	waitUntil(t, sync.idle)
	var again started
	if res := a.api(t, http.MethodPost, "/api/v1/sync", token, url.Values{}, &again); res.StatusCode != http.StatusAccepted ||
		again.ID == 0 || again.ID == first.ID {
		t.Errorf("sync after the first ended: %d %+v", res.StatusCode, again)
	}
	waitUntil(t, sync.idle)
}
