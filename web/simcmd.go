package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/sim"
	"wsusfix/store/ingest"
)

// faultFlags collects repeated -fault NAME=FAULT flags.
type faultFlags map[string]sim.Fault

// String lists the faults given so far.
func (f faultFlags) String() string { return fmt.Sprint(map[string]sim.Fault(f)) }

// Set parses one HOST=FAULT flag value.
func (f faultFlags) Set(v string) error {
	name, fault, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want HOST=FAULT, got %q", v)
	}
	for _, known := range append(append([]sim.Fault{sim.FaultNone}, sim.Faults...), sim.WSUSFaults...) {
		if sim.Fault(fault) == known {
			f[strings.ToUpper(name)] = known
			return nil
		}
	}
	return fmt.Errorf("unknown fault %q; known: %v, on the WSUS server %v (empty clears)", fault, sim.Faults, sim.WSUSFaults)
}

// runSim runs `wsusfix sim`: the simulated fleet on its own listener, so a
// real `serve` can be pointed at it like at a network of Windows hosts.
func runSim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env(getenv)
	fs := newFlagSet("sim", "Run a simulated fleet of Windows hosts that answers WinRM. With -out, also write\n"+
		"the fleet's inventory and history as CSV files for `wsusfix import`, each host's\n"+
		"address set to this listener, and the CA certificate that `serve -winrm-ca` needs.\n"+
		"The password is WSUSFIX_SIM_PASSWORD, or generated and printed when unset.", stderr)
	listen := fs.String("listen", e.str("WSUSFIX_SIM_LISTEN", "127.0.0.1:5986"), "listen address [WSUSFIX_SIM_LISTEN]")
	seedDefault, err := e.int("WSUSFIX_SIM_SEED", 1)
	if err != nil {
		return err
	}
	hostsDefault, err := e.int("WSUSFIX_SIM_HOSTS", 400)
	if err != nil {
		return err
	}
	tlsDefault, err := e.bool("WSUSFIX_SIM_TLS", true)
	if err != nil {
		return err
	}
	seed := fs.Int64("seed", int64(seedDefault), "fleet seed; the demo uses the same fleets [WSUSFIX_SIM_SEED]")
	hosts := fs.Int("hosts", hostsDefault, "number of simulated hosts [WSUSFIX_SIM_HOSTS]")
	useTLS := fs.Bool("tls", tlsDefault, "serve HTTPS with a CA generated at start; without it, plain HTTP that takes only NTLM-encrypted messages [WSUSFIX_SIM_TLS]")
	user := fs.String("user", e.str("WSUSFIX_SIM_USER", "Administrator"), "the account every host accepts [WSUSFIX_SIM_USER]")
	latency := fs.Duration("latency", 0, "added to every request, to model a WAN")
	jitter := fs.Duration("jitter", 0, "random extra latency, up to this much")
	out := fs.String("out", "", "directory to write hosts.csv, history.csv and sim-ca.pem into")
	faults := faultFlags{}
	fs.Var(faults, "fault", "HOST=FAULT: give a host a fault (repeatable); faults: "+fmt.Sprint(sim.Faults)+
		", on the WSUS server: "+fmt.Sprint(sim.WSUSFaults))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hosts < 1 || *hosts > 100000 {
		return fmt.Errorf("-hosts %d: want 1 to 100000", *hosts)
	}
	password := getenv("WSUSFIX_SIM_PASSWORD")
	if password == "" {
		password = randomPassword()
		fmt.Fprintf(stdout, "Generated the fleet's password (set WSUSFIX_SIM_PASSWORD to choose one):\n  %s\n", password)
	}
	fleet := sim.NewFleet(sim.FleetConfig{Seed: *seed, Hosts: *hosts, End: time.Now()})
	// Plain HTTP behaves as Windows does by default (AllowUnencrypted=false):
	// only NTLM with message encryption gets in.
	srv := sim.NewServer(fleet, sim.Options{User: *user, Password: password, TLS: *useTLS, RequireEncryption: !*useTLS,
		Latency: *latency, Jitter: *jitter, Seed: *seed})
	for name, f := range faults {
		if !srv.SetFault(name, f) {
			return fmt.Errorf("-fault %s: no such host in the fleet", name)
		}
	}
	if err := srv.Start(*listen); err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "Simulated fleet of %d hosts (seed %d) answering WinRM on %s (%s), user %s.\n",
		len(fleet.Hosts), *seed, srv.Addr(), map[bool]string{true: "HTTPS", false: "HTTP"}[*useTLS], *user)
	if *out != "" {
		if err := writeFleetFiles(*out, fleet, srv); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote %s. To point the dashboard at this fleet:\n", filepath.Join(*out, "{hosts,history}.csv, sim-ca.pem"))
		fmt.Fprintf(stdout, "  wsusfix import hosts %s\n  wsusfix import history %s\n", filepath.Join(*out, "hosts.csv"), filepath.Join(*out, "history.csv"))
		winrm := fmt.Sprintf("-winrm-user %s -winrm-auth ntlm -winrm-https=false", *user)
		if *useTLS {
			winrm = fmt.Sprintf("-winrm-user %s -winrm-auth basic -winrm-ca %s", *user, filepath.Join(*out, "sim-ca.pem"))
		}
		// The imported hosts carry the simulator's address; the WSUS
		// server is dialled there too, and a sync keeps the hosts' addresses.
		wsusFlags := fmt.Sprintf("-wsus-server %s -wsus-address %s", fleet.WSUSServer, srv.Addr())
		fmt.Fprintf(stdout, "  WSUSFIX_WINRM_PASSWORD=... wsusfix sync %s %s\n", wsusFlags, winrm)
		fmt.Fprintf(stdout, "  WSUSFIX_WINRM_PASSWORD=... wsusfix serve %s %s\n", winrm, wsusFlags)
	}
	<-ctx.Done()
	return nil
}

// writeFleetFiles writes the fleet in the CSV formats `import` reads, with
// every host's address set to the simulator, and the CA certificate.
func writeFleetFiles(dir string, f *sim.Fleet, srv *sim.Server) error {
	// Owner only, like everything wsusfix writes: the fleet files name
	// every host and where to reach it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if ca := srv.CACertPEM(); len(ca) > 0 {
		if err := writePrivate(filepath.Join(dir, "sim-ca.pem"), func(w io.Writer) error {
			_, err := w.Write(ca)
			return err
		}); err != nil {
			return err
		}
	}
	hosts := [][]string{{"name", "fqdn", "address", "os", "os_build", "group", "last_report", "groups"}}
	history := [][]string{{"host", "time", "kb", "title", "operation", "result", "hresult", "update_id"}}
	for _, h := range f.Hosts {
		hosts = append(hosts, []string{h.Name, h.FQDN, srv.Addr(), h.OSCaption, h.OSBuild, h.Group, h.LastReport.UTC().Format(time.RFC3339),
			strings.Join(h.AllGroups(), ingest.GroupSeparator)})
		for _, ev := range h.History {
			history = append(history, []string{h.Name, ev.Time.UTC().Format(time.RFC3339), ev.KB, ev.Title, ev.Operation,
				string(ev.Result), fmt.Sprintf("0x%08X", ev.HResult), ev.UpdateID})
		}
	}
	if err := writeCSVFile(filepath.Join(dir, "hosts.csv"), hosts); err != nil {
		return err
	}
	return writeCSVFile(filepath.Join(dir, "history.csv"), history)
}

func writeCSVFile(path string, rows [][]string) error {
	return writePrivate(path, func(f io.Writer) error {
		// The fleet files are also opened in spreadsheets, so they get the
		// same guard as every export.
		w := sheet.NewCSV(f)
		for _, row := range rows {
			if err := w.Write(row); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}

// writePrivate writes path through fill, creating or truncating it with
// mode 0600 whatever the umask (an existing file is narrowed to 0600 too).
func writePrivate(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := errors.Join(f.Chmod(0o600), fill(f), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// randomPassword returns 18 random bytes as URL-safe base64.
func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var _ flag.Value = faultFlags{}
