package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_LoginTriageHostLogout ensures that in a real browser an
// anonymous visitor is sent to the sign-in form, comes back to the page
// first asked for after signing in, can open the triage page and a host,
// cannot read the session cookie from script, and that signing out ends
// the session: the same pages send the browser back to the form.
func TestBrowser_LoginTriageHostLogout(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "200")

	// Anonymous: the runs page sends us to the form, remembering where we were going.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs")); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/login?next=%2Fruns")
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-username"]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-password"]`), "not the password"),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-problem"]`)),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	screenshot(t, ctx, "login-failed")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-password"]`), testDemoPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-menu"]`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if loc := waitLocation(t, ctx, "/runs"); strings.Contains(loc, "login") {
		t.Fatalf("after sign-in at %s, want /runs", loc)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="user-name"]`)))
	if err != nil || name != "demo" {
		t.Fatalf("user menu names %q (%v)", name, err)
	}
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookies != "" {
		t.Fatalf("script can read cookies %q (%v): the session cookie must be HttpOnly", cookies, err)
	}

	// Triage, then a host.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="failing-hosts"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "triage-signed-in")
	host := openFirstHost(t, ctx, "host-name")

	// Sign out from the header; the host page is closed to us again.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	screenshot(t, ctx, "signed-out")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/hosts/"+host)); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/login?next=")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="user-menu"]').length`)); err != nil || n != 0 {
		t.Fatalf("still signed in after sign-out (%d menus, %v)", n, err)
	}
}
