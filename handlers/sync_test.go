package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
)

// withSyncer gives the app the syncer make builds over its store.
func withSyncer(make func(*store.Store) handlers.Syncer) appOption {
	return func(c *appConfig) { c.syncer = make }
}

// heldSync is the scheduler of a test's app, syncing WSUS01 through a dial
// held until the test closes release, so the test sees its sync running;
// open then makes the session.
type heldSync struct{ sched *wsus.Scheduler }

// withHeldSync gives the app h's scheduler.
func withHeldSync(h *heldSync, release <-chan struct{}, open func(context.Context) (wsus.Session, error)) appOption {
	return withSyncer(func(st *store.Store) handlers.Syncer {
		dial := func(ctx context.Context) (wsus.Session, error) {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return open(ctx)
		}
		h.sched = wsus.NewScheduler(st, dial, wsus.SchedulerOptions{Options: wsus.Options{Server: "WSUS01"}})
		return h.sched
	})
}

// run starts the scheduler's loop, stopped when the test ends.
func (h *heldSync) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.sched.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// idle reports whether no sync is running.
func (h *heldSync) idle() bool { cur, _ := h.sched.State(); return cur == nil }

// TestSyncPage_SyncNow ensures an admin sees the WSUS server and its
// schedule, starts a sync with Sync now and follows it running, is told
// a second one waits for it, and then sees its counts on its page, in the
// audit log and as triage's "inventory synced". The sync is real: the
// WinRM client against the simulated WSUS server, into the app's store.
func TestSyncPage_SyncNow(t *testing.T) {
	t.Parallel()
	f := remotetest.NewFleetWith(t, 4, func(_ *sim.Fleet, o *sim.Options) { o.ScriptTimeScale = -1 })
	client := f.Client(t, nil)
	release := make(chan struct{}) // the sync is held until the test has seen it running
	var sync heldSync
	a := newApp(t, signedInAs("admin", store.RoleAdmin), withHeldSync(&sync, release, func(ctx context.Context) (wsus.Session, error) {
		return client.Open(ctx, remote.Target{Name: f.Sim.WSUSServer})
	}))
	sync.run(t)

	_, doc := a.get(t, "/admin/sync")
	if got := doc.Find(`[data-testid="sync-server"]`).Text(); got != "WSUS01" {
		t.Errorf("server shown %q", got)
	}
	if got := doc.Find(`[data-testid="sync-schedule"]`).Text(); !strings.HasPrefix(got, "off: syncs run only with Sync now") {
		t.Errorf("schedule shown %q", got)
	}
	if doc.Find(`[data-testid="sync-now"]`).Length() != 1 || doc.Find(`[data-testid="syncs-none"]`).Length() != 1 {
		t.Error("want Sync now and no syncs yet")
	}

	c := noRedirect(a.client)
	var res *http.Response
	waitUntil(t, func() bool { // until Run has begun
		res = do(t, c, http.MethodPost, a.srv.URL+"/admin/sync", url.Values{"full": {"1"}}, nil)
		return res.StatusCode == http.StatusSeeOther
	})
	syncURL := res.Header.Get("Location")
	if !strings.HasPrefix(syncURL, "/admin/syncs/") {
		t.Fatalf("Sync now went to %q", syncURL)
	}
	_, doc = a.get(t, syncURL)
	if doc.Find(`#sync[data-active]`).Length() != 1 || doc.Find(`[data-testid="sync-outcome"]`).Text() != "running" ||
		doc.Find(`[data-testid="sync-progress"]`).Length() != 1 {
		t.Error("a running sync's page is not live with its progress")
	}
	res = do(t, c, http.MethodPost, a.srv.URL+"/admin/sync", url.Values{}, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/admin/sync?busy=1" {
		t.Errorf("second Sync now: %d to %q", res.StatusCode, loc)
	}
	_, doc = a.get(t, "/admin/sync?busy=1")
	if doc.Find(`[data-testid="sync-busy"]`).Length() != 1 || doc.Find(`[data-testid="sync-now"]`).Length() != 0 {
		t.Error("the sync page does not say a sync is running")
	}

	close(release)
	waitUntil(t, sync.idle)
	_, doc = a.get(t, syncURL)
	if got := doc.Find(`[data-testid="sync-outcome"]`).Text(); got != "succeeded" {
		t.Errorf("outcome %q", got)
	}
	if got := doc.Find(`[data-testid="sync-counts"]`).Text(); !strings.HasPrefix(got, "5 computers (new 5, updated 0, gone 0)") {
		t.Errorf("counts %q", got)
	}
	if doc.Find(`#sync[data-active]`).Length() != 0 {
		t.Error("a finished sync's page still refreshes")
	}
	_, doc = a.get(t, "/")
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="last-synced"]`).Text()), " "); !strings.HasPrefix(got, "Inventory synced from WSUS01 at 20") ||
		!strings.HasSuffix(got, "UTC (full reconcile).") {
		t.Errorf("triage says %q", got)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionSyncStart})
	if err != nil || len(entries) < 2 {
		t.Fatalf("audit %+v, %v", entries, err)
	}
	if entries[0].Target != "incremental" || entries[len(entries)-1].Target != "full reconcile" || entries[0].Actor != "admin" {
		t.Errorf("audit entries %+v", entries)
	}
}

// TestSyncPage_NotConfigured ensures the page says how to configure a
// WSUS server, and Sync now refuses plainly, when there is none.
func TestSyncPage_NotConfigured(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("admin", store.RoleAdmin))
	_, doc := a.get(t, "/admin/sync")
	if got := doc.Find(`[data-testid="sync-off"]`).Text(); !strings.Contains(got, "-wsus-server") {
		t.Errorf("page says %q", got)
	}
	res := do(t, noRedirect(a.client), http.MethodPost, a.srv.URL+"/admin/sync", url.Values{}, nil)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Sync now without a server: %d", res.StatusCode)
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
