package remotetest

import (
	"encoding/pem"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/sim/replay"
)

// capturesDir is sim/testdata/winrm-captures, found from this file so
// that tests of any package reach it.
func capturesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "sim", "testdata", "winrm-captures")
}

// ReplayHost serves the named cassettes of sim/testdata/winrm-captures
// (real Windows answers) over HTTPS and returns a client and target for
// it, and the replay server, which lists the requests it was sent.
func ReplayHost(t testing.TB, files ...string) (*remote.Client, remote.Target, *replay.Server) {
	t.Helper()
	var cassettes []*replay.Cassette
	for _, f := range files {
		c, err := replay.Load(filepath.Join(capturesDir(), f))
		if err != nil {
			t.Fatal(err)
		}
		cassettes = append(cassettes, c)
	}
	rs := replay.New(cassettes...)
	srv := httptest.NewTLSServer(rs)
	t.Cleanup(srv.Close)
	c, target := ClientFor(t, srv)
	return c, target, rs
}

// ClientFor is a client and target for an httptest TLS server.
func ClientFor(t testing.TB, srv *httptest.Server) (*remote.Client, remote.Target) {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := remote.NewClient(remote.Config{HTTPS: true, CAPEM: ca, Auth: remote.AuthBasic, User: "vagrant",
		Password: "vagrant", OperationTimeout: 2 * time.Second, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// httptest's certificate names example.com; the address is the listener.
	return c, remote.Target{Name: "example.com", Address: srv.Listener.Addr().String()}
}
