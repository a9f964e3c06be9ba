package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
	"wsusfix/store/ingest"
	"wsusfix/store/secret"
	"wsusfix/views"
)

// runDemo runs `wsusfix demo`: the dashboard over a database seeded from a
// deterministic simulated fleet, so a newcomer sees real-looking data with
// no Windows machine and no files to prepare.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env(getenv)
	fs := newFlagSet("demo", "Run the dashboard over a simulated fleet. The database is created and\n"+
		"seeded on first start and reused afterwards; delete it to start over.", stderr)
	cfg := serverFlags(fs, e, "WSUSFIX_DEMO_DB", "wsusfix-demo.db")
	seedDefault, err := e.int("WSUSFIX_DEMO_SEED", 1)
	if err != nil {
		return err
	}
	hostsDefault, err := e.int("WSUSFIX_DEMO_HOSTS", 400)
	if err != nil {
		return err
	}
	seed := fs.Int64("seed", int64(seedDefault), "fleet seed: the same seed always gives the same fleet [WSUSFIX_DEMO_SEED]")
	hosts := fs.Int("hosts", hostsDefault, "number of simulated hosts [WSUSFIX_DEMO_HOSTS]")
	acc, err := registerAccessFlags(fs, e)
	if err != nil {
		return err
	}
	rf, err := registerRunnerFlags(fs, e)
	if err != nil {
		return err
	}
	intervalDefault, err := e.duration("WSUSFIX_SYNC_INTERVAL", 15*time.Minute)
	if err != nil {
		return err
	}
	interval := fs.Duration("sync-interval", intervalDefault, "how often to sync again from the simulated WSUS server; "+
		"0 turns the schedule off [WSUSFIX_SYNC_INTERVAL]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkSyncInterval(*interval); err != nil {
		return err
	}
	if *hosts < 1 || *hosts > 100000 {
		return fmt.Errorf("-hosts %d: want 1 to 100000", *hosts)
	}
	log, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.db, log)
	if err != nil {
		return err
	}
	defer st.Close()

	fleet := sim.NewFleet(sim.FleetConfig{Seed: *seed, Hosts: *hosts, End: time.Now()})
	n, err := st.CountHosts(ctx)
	if err != nil {
		return err
	}
	opt := repair.Options{ServiceTimeout: 20 * time.Second, RenameDelay: 2 * time.Second,
		StepTimeout: 2 * time.Minute, DetectTimeout: rf.detectTimeout}
	df, err := startDemoFleet(fleet, opt, log)
	if err != nil {
		return err
	}
	// Defers run last-in first-out: the fleet stops after the dashboard
	// (and the repairs and sync it was running) and before the store closes.
	defer df.stop()
	// The WSUS server reports to itself: one computer more than the fleet.
	if n > 0 && n != len(fleet.Hosts) && n != len(fleet.Hosts)+1 {
		fmt.Fprintf(stdout, "The demo database %s was made with other -hosts or -seed values: hosts outside this fleet will be unreachable.\n", cfg.db)
	}
	if n == 0 {
		// First start: the inventory and history a helpdesk would have
		// imported, through the import's own validation and upserts.
		start := time.Now()
		if err := seedFleet(ctx, st, fleet); err != nil {
			return fmt.Errorf("seed demo database %s: %w", cfg.db, err)
		}
		fmt.Fprintf(stdout, "Seeded %s with %d simulated hosts and their update history (seed %d) in %v.\n",
			cfg.db, len(fleet.Hosts), *seed, time.Since(start).Round(time.Millisecond))
	}
	// Then, at every start, the real path: a sync from the WSUS server over
	// WinRM, in full the first time and incremental afterwards.
	y, _, err := wsus.Recorded(ctx, st, df.dialWSUS, wsus.Options{Server: fleet.WSUSServer}, store.SyncByStart)
	if err != nil {
		return fmt.Errorf("sync the demo inventory from the simulated %s: %s", fleet.WSUSServer, wsus.Reason(err))
	}
	fmt.Fprintf(stdout, "Synced from the simulated WSUS server %s (%s): %d computers (new %d, updated %d), %d failing, in %v.\n",
		y.Server, views.SyncKind(y.Full), y.Counts.Computers, y.Counts.New, y.Counts.Updated, y.Counts.Failing,
		y.Duration(time.Now()).Round(time.Millisecond))
	sched := wsus.NewScheduler(st, df.dialWSUS, wsus.SchedulerOptions{Options: wsus.Options{Server: fleet.WSUSServer},
		Interval: *interval, Delay: *interval, Logger: log})
	// A demo's console is for its start message and what goes wrong, not a
	// line per request: those go to debug (-log-level debug shows them).
	acc.requestLogLevel = slog.LevelDebug
	if err := acc.load(cfg.db, log); err != nil {
		return err
	}
	if err := ensureDemoUser(ctx, st, e("WSUSFIX_DEMO_PASSWORD"), stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Repairs run against the simulated fleet: every host answers WinRM, and some fail in each of the simulator's fault modes.\n")
	return dashboard(ctx, cfg, st, acc, df.run, rf.executorOptions(opt, log), sched, log, stdout)
}

// demoFleet is the simulated fleet the demo serves in-process.
type demoFleet struct {
	run      runner.RunFunc // repairs against it
	dialWSUS wsus.Dial      // sessions to its WSUS server
	stop     func()
}

// startDemoFleet serves the fleet in-process over HTTPS, with credentials
// that never leave the process, and returns what repairs and syncs need.
func startDemoFleet(fleet *sim.Fleet, opt repair.Options, log *slog.Logger) (demoFleet, error) {
	password := randomPassword()
	srv := sim.NewServer(fleet, sim.Options{Password: password, TLS: true, Logger: log,
		// Quick enough to watch, slow enough to see each step stream.
		Latency: 15 * time.Millisecond, Jitter: 30 * time.Millisecond, ScriptTimeScale: 0.5,
		MaxOperationTimeout: 3 * time.Second, SlowLatency: 800 * time.Millisecond, SlowJitter: 400 * time.Millisecond,
		ReceiveTimeouts: 2})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return demoFleet{}, fmt.Errorf("start the simulated fleet: %w", err)
	}
	client, err := remote.NewClient(remote.Config{HTTPS: true, CAPEM: srv.CACertPEM(), Auth: remote.AuthBasic,
		User: "Administrator", Password: secret.Secret(password), OperationTimeout: 3 * time.Second,
		DialContext: srv.DialContext})
	if err != nil {
		srv.Close()
		return demoFleet{}, err
	}
	dial := func(ctx context.Context) (wsus.Session, error) {
		return client.Open(ctx, remote.Target{Name: fleet.WSUSServer})
	}
	return demoFleet{run: repair.RunFunc(client, opt), dialWSUS: dial, stop: func() { srv.Close() }}, nil
}

// seedFleet stores a fleet's inventory and history through the validation
// and batched upserts an import uses, with the history's source WSUS. A
// record refused is an error: the simulator must produce what a real
// estate may.
func seedFleet(ctx context.Context, st *store.Store, f *sim.Fleet) error {
	var refused []ingest.Rejection
	reject := func(r ingest.Rejection) { refused = append(refused, r) }
	hosts := ingest.NewHostWriter(st, ingest.DefaultBatch, reject)
	for i, h := range f.Hosts {
		err := hosts.Add(ctx, ingest.Host{Name: h.Name, FQDN: h.FQDN, OSCaption: h.OSCaption,
			OSBuild: h.OSBuild, Group: h.Group, Groups: h.AllGroups(), LastReport: h.LastReport}, i+1)
		if err != nil {
			break // Close returns it
		}
	}
	if _, err := hosts.Close(ctx); err != nil {
		return err
	}
	history := ingest.NewHistoryWriter(st, store.SourceWSUS, ingest.DefaultBatch, reject)
	n := 0
events:
	for _, h := range f.Hosts {
		for _, ev := range h.History {
			n++
			err := history.Add(ctx, ingest.HistoryRecord{Host: h.Name, At: ev.Time, KB: ev.KB, UpdateID: ev.UpdateID,
				Title: ev.Title, Operation: ev.Operation, Result: string(ev.Result), HResult: ev.HResult}, n)
			if err != nil {
				break events // Close returns it
			}
		}
	}
	if _, err := history.Close(ctx); err != nil {
		return err
	}
	if len(refused) > 0 {
		return fmt.Errorf("the simulated fleet has %d records the inventory refuses, the first: %s", len(refused), refused[0].Reason)
	}
	return nil
}
