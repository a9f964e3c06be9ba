// Package handlers is wsusfix's whole HTTP surface: routes, one file per
// resource, the single error-to-status mapping, and middleware. It reads
// through *store.Store, decodes codes with store/hresult, and renders
// views; it never writes internal error text to a response.
package handlers

import (
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/alexedwards/scs/v2"

	"wsusfix/handlers/metrics"
	"wsusfix/remote/runner"
	"wsusfix/remote/wsus"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/secret"
)

// Deps are the collaborators the HTTP layer needs. Logger and Store are
// required; without a Runner the dashboard serves triage only and says how
// to enable repairs.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	Runner Runner
	// Syncer syncs the inventory from a WSUS server; nil when no WSUS
	// server is configured (the sync page then says how to set one).
	Syncer Syncer
	// Metrics counts requests and event-stream watchers; nil counts nothing.
	Metrics *metrics.Registry
	// MetricsToken, when set, serves the metrics at /metrics on the
	// dashboard's own listener to a scraper that sends it as a bearer
	// token, and to no one else; empty leaves /metrics unanswered here.
	MetricsToken secret.Secret
	// Shutdown is closed when the server begins to shut down, so
	// long-lived event streams end themselves.
	Shutdown <-chan struct{}
	// Heartbeat is how often an idle event stream sends a comment; 0 means 15s.
	Heartbeat time.Duration
	// AccessLogLevel is the level of the one log line per request: Info by
	// default; the demo uses Debug, so its console shows what matters.
	AccessLogLevel slog.Level

	// Keys encrypts the WinRM password stored on the settings page; nil
	// (no key file) makes the page refuse to store a password.
	Keys *store.Keyring
	// SecureCookies marks the session cookie Secure (named __Host-…) and
	// sends HSTS: set it whenever users reach the server over TLS, directly
	// or through a proxy.
	SecureCookies bool
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client; empty believes only the connection's peer address.
	TrustedProxies []netip.Prefix
	// WinRMFromEnv says the environment or a password file configures
	// WinRM, which then wins over the settings page (the page says so).
	WinRMFromEnv bool
	// SessionIdle and SessionLifetime end sessions after inactivity and in
	// any case; 0 means 30 minutes and 10 hours.
	SessionIdle, SessionLifetime time.Duration
	// Directory, when set, signs in everyone who is not a local account
	// against Active Directory or LDAP; nil means local accounts only.
	Directory Directory
	// DirectoryRecheck is how often a signed-in directory user's role is
	// read from the directory again; 0 means 5 minutes. Starting a repair
	// always reads it again.
	DirectoryRecheck time.Duration
}

// Runner carries out repair runs and lets callers follow them; satisfied
// by *runner.Executor.
type Runner interface {
	Submit(job runner.Job) error
	Cancel(runID int64) bool
	Subscribe(runID int64) (<-chan run.Event, func())
}

// Syncer runs inventory syncs of one WSUS server; satisfied by
// *wsus.Scheduler.
type Syncer interface {
	Server() string
	Interval() time.Duration
	State() (*wsus.Status, time.Time)
	Start(by string, full bool) (int64, error)
}

type handler struct {
	log       *slog.Logger
	store     *store.Store
	runner    Runner
	syncer    Syncer
	metrics   *metrics.Registry
	shutdown  <-chan struct{}
	heartbeat time.Duration
	accessLvl slog.Level

	sessions       *scs.SessionManager
	throttle       *throttle
	keys           *store.Keyring
	secureCookies  bool
	trustedProxies []netip.Prefix
	winrmFromEnv   bool
	dir            Directory
	dirRecheck     time.Duration
	pages          pageCache
	tokenChecks    checkTimes        // when each directory user's token use last asked the directory
	metricsToken   [sha256.Size]byte // of Deps.MetricsToken; zero when unset
}

// New returns the application's root HTTP handler.
func New(d Deps) http.Handler { return newHandler(d).routes() }

// newHandler builds the handler with defaults filled in.
func newHandler(d Deps) *handler {
	h := &handler{log: d.Logger, store: d.Store, runner: d.Runner, syncer: d.Syncer, metrics: d.Metrics, shutdown: d.Shutdown, heartbeat: d.Heartbeat,
		throttle: newThrottle(), keys: d.Keys, secureCookies: d.SecureCookies, trustedProxies: d.TrustedProxies,
		winrmFromEnv: d.WinRMFromEnv, accessLvl: d.AccessLogLevel, dir: d.Directory, dirRecheck: d.DirectoryRecheck}
	h.sessions = newSessions(d, h.fail)
	if d.MetricsToken != "" && d.Metrics != nil {
		h.metricsToken = sha256.Sum256([]byte(d.MetricsToken.Reveal()))
	}
	if h.heartbeat <= 0 {
		h.heartbeat = 15 * time.Second
	}
	if h.dirRecheck <= 0 {
		h.dirRecheck = defaultDirectoryRecheck
	}
	if h.shutdown == nil {
		h.shutdown = make(chan struct{}) // never closed: streams end with their clients
	}
	return h
}
