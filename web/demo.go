package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store"
	"wsusfix/store/secret"
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
	if err := fs.Parse(args); err != nil {
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
	if n == 0 {
		start := time.Now()
		if err := seedFleet(ctx, st, fleet); err != nil {
			return fmt.Errorf("seed demo database %s: %w", cfg.db, err)
		}
		fmt.Fprintf(stdout, "Seeded %s with %d simulated hosts (seed %d) in %v.\n",
			cfg.db, len(fleet.Hosts), *seed, time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(stdout, "Using the existing demo database %s (%d hosts); delete it to reseed.\n", cfg.db, n)
		if n != len(fleet.Hosts) {
			fmt.Fprintf(stdout, "It was seeded with other -hosts or -seed values: hosts outside this fleet will be unreachable.\n")
		}
	}
	opt := repair.Options{ServiceTimeout: 20 * time.Second, RenameDelay: 2 * time.Second,
		StepTimeout: 2 * time.Minute, DetectTimeout: rf.detectTimeout}
	rn, stopFleet, err := startDemoFleet(fleet, opt, log)
	if err != nil {
		return err
	}
	// Defers run last-in first-out: the fleet stops after the dashboard
	// (and the repairs it was running) and before the store closes.
	defer stopFleet()
	if err := acc.load(cfg.db, log); err != nil {
		return err
	}
	if err := ensureDemoUser(ctx, st, e("WSUSFIX_DEMO_PASSWORD"), stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Repairs run against the simulated fleet: every host answers WinRM, and some fail in each of the simulator's fault modes.\n")
	return dashboard(ctx, cfg.addr, st, acc, rn, rf.executorOptions(opt, log), log, stdout)
}

// startDemoFleet serves the fleet in-process over HTTPS and returns a
// RunFunc wired to it with credentials that never leave the process.
func startDemoFleet(fleet *sim.Fleet, opt repair.Options, log *slog.Logger) (runner.RunFunc, func(), error) {
	password := randomPassword()
	srv := sim.NewServer(fleet, sim.Options{Password: password, TLS: true, Logger: log,
		// Quick enough to watch, slow enough to see each step stream.
		Latency: 15 * time.Millisecond, Jitter: 30 * time.Millisecond, ScriptTimeScale: 0.5,
		MaxOperationTimeout: 3 * time.Second, SlowLatency: 800 * time.Millisecond, SlowJitter: 400 * time.Millisecond,
		ReceiveTimeouts: 2})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("start the simulated fleet: %w", err)
	}
	client, err := remote.NewClient(remote.Config{HTTPS: true, CAPEM: srv.CACertPEM(), Auth: remote.AuthBasic,
		User: "Administrator", Password: secret.Secret(password), OperationTimeout: 3 * time.Second,
		DialContext: srv.DialContext})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	rn := repair.RunFunc(client, opt)
	return rn, func() { srv.Close() }, nil
}

// seedFleet stores a fleet's inventory and history, as an import would.
func seedFleet(ctx context.Context, st *store.Store, f *sim.Fleet) error {
	hosts := make([]store.HostInput, 0, len(f.Hosts))
	var events []store.EventInput
	for _, h := range f.Hosts {
		hosts = append(hosts, store.HostInput{Name: h.Name, FQDN: h.FQDN, OSCaption: h.OSCaption,
			OSBuild: h.OSBuild, Group: h.Group, LastReportAt: h.LastReport})
		for _, ev := range h.History {
			events = append(events, store.EventInput{HostName: h.Name, At: ev.Time, UpdateID: ev.UpdateID,
				KB: ev.KB, Title: ev.Title, Operation: ev.Operation, Result: ev.Result,
				HResult: ev.HResult, Source: store.SourceWSUS})
		}
	}
	if _, err := st.UpsertHosts(ctx, hosts); err != nil {
		return err
	}
	c, err := st.AddUpdateEvents(ctx, events)
	if err != nil {
		return err
	}
	if len(c.UnknownIdx) > 0 {
		return fmt.Errorf("%d history entries name hosts outside the fleet: %s", len(c.UnknownIdx),
			strings.Join([]string{events[c.UnknownIdx[0]].HostName}, ", "))
	}
	return nil
}
