package main

import (
	"context"
	"flag"
	"fmt"
	"io"

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
