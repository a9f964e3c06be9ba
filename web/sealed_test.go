package main

import (
	"path/filepath"
	"testing"
	"time"

	runs "wsusfix/store/run"

	"wsusfix/sim"
	"wsusfix/store"
)

// TestServe_RepairOverSealedHTTP ensures the settings a Windows host needs
// out of the box work from the command line to the host: `serve` with
// -winrm-https=false -winrm-auth ntlm repairs a host on plain HTTP that,
// like Windows by default, takes only encrypted messages.
func TestServe_RepairOverSealedHTTP(t *testing.T) {
	t.Parallel()
	fleet := sim.NewFleet(sim.FleetConfig{Seed: 5, Hosts: 40, End: time.Now()})
	for i := range fleet.Hosts {
		fleet.Hosts[i].Fault, fleet.Hosts[i].RebootPending = sim.FaultNone, false
	}
	srv := sim.StartTest(t, fleet, sim.Options{Password: "sealed-pass-7", RequireEncryption: true, ScriptTimeScale: -1})
	var target sim.Host
	for _, h := range fleet.Hosts {
		if c := h.Failure(); c == 0x80070002 || c == 0x80070003 {
			target = h
			break
		}
	}
	if target.Name == "" {
		t.Fatal("no host failing with 0x80070002/3 in the fleet")
	}

	db := filepath.Join(t.TempDir(), "sealed.db")
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := seedFleet(t.Context(), st, fleet); err != nil {
		t.Fatal(err)
	}
	// The inventory sends the host's name to the simulator's address.
	if _, err := st.UpsertHosts(t.Context(), []store.HostInput{{Name: target.Name, FQDN: target.FQDN, Address: srv.Addr()}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	base, out, _ := startProgramEnv(t, map[string]string{"WSUSFIX_WINRM_PASSWORD": "sealed-pass-7"},
		"serve", "-addr", "127.0.0.1:0", "-db", db, "-winrm-https=false", "-winrm-auth", "ntlm", "-winrm-user", `CORP\Administrator`)
	m := firstAdminRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no first admin password printed: %s", out.String())
	}
	c := signIn(t, base, "admin", m[1])
	rn, st := repairThroughServe(t, c, base, db, target.Name, 60*time.Second)
	if rn.State != runs.StateSucceeded {
		evs, err := st.RunEvents(t.Context(), rn.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("run %+v over sealed HTTP; events %+v", rn, evs)
	}
	if c := srv.Counters(target.Name); c.ShellsCreated != 1 || c.ShellsOpen != 0 {
		t.Fatalf("%d shells created, %d open; want 1 and 0", c.ShellsCreated, c.ShellsOpen)
	}
}
