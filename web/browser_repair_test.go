package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wsusfix/sim"
)

// demoRepairable picks a demo host the repair should fix: failing with
// 0x80070002, no simulated fault, disk enough for preflight.
func demoRepairable(t *testing.T, hosts int) string {
	t.Helper()
	f := sim.NewFleet(sim.FleetConfig{Seed: 1, Hosts: hosts, End: time.Now()})
	for _, h := range f.Hosts {
		if h.Failure() == 0x80070002 && h.Fault == sim.FaultNone && !h.RebootPending && h.FreeDiskGB >= 20 {
			return h.Name
		}
	}
	t.Fatal("no repairable host in the demo fleet")
	return ""
}

// TestBrowser_LoginRepairLogout ensures that in a real browser a person
// signs in to the demo, clicks Repair on a failing host, sees the steps
// complete live on the run page without reloading, sees the run end as
// succeeded, and signs out.
func TestBrowser_LoginRepairLogout(t *testing.T) {
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db"), "-hosts", "200")
	host := demoRepairable(t, 200)
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/hosts/"+host),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="repair"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="repair"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/runs/")
	// The page as first served: the run has barely begun.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="steps"]`))); err != nil {
		t.Fatal(err)
	}
	initial, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="step"][data-state="ok"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	// Steps turn ok one by one as the events arrive; the page is not reloaded
	// (data-finished is only ever set by the live script).
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#step-stop-services[data-state="ok"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#run[data-finished="true"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "run-finished")
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="run-state"]`)))
	if err != nil || state != "succeeded" {
		t.Fatalf("run state %q (%v), want succeeded", state, err)
	}
	final, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="step"][data-state="ok"]').length`))
	if err != nil || final != 9 || initial >= final {
		t.Fatalf("ok steps: %d when the page loaded, %d at the end (%v); want all 9 reached live", initial, final, err)
	}
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('pre.output .line').length`))
	if err != nil || lines == 0 {
		t.Fatalf("no step output shown (%v)", err)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
}
