package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_SyncNowLive ensures that in a real browser the demo's
// triage says the inventory was synced, and that an admin's Sync now
// opens the new sync's page, which follows it live to its outcome and
// counts without a reload.
func TestBrowser_SyncNowLive(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "300")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="last-synced"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	synced, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="last-synced"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(synced, "Inventory synced from WSUS01") || !strings.Contains(synced, "full reconcile") {
		t.Errorf("triage says %q", synced)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/sync"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sync-now"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="sync-now"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/admin/syncs/")
	// Mark the document: a reload would lose the mark, a live swap keeps it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mark = "kept"`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var outcome string
	for {
		if outcome, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="sync-outcome"]`))); err != nil {
			t.Fatal(err)
		}
		// "" is the element read while the page swaps its section in: the
		// old node gone before its text was read.
		if (outcome != "running" && outcome != "") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	screenshot(t, ctx, "sync-finished")
	counts, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="sync-counts"]`)))
	if err != nil {
		t.Fatal(err)
	}
	mark, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mark || ""`))
	if err != nil {
		t.Fatal(err)
	}
	// The demo's 300 hosts and its WSUS server; incremental, so each
	// reported since the last sync's cursor (less the overlap) is listed.
	if outcome != "succeeded" || !strings.Contains(counts, "computers (new 0,") {
		t.Errorf("sync ended %q with %q", outcome, counts)
	}
	if mark != "kept" {
		t.Error("the sync page reloaded instead of updating in place")
	}
}
