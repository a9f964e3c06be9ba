package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsusfix/sim"
	"wsusfix/store"
)

var syncLineRE = regexp.MustCompile(`^sync wsus01\.corp\.contoso\.test: computers (\d+) \(new (\d+), updated (\d+), gone (\d+)\), failing (\d+), events (\d+) in \d+\.\ds\n$`)

// TestSync_AgainstSimulator ensures `wsusfix sync` fills an empty database
// from the simulated WSUS server over HTTPS, prints its summary line, reads
// only what changed the second time, marks a computer removed from WSUS
// gone on -full, and exits with the reason when the account lacks WSUS
// rights.
func TestSync_AgainstSimulator(t *testing.T) {
	t.Parallel()
	fleet := sim.NewFleet(sim.FleetConfig{Seed: 5, Hosts: 40, End: time.Now().Add(-24 * time.Hour)})
	srv := sim.StartTest(t, fleet, sim.Options{Password: "sync-pass", TLS: true, ScriptTimeScale: -1})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "inv.db")
	env := fakeEnv(map[string]string{"WSUSFIX_WINRM_PASSWORD": "sync-pass", "WSUSFIX_WSUS_ADDRESS": srv.Addr()})
	args := []string{"sync", "-db", db, "-wsus-server", "wsus01.corp.contoso.test",
		"-winrm-auth", "basic", "-winrm-ca", ca, "-winrm-user", "Administrator"}
	sync := func(extra ...string) ([]string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(t.Context(), append(append([]string(nil), args...), extra...), env, &out, &errOut)
		return syncLineRE.FindStringSubmatch(out.String()), out.String() + errOut.String(), err
	}

	failing := 0
	for _, h := range fleet.Hosts {
		if h.Failure() != 0 {
			failing++
		}
	}
	m, text, err := sync()
	if err != nil || m == nil || m[1] != "41" || m[2] != "41" || m[4] != "0" || m[5] != strconv.Itoa(failing) {
		t.Fatalf("first sync: %v\n%s", err, text)
	}
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hosts, err := st.FailingHosts(t.Context(), store.TriageFilter{})
	if err != nil || len(hosts) == 0 {
		t.Fatalf("triage after the sync: %d hosts, %v", len(hosts), err)
	}

	if m, text, err = sync(); err != nil || m == nil || m[1] != "0" {
		t.Errorf("second sync read computers though none reported: %v\n%s", err, text)
	}

	gone := hosts[0].Name
	srv.RemoveFromWSUS(gone)
	if m, text, err = sync("-full"); err != nil || m == nil || m[1] != "40" || m[4] != "1" {
		t.Errorf("full sync: %v\n%s", err, text)
	}
	if h, err := st.HostByName(t.Context(), gone); err != nil || h.GoneAt.IsZero() {
		t.Errorf("%s after the full sync: gone at %v, %v", gone, h.GoneAt, err)
	}

	srv.SetFault("WSUS01", sim.FaultWSUSNoRights)
	_, text, err = sync()
	if err == nil || !strings.Contains(err.Error(), "neither WSUS Administrators nor WSUS Reporters") ||
		!strings.Contains(err.Error(), "wsus_access_denied") {
		t.Errorf("sync without WSUS rights: %v\n%s", err, text)
	}
}

// TestSyncInterval_Refused ensures serve and demo refuse the same
// schedules at start: a negative interval, and one under a minute, which
// would run syncs back to back.
func TestSyncInterval_Refused(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "demo"} {
		for _, d := range []string{"-1m", "1s"} {
			// Accepted, it would serve until the deadline: then no error.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			err := run(ctx, []string{cmd, "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "x.db"), "-sync-interval", d},
				fakeEnv(map[string]string{"WSUSFIX_DEMO_PASSWORD": testDemoPassword}), io.Discard, io.Discard)
			cancel()
			if err == nil || !strings.Contains(err.Error(), "-sync-interval "+d) {
				t.Errorf("%s -sync-interval %s: %v, want it refused", cmd, d, err)
			}
		}
	}
}
