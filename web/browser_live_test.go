package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_RunsListLive ensures that in a real browser the runs list
// follows an active run to its end in place, without a reload, and that
// the tab's title then says it ended.
func TestBrowser_RunsListLive(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "120")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
	}
	openFirstHost(t, ctx, "host-actions")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="check"]`))); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/runs/")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-row"]`))); err != nil {
		t.Fatal(err)
	}
	active, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("runs-live").hasAttribute("data-active")`))
	if err != nil {
		t.Fatal(err)
	}
	if !active {
		t.Skip("the check ended before the runs list opened; nothing to follow")
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mark = "kept"`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		still, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("runs-live").hasAttribute("data-active")`))
		if err != nil {
			t.Fatal(err)
		}
		if !still {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runs list still shows the run active after 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="run-row"] td:nth-of-type(3)`)))
	if err != nil {
		t.Fatal(err)
	}
	mark, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mark || ""`))
	title, _ := chromedp.Run(ctx, chromedp.Title())
	if strings.Contains(state, "running") || strings.Contains(state, "queued") || mark != "kept" || !strings.HasPrefix(title, "Ended · ") {
		t.Errorf("after the run ended: state %q, page kept %v, title %q", state, mark == "kept", title)
	}
}
