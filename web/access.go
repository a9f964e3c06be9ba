package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"wsusfix/handlers"
	"wsusfix/remote"
	"wsusfix/store"
	"wsusfix/store/secret"
)

// access is the sign-in, TLS and secrets configuration serve and demo share.
type access struct {
	keyFile         string
	tlsCert         string
	tlsKey          string
	secureCookies   bool
	trustedProxies  string
	sessionIdle     time.Duration
	sessionLifetime time.Duration

	// requestLogLevel is the level of the per-request log lines (demo: Debug).
	requestLogLevel slog.Level

	// directory is directory sign-in's flags, when the command has them.
	directory *directoryFlags

	// Filled by load.
	keys         *store.Keyring
	proxies      []netip.Prefix
	winrmFromEnv bool
}

// registerAccessFlags adds the access flags to fs.
func registerAccessFlags(fs *flag.FlagSet, e env) (*access, error) {
	a := &access{}
	secure, err := e.bool("WSUSFIX_SECURE_COOKIES", false)
	if err != nil {
		return nil, err
	}
	idle, err := e.duration("WSUSFIX_SESSION_IDLE", 30*time.Minute)
	if err != nil {
		return nil, err
	}
	lifetime, err := e.duration("WSUSFIX_SESSION_LIFETIME", 10*time.Hour)
	if err != nil {
		return nil, err
	}
	fs.StringVar(&a.keyFile, "key-file", e.str("WSUSFIX_KEY_FILE", ""),
		"file holding the key that encrypts stored WinRM passwords; created if missing; default: the database path + .key [WSUSFIX_KEY_FILE]")
	fs.StringVar(&a.tlsCert, "tls-cert", e.str("WSUSFIX_TLS_CERT", ""), "PEM certificate: serve HTTPS [WSUSFIX_TLS_CERT]")
	fs.StringVar(&a.tlsKey, "tls-key", e.str("WSUSFIX_TLS_KEY", ""), "PEM private key of -tls-cert [WSUSFIX_TLS_KEY]")
	fs.BoolVar(&a.secureCookies, "secure-cookies", secure,
		"mark session cookies Secure: set when a proxy serves wsusfix over HTTPS (implied by -tls-cert) [WSUSFIX_SECURE_COOKIES]")
	fs.StringVar(&a.trustedProxies, "trusted-proxies", e.str("WSUSFIX_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed [WSUSFIX_TRUSTED_PROXIES]")
	fs.DurationVar(&a.sessionIdle, "session-idle", idle, "sign out after this long without a request [WSUSFIX_SESSION_IDLE]")
	fs.DurationVar(&a.sessionLifetime, "session-lifetime", lifetime, "sign out after this long in any case [WSUSFIX_SESSION_LIFETIME]")
	return a, nil
}

// load checks the flags and opens (or creates) the key file next to db.
func (a *access) load(db string, log *slog.Logger) error {
	if (a.tlsCert == "") != (a.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if a.tlsCert != "" {
		a.secureCookies = true
	}
	if a.sessionIdle <= 0 || a.sessionLifetime <= 0 || a.sessionIdle > a.sessionLifetime {
		return fmt.Errorf("-session-idle %v and -session-lifetime %v: want positive, idle at most lifetime", a.sessionIdle, a.sessionLifetime)
	}
	for _, s := range strings.Split(a.trustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			ip, ierr := netip.ParseAddr(s)
			if ierr != nil {
				return fmt.Errorf("-trusted-proxies %q: not an address or CIDR", s)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		a.proxies = append(a.proxies, p)
	}
	if a.directory != nil {
		if err := a.directory.load(log); err != nil {
			return err
		}
	}
	if a.keyFile == "" {
		a.keyFile = db + ".key"
	}
	keys, created, err := store.LoadKeyFile(a.keyFile)
	if err != nil {
		return err
	}
	a.keys = keys
	if created {
		log.Info("created the key file for stored secrets; back it up apart from the database", "path", a.keyFile)
	}
	warnShared(log, a.keyFile)
	return nil
}

// deps fills the access fields of d.
func (a *access) deps(d handlers.Deps) handlers.Deps {
	d.Keys, d.SecureCookies, d.TrustedProxies, d.WinRMFromEnv = a.keys, a.secureCookies, a.proxies, a.winrmFromEnv
	d.SessionIdle, d.SessionLifetime = a.sessionIdle, a.sessionLifetime
	d.AccessLogLevel = a.requestLogLevel
	if a.directory != nil && a.directory.client != nil {
		d.Directory, d.DirectoryRecheck = a.directory.client, a.directory.recheck
	}
	return d
}

// serve serves h, over TLS when a certificate is configured.
func (a *access) serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, stdout io.Writer, onShutdown func()) error {
	return serveHTTPS(ctx, addr, a.tlsCert, a.tlsKey, h, log, stdout, onShutdown)
}

// ensureFirstAdmin creates the account "admin" with a random password on
// the first start, when no user exists, and prints the password once.
func ensureFirstAdmin(ctx context.Context, st *store.Store, stdout io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := store.GeneratePassword()
	if _, err := st.CreateUser(ctx, "admin", store.RoleAdmin, pw); err != nil {
		return err
	}
	_ = st.Audit(ctx, store.AuditEntry{Actor: "system", Client: "local", Action: store.ActionUserCreate,
		Target: "admin", Outcome: store.OutcomeOK, Detail: "first start"})
	fmt.Fprintf(stdout, "\nNo users yet, so an administrator account was created.\n"+
		"  Sign in as admin / %s\n"+
		"This password is shown only once. Change it with: wsusfix user reset-password admin\n\n", string(pw))
	return nil
}

// ensureDemoUser creates or refreshes the demo's account "demo" (admin,
// which includes operator), with password, or a generated one printed
// when password is empty.
func ensureDemoUser(ctx context.Context, st *store.Store, password string, stdout io.Writer) error {
	pw, from := secret.Secret(password), "from WSUSFIX_DEMO_PASSWORD"
	if pw == "" {
		pw, from = store.GeneratePassword(), "generated for this start"
	}
	_, err := st.CreateUser(ctx, "demo", store.RoleAdmin, pw)
	if errors.Is(err, store.ErrConflict) {
		if _, err = st.SetPassword(ctx, "demo", pw); err == nil {
			if _, err = st.SetDisabled(ctx, "demo", false); err == nil {
				_, err = st.SetRole(ctx, "demo", store.RoleAdmin)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	if password != "" {
		fmt.Fprintf(stdout, "\n  Sign in as demo with the password in WSUSFIX_DEMO_PASSWORD.\n\n")
		return nil
	}
	fmt.Fprintf(stdout, "\n  Sign in as demo / %s   (%s)\n\n", string(pw), from)
	return nil
}

// winrmSource gives a run the WinRM settings to use, read when the run
// starts, so a change on the settings page applies to the next run:
//   - the environment's (-winrm-user with WSUSFIX_WINRM_PASSWORD or
//     -winrm-password-file) whenever they configure WinRM;
//   - otherwise the account stored on /admin/settings, its password
//     decrypted with the key file just for this call.
//
// The -winrm-ca, -winrm-insecure, -winrm-krb5-conf and
// -winrm-operation-timeout flags apply to both. Safe for concurrent use; the result holds the password, so keep
// it no longer than the connection.
type winrmSource struct {
	flags *winrmFlags
	st    *store.Store
	keys  *store.Keyring
}

// errNoWinRM says repairs cannot run until someone sets up WinRM.
var errNoWinRM = errors.New("WinRM is not configured: enter an account on /admin/settings, " +
	"or start wsusfix with -winrm-user and WSUSFIX_WINRM_PASSWORD or -winrm-password-file")

// Config returns the effective WinRM settings, validated.
func (w winrmSource) Config(ctx context.Context) (remote.Config, error) {
	if w.flags.configured() {
		return w.flags.config()
	}
	s, err := w.st.WinRMCredentials(ctx, w.keys)
	if errors.Is(err, store.ErrNotFound) {
		return remote.Config{}, errNoWinRM
	}
	if err != nil {
		return remote.Config{}, fmt.Errorf("stored WinRM settings: %w", err)
	}
	cfg := remote.Config{HTTPS: s.HTTPS, Port: s.Port, Auth: s.Auth, User: s.User, Password: secret.Secret(s.Password),
		Insecure: w.flags.insecure, OperationTimeout: w.flags.opTimeout}
	if w.flags.caFile != "" {
		if cfg.CAPEM, err = os.ReadFile(w.flags.caFile); err != nil {
			return remote.Config{}, fmt.Errorf("-winrm-ca: %w", err)
		}
	}
	if err := w.flags.readKrb5Conf(&cfg); err != nil {
		return remote.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return remote.Config{}, fmt.Errorf("stored WinRM settings: %w", err)
	}
	return cfg, nil
}
