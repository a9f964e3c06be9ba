package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// syncBuffer is a goroutine-safe bytes.Buffer for capturing output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeEnv returns a getenv over a map, so tests never see the real environment.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var listenRE = regexp.MustCompile(`listening on (http://[^/\s]+)/`)

// firstAdminRE finds the password serve prints for its first admin.
var firstAdminRE = regexp.MustCompile(`Sign in as admin / (\S+)`)

// testDemoPassword is the demo account's password in tests, passed as
// WSUSFIX_DEMO_PASSWORD by startProgram.
const testDemoPassword = "demo password for tests"

// startProgram runs the program in-process with args and returns its base
// URL once /healthz answers, and a stop function that shuts it down and
// reports run's error. A demo's account is demo / testDemoPassword.
func startProgram(t testing.TB, args ...string) (string, func() error) {
	t.Helper()
	base, _, stop := startProgramEnv(t, map[string]string{"WSUSFIX_DEMO_PASSWORD": testDemoPassword}, args...)
	return base, stop
}

// startProgramEnv is startProgram with an environment, also returning what
// the program printed to stdout (first-start passwords, say).
func startProgramEnv(t testing.TB, environ map[string]string, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, fakeEnv(environ), &stdout, &stderr) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(stdout.String()); m != nil {
			if res, err := http.Get(m[1] + "/healthz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					stopped := false
					stop := func() error {
						if stopped {
							return nil
						}
						stopped = true
						cancel()
						select {
						case err := <-done:
							return err
						case <-time.After(15 * time.Second):
							return fmt.Errorf("program did not shut down within 15s")
						}
					}
					t.Cleanup(func() { stop() })
					return m[1], &stdout, stop
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("program exited early: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("program not ready after 60s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		}
	}
}

// signIn signs user in through the login form and returns a client that
// carries the session cookie (and follows redirects).
func signIn(t testing.TB, base, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		t.Fatalf("sign in as %s: status %d at %s", user, res.StatusCode, res.Request.URL)
	}
	return c
}

// demoClient signs in to a demo started by startProgram.
func demoClient(t *testing.T, base string) *http.Client {
	return signIn(t, base, "demo", testDemoPassword)
}

// getDoc fetches a page anonymously.
func getDoc(t *testing.T, url string) (int, *goquery.Document) {
	t.Helper()
	return getDocAs(t, http.DefaultClient, url)
}

// getDocAs fetches a page with client c, signed in or not.
func getDocAs(t *testing.T, c *http.Client, url string) (int, *goquery.Document) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, doc
}

// TestDemo_EndToEnd ensures `wsusfix demo` starts on a free port, seeds a
// simulated fleet, serves the triage and host pages, and shuts down cleanly.
func TestDemo_EndToEnd(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	base, stop := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", db, "-hosts", "300")
	if _, doc := getDoc(t, base+"/"); doc.Find(`[data-testid="login-form"]`).Length() != 1 {
		t.Fatal("an anonymous visitor is not sent to the sign-in form")
	}
	c := demoClient(t, base)
	status, doc := getDocAs(t, c, base+"/")
	if status != http.StatusOK {
		t.Fatalf("triage status %d", status)
	}
	first := doc
	rows := doc.Find(`[data-testid="host-row"]`)
	if rows.Length() == 0 {
		t.Fatal("demo triage page lists no failing hosts")
	}
	top := doc.Find(`[data-testid="code-count"]`).First().AttrOr("data-code", "")
	if top != "0x80070002" {
		t.Errorf("most common error %q, want 0x80070002 in the demo fleet", top)
	}
	host := rows.First().AttrOr("data-host", "")
	status, doc = getDocAs(t, c, base+"/hosts/"+host)
	if status != http.StatusOK || doc.Find(`[data-testid="history-row"]`).Length() < 10 {
		t.Fatalf("host page %s: status %d, %d history rows", host, status, doc.Find(`[data-testid="history-row"]`).Length())
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	// A second start reuses the database instead of seeding it again.
	base, stop = startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", db, "-hosts", "300")
	_, again := getDocAs(t, demoClient(t, base), base+"/")
	if got, want := again.Find(`[data-testid="code-counts"]`).Text(), first.Find(`[data-testid="code-counts"]`).Text(); got != want {
		t.Errorf("restart changed the fleet's counts:\n%s\nvs\n%s", got, want)
	}
	if err := stop(); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

// TestServe_EmptyInventory ensures serve over a new database shows the
// empty state that says how to import.
func TestServe_EmptyInventory(t *testing.T) {
	t.Parallel()
	base, out, _ := startProgramEnv(t, nil, "serve", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "new.db"))
	m := firstAdminRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no first admin password printed:\n%s", out.String())
	}
	status, doc := getDocAs(t, signIn(t, base, "admin", m[1]), base+"/")
	if status != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="empty-inventory"]`).Text(), "import hosts") {
		t.Fatalf("status %d; empty state missing", status)
	}
}

// TestRun_Help ensures every subcommand documents its flags with their
// environment variables, and that mistakes are reported, not ignored.
func TestRun_Help(t *testing.T) {
	t.Parallel()
	for cmd, flags := range map[string][]string{
		"serve": {"-addr", "-db", "-log-format", "-log-level", "WSUSFIX_ADDR", "WSUSFIX_DB", "-winrm-port", "-winrm-https",
			"-winrm-ca", "-winrm-insecure", "-winrm-auth", "-winrm-user", "-winrm-password-file", "WSUSFIX_WINRM_PASSWORD",
			"-winrm-krb5-conf", "WSUSFIX_WINRM_KRB5_CONF",
			"-key-file", "WSUSFIX_KEY_FILE", "-tls-cert", "-secure-cookies", "-trusted-proxies", "-session-idle",
			"-ldap-url", "WSUSFIX_LDAP_URL", "-ldap-bind-password-file", "WSUSFIX_LDAP_BIND_PASSWORD_FILE", "-ldap-groups", "-ldap-nested"},
		"demo":   {"-addr", "-db", "-seed", "-hosts", "WSUSFIX_DEMO_DB", "-key-file"},
		"user":   {"add", "list", "set-role", "disable", "reset-password", "-password-file", "WSUSFIX_DB"},
		"import": {"-db", "WSUSFIX_DB"},
	} {
		var out syncBuffer
		err := run(t.Context(), []string{cmd, "-h"}, fakeEnv(nil), &out, &out)
		if err == nil && cmd != "import" {
			t.Errorf("%s -h returned nil, want flag.ErrHelp so the exit code is non-zero", cmd)
		}
		for _, f := range flags {
			if !strings.Contains(out.String(), f) {
				t.Errorf("%s -h does not mention %s:\n%s", cmd, f, out.String())
			}
		}
	}
	if err := run(t.Context(), []string{"bogus"}, fakeEnv(nil), io.Discard, io.Discard); err == nil {
		t.Error("unknown command accepted")
	}
	if err := run(t.Context(), []string{"serve", "-log-format", "xml", "-db", filepath.Join(t.TempDir(), "x.db")}, fakeEnv(nil), io.Discard, io.Discard); err == nil {
		t.Error("bad -log-format accepted")
	}
}

// TestRun_EnvFallback ensures WSUSFIX_* variables set flag defaults.
func TestRun_EnvFallback(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "env.db")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, fakeEnv(map[string]string{"WSUSFIX_ADDR": "127.0.0.1:0", "WSUSFIX_DB": db}), &out, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !listenRE.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("not listening: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := filepath.Glob(db); err != nil {
		t.Fatal(err)
	}
}

// TestServe_WinRMSettings ensures bad WinRM settings stop serve at start
// with a reason, and that a password is never taken from a flag value.
func TestServe_WinRMSettings(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "w.db")
	err := run(t.Context(), []string{"serve", "-db", db, "-winrm-user", "admin", "-winrm-https=false", "-winrm-auth", "basic"},
		fakeEnv(map[string]string{"WSUSFIX_WINRM_PASSWORD": "pw"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("basic over http: got %v", err)
	}
	err = run(t.Context(), []string{"serve", "-db", db, "-winrm-user", "admin", "-winrm-https=false", "-winrm-auth", "kerberos",
		"-winrm-krb5-conf", writeKrb5Conf(t)}, fakeEnv(map[string]string{"WSUSFIX_WINRM_PASSWORD": "pw"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Kerberos message encryption") {
		t.Fatalf("kerberos over http: got %v", err)
	}
	err = run(t.Context(), []string{"serve", "-db", db, "-winrm-user", "admin", "-winrm-auth", "kerberos", "-winrm-krb5-conf", filepath.Join(t.TempDir(), "none")},
		fakeEnv(map[string]string{"WSUSFIX_WINRM_PASSWORD": "pw"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-winrm-krb5-conf") {
		t.Fatalf("kerberos without its krb5.conf: got %v", err)
	}
	err = run(t.Context(), []string{"serve", "-db", db, "-winrm-user", "admin", "-winrm-password", "pw"}, fakeEnv(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -winrm-password") {
		t.Fatalf("-winrm-password accepted as a flag: %v", err)
	}
	err = run(t.Context(), []string{"serve", "-db", db, "-winrm-user", "admin", "-winrm-password-file", filepath.Join(t.TempDir(), "missing")}, fakeEnv(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-winrm-password-file") {
		t.Fatalf("missing password file: %v", err)
	}
}
