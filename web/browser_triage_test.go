package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_SelectionAcrossPages ensures that in a real browser hosts
// ticked on two pages of triage both reach the bulk confirmation, that
// the page's select-all ticks every host on it, and that on a 400 px
// screen the error chips start folded.
func TestBrowser_SelectionAcrossPages(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db"), "-hosts", "400")
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

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(400, 800), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
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
