package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/store"
)

// TestSim_ImportThenReach ensures the standalone simulator writes an
// inventory that `import` accepts, and that every imported host is then
// reachable at its inventory address: over HTTPS with the CA written
// beside it, and over plain HTTP with NTLM message encryption (the only
// way in, as on a Windows host with default settings). That is the path
// `serve` takes to a simulated network.
func TestSim_ImportThenReach(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		tls  bool
		hint string
	}{
		{"https", true, "-winrm-auth basic -winrm-ca"},
		{"http", false, "-winrm-auth ntlm -winrm-https=false"},
	} {
		t.Run(tt.name, func(t *testing.T) { simImportThenReach(t, tt.tls, tt.hint) })
	}
}

func simImportThenReach(t *testing.T, useTLS bool, hint string) {
	dir := t.TempDir()
	tlsFlag := fmt.Sprintf("-tls=%v", useTLS)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	envs := fakeEnv(map[string]string{"WSUSFIX_SIM_PASSWORD": "fleet-pass-1"})
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "-listen", "127.0.0.1:0", "-hosts", "25", "-out", dir, "-fault", "NOPE=slow"}, envs, &out, &out)
	}()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("fault for an unknown host: %v", err)
	}
	go func() {
		done <- run(ctx, []string{"sim", "-listen", "127.0.0.1:0", "-hosts", "25", tlsFlag, "-out", dir}, envs, &out, &out)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "wsusfix import history") {
		if time.Now().After(deadline) {
			t.Fatalf("sim did not write its files: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(out.String(), "fleet-pass-1") {
		t.Fatal("sim printed a password it was given")
	}
	if !strings.Contains(out.String(), hint) {
		t.Fatalf("sim's advice lacks %q: %s", hint, out.String())
	}

	db := filepath.Join(dir, "inv.db")
	for _, kind := range []string{"hosts", "history"} {
		var buf bytes.Buffer
		if err := run(ctx, []string{"import", kind, "-db", db, filepath.Join(dir, kind+".csv")}, fakeEnv(nil), &buf, &buf); err != nil {
			t.Fatalf("import %s: %v\n%s", kind, err, buf.String())
		}
	}
	// The sync command the simulator printed, run as printed: it reaches
	// the WSUS server at the simulator and keeps the imported addresses.
	var syncArgs []string
	for _, line := range strings.Split(out.String(), "\n") {
		if _, after, ok := strings.Cut(line, "wsusfix sync "); ok {
			syncArgs = append([]string{"sync", "-db", db}, strings.Fields(after)...)
		}
	}
	if syncArgs == nil {
		t.Fatalf("sim printed no sync command: %s", out.String())
	}
	var syncOut bytes.Buffer
	if err := run(ctx, syncArgs, fakeEnv(map[string]string{"WSUSFIX_WINRM_PASSWORD": "fleet-pass-1"}), &syncOut, &syncOut); err != nil {
		t.Fatalf("%v: %v\n%s", syncArgs, err, syncOut.String())
	}
	if !strings.Contains(syncOut.String(), "computers 26 (new 1, updated ") {
		t.Errorf("sync printed %q; want the 25 imported hosts and the WSUS server", syncOut.String())
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	failing, err := st.FailingHosts(ctx, store.TriageFilter{Limit: 3})
	if err != nil || len(failing) == 0 {
		t.Fatalf("no failing hosts imported (%v)", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "sim-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := remote.Config{HTTPS: true, CAPEM: ca, Auth: remote.AuthBasic, User: "Administrator", Password: "fleet-pass-1"}
	if !useTLS {
		cfg = remote.Config{Auth: remote.AuthNTLM, User: "Administrator", Password: "fleet-pass-1"}
	}
	client, err := remote.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := failing[0]
	if h.Address == "" {
		t.Fatalf("host %s imported without the simulator's address", h.Name)
	}
	s, err := client.Open(ctx, remote.Target{Name: h.FQDN, Address: h.Address})
	if err != nil {
		t.Fatalf("reach %s at %s: %v", h.FQDN, h.Address, err)
	}
	defer s.Close()
	var got bytes.Buffer
	code, err := s.Run(ctx, "hostname", nil, &got, io.Discard)
	if err != nil || code != 0 || strings.TrimSpace(got.String()) != h.Name {
		t.Fatalf("hostname on %s = %q, %d, %v", h.Name, got.String(), code, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim shutdown: %v", err)
	}
}
