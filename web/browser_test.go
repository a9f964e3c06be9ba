package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wsusfix/store"
)

// chromiumPath finds Debian's Chromium. Without it the browser tests skip,
// except under CI, where a missing browser is a broken setup and must fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but no Chromium is installed (apt-get install chromium)")
	}
	t.Skip("no Chromium installed; apt-get install chromium to run the browser tests")
	return ""
}

// newBrowser starts headless Chromium with networking to the outside off.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	return ctx
}

// screenshot saves a PNG of the page when WSUSFIX_SCREENSHOT_DIR is set, so
// a person can look at what the test saw.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("WSUSFIX_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// waitLocation polls until the page's URL contains want.
func waitLocation(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, want) {
			return loc
		}
		if time.Now().After(deadline) {
			t.Fatalf("location %q never contained %q (last error %v)", loc, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browserSignIn signs in through the real form: it opens /login, types the
// credentials, submits, and waits until the browser has left /login.
func browserSignIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-password"]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-menu"]`)),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

// TestBrowser_TriageFilterAndOpenHost ensures that in a real browser a
// person can filter the demo's triage page by 0x80070002 with the form and
// open a host from the filtered list.
func TestBrowser_TriageFilterAndOpenHost(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db"), "-hosts", "300")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="failing-hosts"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="filter-code"]`), "0x80070002"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "code=0x80070002")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-row"]`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "triage-filtered")
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="host-error"] code')).map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) == 0 {
		t.Fatal("filtered page shows no hosts")
	}
	for _, c := range codes {
		if c != "0x80070002" {
			t.Fatalf("filtered list shows %s", c)
		}
	}
	host := openFirstHost(t, ctx, "history")
	screenshot(t, ctx, "host")
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="host-name"]`)))
	if err != nil || name != host {
		t.Fatalf("host page title %q (%v), want %q", name, err, host)
	}
	code, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="failure-code"]`)))
	if err != nil || code != "0x80070002" {
		t.Fatalf("host failure code %q (%v), want 0x80070002", code, err)
	}
}

// openFirstHost clicks the first host of the triage list, waits for its
// page and for the element with data-testid want, and returns its name.
func openFirstHost(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	host, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="host-link"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/hosts/"+host)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="`+want+`"]`))); err != nil {
		t.Fatal(err)
	}
	return host
}

// demoDB is a new database file for a browser test's demo, made from the
// migrated schema (store.NewFile): the pages are what these tests check,
// and the demo's own first start, migrations included, is checked by
// TestDemo_EndToEnd.
func demoDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	if err := store.NewFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}
