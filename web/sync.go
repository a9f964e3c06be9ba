package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/wsus"
	"wsusfix/store"
)

const syncSummary = `Syncs the inventory from a WSUS server once: connects to it over WinRM,
runs the collector there (the WSUS administration API, local to it), and
commits the computers, their WSUS facts and their failed updates as they
arrive. Incremental from the server's cursor unless -full or the first
time; a full reconcile marks hosts no longer in WSUS as gone. Prints one
summary line; records it could not take are reported on stderr. The exit
status is 1 when the sync failed (with the reason) or refused a record.`

// wsusFlags are the settings for reaching a WSUS server.
type wsusFlags struct {
	server, address string
	port            int
	ssl             bool
}

// registerWSUSFlags adds the -wsus-* flags to fs.
func registerWSUSFlags(fs *flag.FlagSet, e env) (*wsusFlags, error) {
	w := &wsusFlags{}
	port, err := e.int("WSUSFIX_WSUS_PORT", 0)
	if err != nil {
		return nil, err
	}
	ssl, err := e.bool("WSUSFIX_WSUS_SSL", false)
	if err != nil {
		return nil, err
	}
	fs.StringVar(&w.server, "wsus-server", e.str("WSUSFIX_WSUS_SERVER", ""), "the WSUS server's FQDN, as WinRM addresses it [WSUSFIX_WSUS_SERVER]")
	fs.StringVar(&w.address, "wsus-address", e.str("WSUSFIX_WSUS_ADDRESS", ""), "IP or IP:port to dial instead of resolving -wsus-server [WSUSFIX_WSUS_ADDRESS]")
	fs.IntVar(&w.port, "wsus-port", port, "WSUS's port as the WSUS server reaches itself; 0 means 8530, or 8531 with -wsus-ssl [WSUSFIX_WSUS_PORT]")
	fs.BoolVar(&w.ssl, "wsus-ssl", ssl, "the WSUS server's API over HTTPS [WSUSFIX_WSUS_SSL]")
	return w, nil
}

// runSync runs `wsusfix sync`.
func runSync(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env(getenv)
	fs := newFlagSet("sync", syncSummary, stderr)
	db := dbFlag(fs, e)
	wf, err := registerWSUSFlags(fs, e)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	fullDefault, err := e.bool("WSUSFIX_SYNC_FULL", false)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	full := fs.Bool("full", fullDefault, "a full reconcile: every computer, and hosts no longer in WSUS marked gone [WSUSFIX_SYNC_FULL]")
	rf, err := registerWinRMFlags(fs, e)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sync: unexpected arguments: %v", fs.Args())
	}
	if wf.server == "" {
		return fmt.Errorf("sync: -wsus-server is required")
	}
	if err := store.ValidateHostName(wf.server); err != nil {
		return fmt.Errorf("sync: -wsus-server: %w", err)
	}
	if !rf.configured() {
		return fmt.Errorf("sync: WinRM is not configured: set -winrm-user and WSUSFIX_WINRM_PASSWORD (or -winrm-password-file)")
	}
	cfg, err := rf.config()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	client, err := remote.NewClient(cfg)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	st, err := openStore(ctx, *db, cliLogger(stderr))
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer st.Close()

	dial := func(ctx context.Context) (wsus.Session, error) {
		return client.Open(ctx, remote.Target{Name: wf.server, Address: wf.address})
	}
	_, sum, err := wsus.Recorded(ctx, st, dial, wsus.Options{Server: wf.server, Port: wf.port, UseSSL: wf.ssl, Full: *full},
		store.SyncByCommand)
	for _, w := range sum.Warnings {
		fmt.Fprintf(stderr, "sync %s: warning: %s\n", wf.server, w)
	}
	for _, p := range sum.Problems {
		fmt.Fprintf(stderr, "sync %s: %s: %s\n", wf.server, p.Position, p.Reason)
	}
	if err != nil {
		for _, l := range sum.Output {
			fmt.Fprintf(stderr, "sync %s: output: %s\n", wf.server, l)
		}
	}
	if err != nil {
		return fmt.Errorf("sync %s: %s", wf.server, wsus.Reason(err))
	}
	fmt.Fprintf(stdout, "sync %s: computers %d (new %d, updated %d, gone %d), failing %d, events %d in %.1fs\n",
		wf.server, sum.Computers, sum.New, sum.Updated, sum.Gone, sum.Failing, sum.Events, sum.Duration.Seconds())
	if n := len(sum.Problems); n > 0 {
		return fmt.Errorf("sync %s: %d records refused", wf.server, n)
	}
	return nil
}

// checkSyncInterval refuses a -sync-interval that is negative, or so short
// that syncs would follow each other without a pause; 0 turns it off.
func checkSyncInterval(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("-sync-interval %v: want 0 (off) or more", d)
	}
	if d > 0 && d < time.Minute {
		return fmt.Errorf("-sync-interval %v: want at least 1m, or 0 to turn it off", d)
	}
	return nil
}

// scheduleFlags are serve's and demo's settings for syncing on schedule.
type scheduleFlags struct {
	wsus     *wsusFlags
	interval time.Duration
}

// registerScheduleFlags adds the -wsus-* flags and -sync-interval to fs.
func registerScheduleFlags(fs *flag.FlagSet, e env, defaultInterval time.Duration) (*scheduleFlags, error) {
	wf, err := registerWSUSFlags(fs, e)
	if err != nil {
		return nil, err
	}
	d, err := e.duration("WSUSFIX_SYNC_INTERVAL", defaultInterval)
	if err != nil {
		return nil, err
	}
	f := &scheduleFlags{wsus: wf}
	fs.DurationVar(&f.interval, "sync-interval", d, "how often to sync the inventory from -wsus-server, with a full reconcile "+
		"at least daily; 0 turns the schedule off (Sync now still works) [WSUSFIX_SYNC_INTERVAL]")
	return f, nil
}

// check refuses settings that cannot work, at start rather than at the
// first sync.
func (f *scheduleFlags) check() error {
	if err := checkSyncInterval(f.interval); err != nil {
		return err
	}
	if f.wsus.server == "" {
		return nil
	}
	if err := store.ValidateHostName(f.wsus.server); err != nil {
		return fmt.Errorf("-wsus-server: %w", err)
	}
	return nil
}

// options are the sync settings of the configured server.
func (f *scheduleFlags) options() wsus.Options {
	return wsus.Options{Server: f.wsus.server, Port: f.wsus.port, UseSSL: f.wsus.ssl}
}

// scheduler returns the scheduler of the configured WSUS server, dialling
// it with the WinRM settings in force at each sync; nil without
// -wsus-server.
func (f *scheduleFlags) scheduler(st *store.Store, src func(context.Context) (remote.Config, error), log *slog.Logger) *wsus.Scheduler {
	if f.wsus.server == "" {
		return nil
	}
	target := remote.Target{Name: f.wsus.server, Address: f.wsus.address}
	dial := func(ctx context.Context) (wsus.Session, error) {
		cfg, err := src(ctx)
		if err != nil {
			return nil, &remote.Error{Host: target.Name, Kind: remote.ErrNotConfigured, Help: err.Error(), Err: err}
		}
		client, err := remote.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		return client.Open(ctx, target)
	}
	return wsus.NewScheduler(st, dial, wsus.SchedulerOptions{Options: f.options(), Interval: f.interval, Logger: log})
}
