package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pdfTools finds poppler's pdftotext and pdfinfo, which read a printed
// report back. Without them the print test skips, except under CI.
func pdfTools(t *testing.T) (string, string) {
	t.Helper()
	text, err1 := exec.LookPath("pdftotext")
	info, err2 := exec.LookPath("pdfinfo")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but poppler-utils (pdftotext, pdfinfo) is not installed")
		}
		t.Skip("poppler-utils is not installed; apt-get install poppler-utils to run the print test")
	}
	return text, info
}

// TestBrowser_ReportPrintsToPDF ensures the reports page, printed to PDF
// by Chromium as "Print → Save as PDF" does (A4, the page's own CSS page
// size), holds the report's header, filters and figures, leaves out the
// navigation and forms, and fits on at most three pages.
func TestBrowser_ReportPrintsToPDF(t *testing.T) {
	t.Parallel()
	pdftotext, pdfinfo := pdfTools(t)
	ctx := newBrowser(t)
	base, _ := startProgram(t, "demo", "-addr", "127.0.0.1:0", "-db", demoDB(t), "-hosts", "200")
	browserSignIn(t, ctx, base, "demo", testDemoPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/reports"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="report-summary"]`))); err != nil {
		t.Fatal(err)
	}
	hosts, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="fig-hosts"]`)))
	if err != nil {
		t.Fatal(err)
	}
	failing, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="fig-failing"]`)))
	if err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		prefer := true
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &prefer})
		pdf = res.Data
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if dir := os.Getenv("WSUSFIX_SCREENSHOT_DIR"); dir != "" {
		path = filepath.Join(dir, "report.pdf")
	}
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"Windows Update report: WSUS01", "repairs from", "Hosts " + hosts, "Failing " + failing,
		"Compliance by WSUS group", "Repair activity by week"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed report lacks %q", want)
		}
	}
	for _, unwanted := range []string{"Sign out", "Find a host", "Show"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the printed report shows %q, which is for the screen", unwanted)
		}
	}
	info, err := exec.Command(pdfinfo, path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	var size string
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "Page size:"); ok {
			size = strings.TrimSpace(v)
		}
	}
	if pages < 1 || pages > 3 || !strings.Contains(size, "(A4)") {
		t.Errorf("printed %d pages of %q, want 1 to 3 A4 pages", pages, size)
	}
}
