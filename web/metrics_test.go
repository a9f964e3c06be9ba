package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestMetrics_OwnListener ensures -metrics-addr serves Prometheus metrics
// on a listener of its own, bound to loopback for a bare port, and not on
// the dashboard; that they count requests by route pattern, runs by
// procedure and outcome, and steps, and read the last sync and the
// database's size; and that no host or user name appears in them.
func TestMetrics_OwnListener(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db"), "-hosts", "40",
		"-metrics-addr", ":"+port)
	c := demoClient(t, base)
	if res, err := c.Get(base + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("the dashboard answers /metrics: %v %v", res.StatusCode, err)
	}

	// A check on a host, followed to its end.
	_, doc := getDocAs(t, c, base+"/")
	host := doc.Find(`[data-testid="host-link"]`).First().Text()
	res, err := c.PostForm(base+"/hosts/"+url.PathEscape(host)+"/repair", url.Values{"procedure": {"check"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	runURL := res.Request.URL.String()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, doc := getDocAs(t, c, runURL)
		if doc.Find(`[data-testid="run-banner"]`).Length() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check did not end within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	text := scrape(t, "http://127.0.0.1:"+port+"/metrics")
	for _, want := range []string{
		`wsusfix_http_requests_total{code="200",method="GET",route="/"}`,
		`wsusfix_http_requests_total{code="200",method="GET",route="/runs/{id}"}`,
		`wsusfix_http_requests_total{code="303",method="POST",route="/hosts/{name}/repair"}`,
		`wsusfix_runs_finished_total{outcome="checked",procedure="check"} 1`,
		`wsusfix_step_duration_seconds_count{status="ok",step="preflight"} 1`,
		`wsusfix_runs_active{state="running"} 0`,
		`wsusfix_sync_last_success_computers 41`,
		`wsusfix_database_bytes{file="main"}`,
		`wsusfix_sse_watchers 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, host) || strings.Contains(text, `"demo"`) {
		t.Errorf("a host or user name is in the metrics")
	}
	if n := len(regexp.MustCompile(`(?m)^wsusfix_http_requests_total`).FindAllString(text, -1)); n > 40 {
		t.Errorf("%d request series after a handful of pages: a label is not bounded", n)
	}
	// A bare port binds loopback only.
	if ip := firstNonLoopback(t); ip != "" {
		if _, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), time.Second); err == nil {
			t.Errorf("metrics answer on %s, not only on loopback", ip)
		}
	}
}

// scrape fetches a metrics page as text.
func scrape(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", u, res.StatusCode, err)
	}
	return string(b)
}

// firstNonLoopback is an address of this machine other than loopback, or
// "" when it has none.
func firstNonLoopback(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// TestMetrics_Token ensures -metrics-token-file opens /metrics on the
// dashboard's own address to a scraper with that token and to no one else,
// and that a token too short to be a credential stops the start.
func TestMetrics_Token(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("guessable\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "short.db"), "-hosts", "5",
		"-metrics-token-file", short}, fakeEnv(map[string]string{"WSUSFIX_DEMO_PASSWORD": testDemoPassword}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "at least 32 characters") {
		t.Errorf("a 9-character token: %v, want a refusal naming the length", err)
	}

	const token = "0f4c2b9e7a3d61f85c0e9b2a4d7f1c3e6b8a0d2f4c6e8a1b"
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "demo.db"), "-hosts", "10",
		"-metrics-token-file", file)
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "wsusfix_database_bytes") {
		t.Errorf("with the token: %d, want the metrics", res.StatusCode)
	}
}
