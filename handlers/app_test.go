package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"wsusfix/handlers"
	"wsusfix/remote/runner"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// app is the real handler over a real database file, served on loopback:
// the one test fixture of this package, shaped by appOptions.
type app struct {
	srv      *httptest.Server
	st       *store.Store
	dbPath   string
	client   *http.Client   // signed in by signedInAs; nil otherwise
	runner   *fakeRunner    // set by withRunner
	keys     *store.Keyring // set by withKeys
	log      *lockedBuffer  // everything the handler logged, JSON, debug level
	shutdown chan struct{}  // close to tell event streams the server stops
}

// appConfig collects what the options ask for.
type appConfig struct {
	deps         handlers.Deps
	runner, keys bool
	user         string
	role         store.Role
	hosts        []string
	syncer       func(*store.Store) handlers.Syncer
}

// appOption shapes a test app.
type appOption func(*appConfig)

// signedInAs gives the app a client signed in through the login form as
// name (created with role and testPassword).
func signedInAs(name string, role store.Role) appOption {
	return func(c *appConfig) { c.user, c.role = name, role }
}

// withRunner wires a fakeRunner, reachable as app.runner.
func withRunner() appOption { return func(c *appConfig) { c.runner = true } }

// withKeys gives the app a key ring for stored secrets.
func withKeys() appOption { return func(c *appConfig) { c.keys = true } }

// withHosts adds hosts (names only) to the inventory.
func withHosts(names ...string) appOption {
	return func(c *appConfig) { c.hosts = append(c.hosts, names...) }
}

// withDeps sets the handler's other dependencies (cookies, session times,
// heartbeat); the store, log, runner and keys are the app's own.
func withDeps(d handlers.Deps) appOption { return func(c *appConfig) { c.deps = d } }

// newApp opens a database under t.TempDir() and serves the handler over it.
// Every setup error fails the test where it happens.
func newApp(t testing.TB, opts ...appOption) *app {
	t.Helper()
	var cfg appConfig
	for _, o := range opts {
		o(&cfg)
	}
	a := &app{dbPath: filepath.Join(t.TempDir(), "app.db"), log: &lockedBuffer{}, shutdown: make(chan struct{})}
	a.st = openStore(t, a.dbPath)
	d := cfg.deps
	d.Store, d.Shutdown = a.st, a.shutdown
	d.Logger = slog.New(slog.NewJSONHandler(a.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.runner {
		a.runner = &fakeRunner{st: a.st, hub: runner.NewHub()}
		d.Runner = a.runner
	}
	if cfg.syncer != nil {
		d.Syncer = cfg.syncer(a.st)
	}
	if cfg.keys {
		keys, err := store.NewKeyring(bytes.Repeat([]byte{42}, 32))
		if err != nil {
			t.Fatal(err)
		}
		a.keys, d.Keys = keys, keys
	}
	if len(cfg.hosts) > 0 {
		var in []store.HostInput
		for _, h := range cfg.hosts {
			in = append(in, store.HostInput{Name: h})
		}
		if _, err := a.st.UpsertHosts(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	a.srv = httptest.NewServer(handlers.New(d))
	t.Cleanup(a.srv.Close)
	if cfg.user != "" {
		a.client = signIn(t, a.srv.URL, a.st, cfg.user, cfg.role)
	}
	return a
}

// openStore opens (creating from the migrated schema) the database file
// at path and closes it when the test ends.
func openStore(tb testing.TB, path string) *store.Store {
	tb.Helper()
	return storetest.Open(tb, path)
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p under the lock.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeRunner stands in for the executor at the handlers' Runner boundary:
// it stores events, then publishes them, as the executor does. The real
// executor is exercised end to end in package web.
type fakeRunner struct {
	st        *store.Store
	hub       *runner.Hub
	mu        sync.Mutex
	got       []runner.Job
	cancelled []int64 // Cancel calls, in order
	// onCancel, when set, is called for each run Cancel knows, as the
	// executor ends a queued run at once; set it before any request.
	onCancel func(runID int64)
}

func (f *fakeRunner) Submit(job runner.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, job)
	return nil
}

// Cancel records the call; it knows the runs it was given. onCancel is
// called without the lock, so it may use the store and the runner.
func (f *fakeRunner) Cancel(id int64) bool {
	f.mu.Lock()
	f.cancelled = append(f.cancelled, id)
	known := slices.ContainsFunc(f.got, func(j runner.Job) bool { return j.RunID == id })
	f.mu.Unlock()
	if known && f.onCancel != nil {
		f.onCancel(id)
	}
	return known
}
func (f *fakeRunner) Subscribe(id int64) (<-chan run.Event, func()) {
	return f.hub.Subscribe(id)
}

// emit stores then publishes one event.
func (f *fakeRunner) emit(t testing.TB, ev run.Event) {
	t.Helper()
	stored, err := f.st.AppendRunEvent(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(run.Event{RunID: stored.RunID, Seq: stored.Seq, At: stored.At, Kind: stored.Kind, Step: stored.Step,
		Stream: stored.Stream, Text: stored.Text, Status: stored.Status})
}

func (f *fakeRunner) finish(t testing.TB, runID int64) {
	t.Helper()
	ev, err := f.st.FinishRun(context.Background(), runID, store.RunResult{State: run.StateSucceeded, Outcome: run.OutcomeRepaired, Summary: "Repaired."})
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(run.Event{RunID: ev.RunID, Seq: ev.Seq, Kind: ev.Kind, Status: ev.Status, Text: ev.Text})
}
