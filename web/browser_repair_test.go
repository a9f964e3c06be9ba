package main

import (
	"strings"
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
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "200")
	host := demoRepairable(t, 200)
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/hosts/"+host),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="repair"][data-primary="true"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="repair"]`)),
		// Repair asks first, naming the host and what will change.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-changes"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="confirm-title"]`))); err != nil || !strings.Contains(title, host) {
		t.Fatalf("confirmation %q (%v) does not name %s", title, err, host)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="confirm-repair"]`))); err != nil {
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
	// The finished run's banner arrives without a reload, in the views' words.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-banner"]`))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="run-banner-title"]`)))
	if err != nil || !strings.HasPrefix(title, "Repaired") && !strings.HasPrefix(title, "Ran") {
		t.Fatalf("banner %q (%v) after a repair that succeeded", title, err)
	}
	// The facts are refreshed too: how long it took shows without a reload,
	// and the tab's title says how the run ended.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-took"]`))); err != nil {
		t.Fatal(err)
	}
	if pageTitle, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`)); err != nil || !strings.HasPrefix(pageTitle, title) {
		t.Fatalf("page title %q (%v), want it to start with %q", pageTitle, err, title)
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

// TestBrowser_BulkRepairLive ensures a bulk repair started from its
// confirmation page lands on the batch page, whose counts reach the end
// without the page being reloaded.
func TestBrowser_BulkRepairLive(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "200")
	f := sim.NewFleet(sim.FleetConfig{Seed: 1, Hosts: 200, End: time.Now()})
	var picked []string
	for _, h := range f.Hosts {
		if (h.Failure() == 0x80070002 || h.Failure() == 0x80070003) && h.Fault == sim.FaultNone && !h.RebootPending && h.FreeDiskGB >= 20 {
			picked = append(picked, h.Name)
		}
		if len(picked) == 3 {
			break
		}
	}
	browserSignIn(t, ctx, base, "demo", testDemoPassword)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/repairs/new?host="+picked[0]+"&host="+picked[1]+"&host="+picked[2]),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-start"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="bulk-title"]`)))
	if err != nil || title != "Repair 3 hosts?" {
		t.Fatalf("confirmation %q (%v)", title, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="bulk-start"]`))); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/batches/")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stillHere = true`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#batch:not([data-active]) [data-testid="batch-outcomes"]`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "batch-done")
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="count-succeeded"]`)))
	if err != nil || done != "3" {
		t.Fatalf("succeeded count %q (%v), want 3", done, err)
	}
	if kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stillHere === true`)); err != nil || !kept {
		t.Fatalf("the batch page was reloaded instead of updated in place (%v)", err)
	}
}
