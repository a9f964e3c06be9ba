package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"wsusfix/handlers"
	"wsusfix/handlers/metrics"
	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/remote/wsus"
	"wsusfix/store"

	"golang.org/x/sync/errgroup"
)

// executorCloseTimeout bounds how long shutdown waits for running repairs
// to restore their hosts' services after they are cancelled.
const executorCloseTimeout = 60 * time.Second

// runnerFlags are the executor and procedure settings serve and demo share.
type runnerFlags struct {
	concurrency    int
	scansPerServer int
	detectTimeout  time.Duration
}

func registerRunnerFlags(fs *flag.FlagSet, e env) (*runnerFlags, error) {
	n, err := e.int("WSUSFIX_CONCURRENCY", 10)
	if err != nil {
		return nil, err
	}
	scans, err := e.int("WSUSFIX_SCANS_PER_WSUS", runner.DefaultScansPerServer)
	if err != nil {
		return nil, err
	}
	detect, err := e.duration("WSUSFIX_DETECT_TIMEOUT", repair.DefaultDetectTimeout)
	if err != nil {
		return nil, err
	}
	f := &runnerFlags{}
	fs.IntVar(&f.concurrency, "concurrency", n, "repairs running at once across all hosts [WSUSFIX_CONCURRENCY]")
	fs.IntVar(&f.scansPerServer, "scans-per-wsus", scans, "repairs running at once against one WSUS server, each ending in a full scan; "+
		"the inventory names no WSUS server per host, so the whole estate counts as one [WSUSFIX_SCANS_PER_WSUS]")
	fs.DurationVar(&f.detectTimeout, "detect-timeout", detect, "how long the scan after a reset may take; a scan still running then "+
		"is reported as such [WSUSFIX_DETECT_TIMEOUT]")
	return f, nil
}

// executorOptions are the executor settings for runs with the procedure
// options opt: the run deadline leaves room for the detect timeout.
func (f *runnerFlags) executorOptions(opt repair.Options, log *slog.Logger) runner.Options {
	return runner.Options{Concurrency: f.concurrency, ScansPerServer: f.scansPerServer,
		RunTimeout: repair.RunTimeoutFor(opt), Logger: log}
}

// dashboard serves the handlers over st until ctx ends. With run set it
// also executes repairs, with sched set it syncs the inventory from WSUS.
// Shutdown order: HTTP (streams told to end), then the sync (cancelled;
// what it committed stays), then the executor (running repairs
// cancelled, services restored), then the caller closes the store.
func dashboard(ctx context.Context, cfg *serverConfig, st *store.Store, acc *access, run runner.RunFunc, eopt runner.Options,
	sched *wsus.Scheduler, log *slog.Logger, stdout io.Writer) error {
	n, err := st.InterruptRuns(ctx, "The server stopped while this run was active, so the host's state is unknown; run Check on it.")
	if err != nil {
		return err
	}
	if n > 0 {
		log.Warn("runs left active by the last shutdown marked interrupted", "runs", n)
	}
	n, err = st.InterruptSyncs(ctx, "The server stopped during this sync; what it committed is kept, and the next sync reads again from the last cursor.")
	if err != nil {
		return err
	}
	if n > 0 {
		log.Warn("a sync left running by the last shutdown marked interrupted", "syncs", n)
	}
	// Compliance is counted at start and hourly, so the reports' trend
	// needs no recount of the past.
	stopCount := countCompliance(ctx, st, log)
	defer stopCount()
	var syncer handlers.Syncer
	stopSync := func() {}
	if sched != nil {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = sched.Run(sctx) }()
		stopSync = func() { cancel(); <-done }
		syncer = sched
	}
	m := metrics.New(st, cfg.db)
	metricsToken, err := cfg.metricsToken()
	if err != nil {
		return err
	}
	var repairs handlers.Runner
	var exec *runner.Executor
	if run != nil {
		exec = runner.NewExecutor(recorder{st: st, metrics: m}, runner.NewHub(), run, eopt)
		repairs = exec
	}
	shutdown := make(chan struct{})
	h := handlers.New(acc.deps(handlers.Deps{Logger: log, Store: st, Runner: repairs, Syncer: syncer, Metrics: m,
		MetricsToken: metricsToken, Shutdown: shutdown}))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return acc.serve(gctx, cfg.addr, h, log, stdout, func() { close(shutdown) }) })
	if cfg.metricsAddr != "" {
		// Its own listener, never the dashboard's: what an admin exposes
		// to Prometheus is decided apart from who may sign in.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		g.Go(func() error {
			return serveHTTP(gctx, cfg.metricsListen(), mux, log, io.Discard, nil)
		})
		fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", cfg.metricsListen())
	}
	err = g.Wait()
	stopSync()
	if exec != nil {
		cctx, cancel := context.WithTimeout(context.Background(), executorCloseTimeout)
		defer cancel()
		if cerr := exec.Close(cctx); cerr != nil {
			log.Error("repairs still running at shutdown; the next start marks them interrupted", "error", cerr)
		}
	}
	return err
}

// runWithSource returns a RunFunc that reads the WinRM settings as each run
// starts, so an account saved on the settings page applies to the next run
// without a restart. Without settings the run's connect step fails, saying
// what to set.
func runWithSource(src winrmSource, opt repair.Options) runner.RunFunc {
	return repair.RunFuncFrom(func(ctx context.Context) (*remote.Client, error) {
		cfg, err := src.Config(ctx)
		if err != nil {
			return nil, &remote.Error{Host: "wsusfix", Kind: remote.ErrNotConfigured, Help: err.Error(), Err: err}
		}
		return remote.NewClient(cfg)
	}, opt)
}

// countCompliance records the inventory's compliance now and every hour
// until the returned function is called.
func countCompliance(ctx context.Context, st *store.Store, log *slog.Logger) func() {
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			if _, err := st.RecordCompliance(cctx, 0); err != nil && cctx.Err() == nil {
				log.Warn("could not count compliance for the reports' trend", "error", err)
			}
			select {
			case <-cctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
