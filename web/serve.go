package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"wsusfix/remote/repair"
	"wsusfix/store/secret"

	"golang.org/x/sync/errgroup"
)

// serverConfig is what serve and demo share: where to listen, which
// database, how to log.
type serverConfig struct {
	addr        string
	db          string
	logFormat   string
	logLevel    string
	metricsAddr string // where /metrics listens; "" turns it off
	// metricsTokenFile holds the token that opens /metrics on the
	// dashboard's own listener; "" keeps /metrics off it.
	metricsTokenFile string
}

// serverFlags registers the flags serve and demo share. dbKey and dbDefault
// let demo keep its own database apart from a real one.
func serverFlags(fs *flag.FlagSet, e env, dbKey, dbDefault string) *serverConfig {
	c := &serverConfig{}
	fs.StringVar(&c.addr, "addr", e.str("WSUSFIX_ADDR", "127.0.0.1:8080"), "listen address, host:port [WSUSFIX_ADDR]")
	fs.StringVar(&c.db, "db", e.str(dbKey, dbDefault), "SQLite database file ["+dbKey+"]")
	fs.StringVar(&c.logFormat, "log-format", e.str("WSUSFIX_LOG_FORMAT", "text"), "log format: text or json [WSUSFIX_LOG_FORMAT]")
	fs.StringVar(&c.logLevel, "log-level", e.str("WSUSFIX_LOG_LEVEL", "info"), "log level: debug, info, warn or error [WSUSFIX_LOG_LEVEL]")
	fs.StringVar(&c.metricsAddr, "metrics-addr", e.str("WSUSFIX_METRICS_ADDR", ""), "serve Prometheus metrics at /metrics on this "+
		"listener of its own, apart from the dashboard; a port alone (:9464) listens on loopback only; empty turns it off [WSUSFIX_METRICS_ADDR]")
	fs.StringVar(&c.metricsTokenFile, "metrics-token-file", e.str("WSUSFIX_METRICS_TOKEN_FILE", ""), "file holding a token "+
		"(32 characters or more) that opens /metrics on the dashboard's own address to a scraper sending it as a bearer token; "+
		"empty: /metrics is not served there [WSUSFIX_METRICS_TOKEN_FILE]")
	return c
}

// minMetricsToken is the shortest metrics token accepted: the token is
// the scraper's only credential, so it must not be guessable.
const minMetricsToken = 32

// metricsToken reads the metrics token from its file, if one is named.
func (c *serverConfig) metricsToken() (secret.Secret, error) {
	if c.metricsTokenFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.metricsTokenFile)
	if err != nil {
		return "", fmt.Errorf("-metrics-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < minMetricsToken || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("-metrics-token-file %s: the token must be one line of at least %d characters "+
			"(for example the output of: openssl rand -hex 32)", c.metricsTokenFile, minMetricsToken)
	}
	return secret.Secret(tok), nil
}

// metricsListen is where the metrics listener binds: a bare port means
// loopback, so metrics are never exposed to the network by accident.
func (c *serverConfig) metricsListen() string {
	if strings.HasPrefix(c.metricsAddr, ":") {
		return "127.0.0.1" + c.metricsAddr
	}
	return c.metricsAddr
}

// logger builds the one logger of the process.
func (c *serverConfig) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
}

// runServe runs `wsusfix serve`: the dashboard over an existing inventory.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Run the dashboard over the inventory database.", stderr)
	cfg := serverFlags(fs, env(getenv), "WSUSFIX_DB", defaultDB)
	wf, err := registerWinRMFlags(fs, env(getenv))
	if err != nil {
		return err
	}
	rf, err := registerRunnerFlags(fs, env(getenv))
	if err != nil {
		return err
	}
	acc, err := registerAccessFlags(fs, env(getenv))
	if err != nil {
		return err
	}
	acc.directory = registerDirectoryFlags(fs, env(getenv))
	sf, err := registerScheduleFlags(fs, env(getenv), 15*time.Minute)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	log, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	if wf.configured() {
		// Check the environment's WinRM settings at start, not at the first repair.
		if _, err := wf.config(); err != nil {
			return err
		}
	} else {
		log.Warn("WinRM is not configured by flags: repairs use the account saved on /admin/settings, if any")
	}
	st, err := openStore(ctx, cfg.db, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := acc.load(cfg.db, log); err != nil {
		return err
	}
	acc.winrmFromEnv = wf.configured()
	if err := ensureFirstAdmin(ctx, st, stdout); err != nil {
		return err
	}
	opt := repair.Options{DetectTimeout: rf.detectTimeout}
	src := winrmSource{flags: wf, st: st, keys: acc.keys}
	rn := runWithSource(src, opt)
	if sf.wsus.server == "" {
		log.Info("no -wsus-server: the inventory comes only from imports")
	}
	sched := sf.scheduler(st, src.Config, log)
	return dashboard(ctx, cfg, st, acc, rn, rf.executorOptions(opt, log), sched, log, stdout)
}

// serveHTTP listens on addr and serves h until ctx ends, then shuts down
// gracefully: in-flight requests get up to 10 s to finish.
// onShutdown runs when shutdown begins, so long-lived streams end themselves.
func serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger, stdout io.Writer, onShutdown func()) error {
	return serveHTTPS(ctx, addr, "", "", h, log, stdout, onShutdown)
}

// serveHTTPS is serveHTTP over TLS when certFile and keyFile are set.
func serveHTTPS(ctx context.Context, addr, certFile, keyFile string, h http.Handler, log *slog.Logger, stdout io.Writer,
	onShutdown func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "wsusfix is listening on %s://%s/\n", scheme, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "tls", certFile != "")

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		serve := func() error { return srv.Serve(ln) }
		if certFile != "" {
			serve = func() error { return srv.ServeTLS(ln, certFile, keyFile) }
		}
		if err := serve(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}
