package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeScript reads axe-core, installed by .ci/run (npm ci in .ci/axe).
// Without it the accessibility test skips, except under CI.
func axeScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", ".ci", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but axe-core is missing (cd .ci/axe && npm ci): %v", err)
		}
		t.Skip("axe-core is not installed; run: cd .ci/axe && npm ci")
	}
	return string(b)
}

// axeViolation is what axe reports of one rule a page breaks.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// colourScheme sets the prefers-color-scheme the page sees.
func colourScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

// axeRules are the rule sets checked: WCAG 2.0 and 2.1, levels A and AA.
const axeRules = `{runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}`

// axeSelfTest proves the check can fail: an image without alt text and
// grey-on-white text (1.9:1) added to the page must be reported.
func axeSelfTest(t *testing.T, ctx context.Context, script string) {
	t.Helper()
	// The page's CSP refuses style attributes in markup, so the faint
	// colours are set through the CSSOM, which it allows.
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](script+`;(() => {
			const d = document.createElement("div");
			d.id = "axe-self-test";
			d.innerHTML = '<img src="/static/none.png"><p>faint text</p>';
			const p = d.querySelector("p");
			p.style.color = "#bbb";
			p.style.background = "#fff";
			document.body.append(d);
		})();
		axe.run(document, `+axeRules+`).then(r => { document.getElementById("axe-self-test").remove(); return r.violations.map(v => v.id); })`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe self-test: %v", err)
	}
	if !slices.Contains(ids, "image-alt") || !slices.Contains(ids, "color-contrast") {
		t.Fatalf("axe did not report a broken image and faint text: %v", ids)
	}
}

// axeCheck runs axe's WCAG 2.x A and AA rules on the page shown and fails
// the test with each violation and where it is.
func axeCheck(t *testing.T, ctx context.Context, script, page, scheme string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script+";true")); err != nil {
		t.Fatalf("%s (%s): load axe: %v", page, scheme, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, `+axeRules+`).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s (%s): axe: %v", page, scheme, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s (%s): axe result: %v", page, scheme, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes[:min(3, len(v.Nodes))] {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML[:min(120, len(n.HTML))])
		}
		t.Errorf("%s (%s): %s, %d nodes: %s\n  %s", page, scheme, v.ID, len(v.Nodes), v.Help, strings.Join(where, "\n  "))
	}
}

// TestBrowser_Accessibility ensures every page of the dashboard passes
// axe's WCAG 2.1 A and AA rules, contrast included, in the light and the
// dark colour scheme: sign-in, triage (whole and filtered), host search,
// a host, its repair confirmation, a finished run, a bulk confirmation,
// the runs, batches and a finished batch, every admin page, a sync and the
// missing page.
func TestBrowser_Accessibility(t *testing.T) {
	t.Parallel()
	script := axeScript(t)
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "120")

	schemes := []string{"light", "dark"}
	for _, scheme := range schemes {
		if err := chromedp.Do(ctx, colourScheme(scheme), chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`))); err != nil {
			t.Fatal(err)
		}
		if scheme == "light" {
			axeSelfTest(t, ctx, script)
		}
		axeCheck(t, ctx, script, "/login", scheme)
	}
	browserSignIn(t, ctx, base, "demo", testDemoPassword)

	// A host with a failure, its check run, and a batch of two checks give
	// the run and batch pages something to show.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="host-link"]`))); err != nil {
		t.Fatal(err)
	}
	host := openFirstHost(t, ctx, "host-actions")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="check"]`))); err != nil {
		t.Fatal(err)
	}
	runURL := waitLocation(t, ctx, "/runs/")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-banner"]`))); err != nil {
		t.Fatal(err)
	}
	bulkURL := "/repairs/new?host=" + url.QueryEscape(host)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+bulkURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-start"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-start"]`))); err != nil {
		t.Fatal(err)
	}
	batchURL := waitLocation(t, ctx, "/batches/")
	bctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`#batch:not([data-active]) [data-testid="batch-outcomes"]`))); err != nil {
		t.Fatalf("batch did not finish: %v", err)
	}

	pages := []struct{ path, ready string }{
		{"/", "failing-hosts"},
		{"/?code=0x80070002", "failing-hosts"},
		{"/hosts?q=" + host[:3], "hosts"},
		{"/hosts/" + host, "host-actions"},
		{"/hosts/" + host + "/repair", "confirm-title"},
		{strings.TrimPrefix(runURL, base), "run-banner"},
		{bulkURL, "bulk-title"},
		{"/runs", "runs"},
		{"/batches", "batches"},
		{"/reports", "report-summary"},
		{"/profile", "token-form"},
		{strings.TrimPrefix(batchURL, base), "batch-outcomes"},
		{"/admin/users", "admin-tabs"},
		{"/admin/settings", "admin-tabs"},
		{"/admin/audit", "audit"},
		{"/admin/sync", "syncs"},
		{"/admin/syncs/1", "sync-outcome"},
		{"/no-such-page", "error-title"},
	}
	for _, scheme := range schemes {
		if err := chromedp.Do(ctx, colourScheme(scheme)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := chromedp.Do(wctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(`[data-testid="`+p.ready+`"]`)))
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", p.path, err)
			}
			axeCheck(t, ctx, script, p.path, scheme)
			if p.path == "/" || p.path == "/admin/sync" {
				screenshot(t, ctx, "axe-"+scheme+strings.ReplaceAll(p.path, "/", "-"))
			}
		}
		// The scheme really is in force: the page background is the
		// scheme's own.
		bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).backgroundColor`))
		if want := map[string]string{"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}[scheme]; err != nil || bg != want {
			t.Errorf("%s scheme: page background %q (%v), want %q", scheme, bg, err, want)
		}
	}
}
