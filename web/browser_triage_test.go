package main

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_SelectionAcrossPages ensures that in a real browser hosts
// ticked on two pages of triage both reach the bulk confirmation, that
// the page's select-all ticks every host on it, that a row is one line at
// 1366 px, and that on a 400 px screen the error chips start folded and
// the first host is on the first screen.
func TestBrowser_SelectionAcrossPages(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "400")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	first := tickFirst(t, ctx, base+"/")
	second := tickFirst(t, ctx, base+"/?page=2")
	if first == second {
		t.Fatalf("pages 1 and 2 start with the same host %s", first)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="selected-count"]`)))
	if err != nil || count != "2 hosts selected (1 on other pages)" {
		t.Errorf("selection says %q (%v)", count, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="repair-selected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-hosts"]`))); err != nil {
		t.Fatal(err)
	}
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="bulk-hosts"] li')).map(li => li.textContent.trim())`))
	if err != nil || len(listed) != 2 || !slices.Contains(listed, first) || !slices.Contains(listed, second) {
		t.Errorf("confirmation lists %q (%v), want %s and %s", listed, err, first, second)
	}

	// The selection was spent on that confirmation; select-all starts afresh.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="select-page"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="select-page"]`))); err != nil {
		t.Fatal(err)
	}
	ticked, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll('[data-testid="select-host"]:checked').length,
		document.querySelectorAll('[data-testid="select-host"]').length]`))
	if err != nil || ticked[0] != ticked[1] || ticked[0] == 0 {
		t.Errorf("select-all ticked %v (%v)", ticked, err)
	}

	// One line a host at 1366 px: the tallest of a page's rows stays under
	// two lines of text (the rows were about 150 px).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 800), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
	}
	tallest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`Math.max(...Array.from(document.querySelectorAll('[data-testid="host-row"]')).map(r => r.getBoundingClientRect().height))`))
	screenshot(t, ctx, "triage-1366")
	if err != nil || tallest > 64 {
		t.Errorf("tallest triage row %.0f px at 1366 px (%v), want one line (at most 64 px)", tallest, err)
	}
	// And every column, the last run included, fits without scrolling.
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`(w => w.scrollWidth > w.clientWidth)(document.querySelector('[data-testid="failing-hosts"]').parentElement)`))
	if err != nil || overflow {
		t.Errorf("the triage table scrolls sideways at 1366 px (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(400, 800), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
	}
	// At 400 px, with the chips folded, the first host is on the first screen.
	top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('[data-testid="host-row"]').getBoundingClientRect().top`))
	if err != nil || top > 800 {
		t.Errorf("first host at %.0f px at 400 px wide (%v), want on the first screen", top, err)
	}
	open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="code-counts-box"]').open`))
	if err != nil || open {
		t.Errorf("at 400 px the error chips are open (%v)", err)
	}
}

// tickFirst opens url and ticks its first host, returning the host's name.
func tickFirst(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`[data-testid="select-host"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="select-host"]`))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="select-host"]').value`))
	if err != nil {
		t.Fatal(err)
	}
	return name
}
