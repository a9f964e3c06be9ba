package main

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wsusfix/sim"
)

// TestBrowser_OutcomesAndSearch ensures that in a real browser a healthy
// host is found with the header search and offers Check, not Repair, as
// its primary action; and that one bulk repair of hosts in different
// states ends, on the batches list, with every run's page opening on the
// banner of its outcome: repaired, ran and did not help, refused safely,
// could not reach or sign in.
func TestBrowser_OutcomesAndSearch(t *testing.T) {
	t.Parallel()
	const hosts = 300
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "300")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	// The demo's fleet, as the demo builds it, says which host is which.
	fleet := sim.NewFleet(sim.FleetConfig{Seed: 1, Hosts: hosts, End: time.Now()})
	want := map[string]string{} // host -> banner title
	var healthy string
	for _, h := range fleet.Hosts {
		code := h.Failure()
		var title string
		switch {
		case code == 0 && h.Fault == sim.FaultNone && !h.RebootPending:
			if healthy == "" {
				healthy = h.Name
			}
			continue
		case h.Fault == sim.FaultNone && !h.RebootPending && (code == 0x80070002 || code == 0x80070003):
			title = "Repaired (verified)"
		case h.Fault == sim.FaultNotFixable:
			title = "Ran, and did not help"
		case h.Fault == sim.FaultRebootPending || h.RebootPending && h.Fault == sim.FaultNone:
			title = "Refused safely"
		case h.Fault == sim.FaultUnreachable, h.Fault == sim.FaultAuthRefused:
			title = "Could not reach or sign in to the host"
		default:
			continue
		}
		if code == 0 || seen(want, title) {
			continue
		}
		want[h.Name] = title
	}
	if healthy == "" || len(want) < 4 {
		t.Fatalf("the demo fleet lacks a healthy host or an outcome: healthy %q, %v", healthy, want)
	}

	t.Logf("healthy %s; outcomes %v", healthy, want)
	err := chromedp.Do(ctx, chromedp.Navigate(base+"/"),
		chromedp.SendKeys(chromedp.CSS(`#host-search-q`), healthy+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="hosts"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="hosts"] a[href="/hosts/`+healthy+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-actions"]`)))
	if err != nil {
		t.Fatalf("find %s: %v", healthy, err)
	}
	primary, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('[data-primary="true"]') || {}).dataset.testid || ""`))
	if err != nil || primary != "check" {
		t.Errorf("healthy host's primary action %q (%v), want check", primary, err)
	}

	q := url.Values{}
	for name := range want {
		q.Add("host", name)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/repairs/new?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-start"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-start"]`))); err != nil {
		t.Fatal(err)
	}
	batchURL := waitLocation(t, ctx, "/batches/")
	bctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`#batch:not([data-active]) [data-testid="batch-outcomes"]`))); err != nil {
		t.Fatalf("batch did not finish: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/batches"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="batches"]`))); err != nil {
		t.Fatal(err)
	}
	progress, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="batch-progress"]`)))
	if wantP := strconv.Itoa(len(want)) + " of " + strconv.Itoa(len(want)) + " ended"; err != nil || progress != wantP {
		t.Errorf("batches list progress %q (%v), want %q", progress, err, wantP)
	}
	runs, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`(async () => {
			const page = new DOMParser().parseFromString(await (await fetch(`+"`"+`${location.origin}`+strings.TrimPrefix(batchURL, base)+"`"+`)).text(), "text/html");
			return Array.from(page.querySelectorAll('[data-testid="run-row"]')).map(r => [r.querySelector("td.host").textContent.trim(), r.querySelector("th a").getAttribute("href")]);
		})()`, chromedp.EvalAwaitPromise))
	if err != nil || len(runs) != len(want) {
		t.Fatalf("batch runs %v (%v)", runs, err)
	}
	for _, r := range runs {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+r[1]), chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-banner"]`))); err != nil {
			t.Fatalf("run of %s: %v", r[0], err)
		}
		title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="run-banner-title"]`)))
		if err != nil || title != want[r[0]] {
			t.Errorf("%s: banner %q (%v), want %q", r[0], title, err, want[r[0]])
		}
	}
}

// seen reports whether some host already stands for the banner title.
func seen(want map[string]string, title string) bool {
	for _, t := range want {
		if t == title {
			return true
		}
	}
	return false
}
