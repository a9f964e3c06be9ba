package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/storetest"
)

// BenchmarkTriageVsStatic measures, with wrk from Debian, how many
// requests a second `serve` answers for triage (whole, filtered by code,
// searched by name) and a host page, signed in, over 100,000 hosts and
// 2,000,000 history rows; and, side by side, how many a static file server
// (net/http's) answers for the same bytes. Its figures are the ratios.
// Budgets (issue 16): triage and the host page at least 0.25 of the
// static file's rate, filtered and searched at least 0.1.
//
//	WSUSFIX_BENCH_DB=/tmp/big.db go test -run '^$' -bench TriageVsStatic -benchtime 1x ./web/
//
// WSUSFIX_BENCH_DB keeps the database between runs (building it takes
// about 15 s); WSUSFIX_BENCH_WRK_SECONDS sets each wrk run's length
// (default 5). It skips without wrk (apt-get install wrk).
func BenchmarkTriageVsStatic(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	seconds := 5
	if s, err := strconv.Atoi(os.Getenv("WSUSFIX_BENCH_WRK_SECONDS")); err == nil && s > 0 && s <= 60 {
		seconds = s
	}
	path := benchInventory(b)
	const user, password = "bench-wrk", "bench wrk password 1"
	base, _, _ := startProgramEnv(b, map[string]string{"WSUSFIX_DEMO_PASSWORD": testDemoPassword},
		"serve", "-db", path, "-addr", "127.0.0.1:0", "-log-level", "warn")
	c := signIn(b, base, user, password)
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(b, base)) {
		cookie = ck.Name + "=" + ck.Value
	}

	pages := []struct{ name, path string }{
		{"triage", "/"},
		{"triage-code", "/?code=0x80070003"},
		{"triage-search", "/?q=WS-0012"},
		{"host", "/hosts/SITE07-WS-012357"},
	}
	dir := b.TempDir()
	for _, p := range pages {
		res, err := c.Get(base + p.path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", p.path, res.StatusCode)
		}
		if err := os.WriteFile(filepath.Join(dir, p.name+".html"), body, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	static := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer static.Close()

	for range b.N {
		for _, p := range pages {
			ours := runWrk(b, wrk, seconds, base+p.path, cookie)
			theirs := runWrk(b, wrk, seconds, static.URL+"/"+p.name+".html", "")
			ratio := ours / theirs
			fmt.Fprintf(os.Stderr, "%-14s wsusfix %8.0f req/s   static file %8.0f req/s   %.3fx\n", p.name, ours, theirs, ratio)
			b.ReportMetric(ratio, p.name+"/static")
		}
	}
}

// benchInventory is the database the benchmark serves (storetest.BigDB),
// holding the benchmark's user.
func benchInventory(b *testing.B) string {
	path := storetest.BigDB(b)
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserByName(ctx, "bench-wrk"); err != nil {
		if _, err := st.CreateUser(ctx, "bench-wrk", store.RoleViewer, "bench wrk password 1"); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

var (
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: [^\n]+`)
)

// runWrk runs wrk with 2 threads and 16 connections for seconds against
// u (with the cookie, if any) and returns its requests per second. Any
// answer other than 2xx, or a socket error, fails the benchmark: a fast
// error page is no measure.
func runWrk(b *testing.B, wrk string, seconds int, u, cookie string) float64 {
	b.Helper()
	args := []string{"-t2", "-c16", "-d" + strconv.Itoa(seconds) + "s"}
	if cookie != "" {
		args = append(args, "-H", "Cookie: "+cookie)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, wrk, append(args, u)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", u, err, out)
	}
	if m := wrkErrors.Find(out); m != nil {
		b.Fatalf("wrk %s: %s\n%s", u, m, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk %s: no rate in its output:\n%s", u, out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	if rate <= 0 {
		b.Fatalf("wrk %s: no requests answered:\n%s", u, out)
	}
	return rate
}

// mustURL parses a URL the benchmark built itself.
func mustURL(b *testing.B, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return u
}
