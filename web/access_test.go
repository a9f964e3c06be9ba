package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/storetest"
)

// TestWinRMSource ensures a run gets the environment's WinRM settings when
// they exist, else the account stored on the settings page, and a clear
// error when neither is there.
func TestWinRMSource(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, filepath.Join(t.TempDir(), "w.db"))
	keys, _ := store.NewKeyring(bytes.Repeat([]byte{3}, 32))
	flagsFor := func(env map[string]string, args ...string) *winrmFlags {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		wf, err := registerWinRMFlags(fs, fakeEnv(env))
		if err != nil || fs.Parse(args) != nil {
			t.Fatal(err)
		}
		return wf
	}

	none := winrmSource{flags: flagsFor(nil), st: st, keys: keys}
	if _, err := none.Config(t.Context()); !errors.Is(err, errNoWinRM) {
		t.Fatalf("nothing configured: %v", err)
	}
	err := st.SaveWinRMSettings(t.Context(), keys, store.WinRMSettings{User: `CORP\stored`, Auth: "ntlm", HTTPS: true,
		Port: 15986, Password: "stored-secret"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := none.Config(t.Context())
	if err != nil || cfg.User != `CORP\stored` || string(cfg.Password) != "stored-secret" || cfg.Port != 15986 || !cfg.HTTPS {
		t.Fatalf("stored settings: %+v, %v", cfg, err)
	}
	env := winrmSource{flags: flagsFor(map[string]string{"WSUSFIX_WINRM_PASSWORD": "env-secret"}, "-winrm-user", `CORP\env`),
		st: st, keys: keys}
	if cfg, err := env.Config(t.Context()); err != nil || cfg.User != `CORP\env` || string(cfg.Password) != "env-secret" {
		t.Fatalf("environment settings: %+v, %v", cfg, err)
	}
	other, _ := store.NewKeyring(bytes.Repeat([]byte{4}, 32))
	if _, err := (winrmSource{flags: flagsFor(nil), st: st, keys: other}).Config(t.Context()); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("another key file: %v", err)
	}
}

// TestAccess_KeyFile ensures the key file is created next to the database,
// readable by its owner only, unless -key-file names another.
func TestAccess_KeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	acc, err := registerAccessFlags(fs, fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := acc.load(filepath.Join(dir, "app.db"), log); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "app.db.key"))
	if err != nil || fi.Mode().Perm() != 0o600 || acc.keys == nil {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	acc, _ = registerAccessFlags(fs, fakeEnv(map[string]string{"WSUSFIX_KEY_FILE": filepath.Join(dir, "elsewhere.key")}))
	fs.Parse([]string{"-trusted-proxies", "10.0.0.0/8, 192.0.2.7"})
	if err := acc.load(filepath.Join(dir, "app.db"), log); err != nil || len(acc.proxies) != 2 {
		t.Fatalf("load: %v, proxies %v", err, acc.proxies)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere.key")); err != nil {
		t.Fatal(err)
	}
}

// TestDemo_GeneratedPassword ensures demo without WSUSFIX_DEMO_PASSWORD
// prints a generated password for the account demo, and that it works.
func TestDemo_GeneratedPassword(t *testing.T) {
	t.Parallel()
	base, out, _ := startProgramEnv(t, nil, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "d.db"), "-hosts", "20")
	m := regexp.MustCompile(`Sign in as demo / (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no demo password printed:\n%s", out.String())
	}
	c := signIn(t, base, "demo", m[1])
	if status, doc := getDocAs(t, c, base+"/admin/users"); status != http.StatusOK ||
		doc.Find(`[data-testid="user-row"][data-user="demo"]`).Length() != 1 {
		t.Fatalf("demo cannot administer: %d", status)
	}
}

// TestServe_TLS ensures serve speaks HTTPS with -tls-cert and -tls-key, and
// that the session cookie is then Secure and __Host- prefixed, with HSTS.
func TestServe_TLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeTestCert(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", addr, "-db", filepath.Join(dir, "tls.db"), "-tls-cert", cert, "-tls-key", key},
			fakeEnv(nil), &out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "https://"+addr) {
		if time.Now().After(deadline) {
			t.Fatalf("not listening over HTTPS: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	pw := firstAdminRE.FindStringSubmatch(out.String())
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm("https://"+addr+"/login", url.Values{"username": {"admin"}, "password": {pw[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ck := res.Cookies()
	if res.StatusCode != http.StatusSeeOther || len(ck) != 1 || ck[0].Name != "__Host-wsusfix_session" || !ck[0].Secure ||
		!ck[0].HttpOnly || res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("sign in over TLS: %d, cookies %v, HSTS %q", res.StatusCode, ck, res.Header.Get("Strict-Transport-Security"))
	}
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(priv)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}
