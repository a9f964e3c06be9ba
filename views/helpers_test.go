package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// at is the fixed instant the fixtures are built around: a Tuesday
// morning in UTC, with a non-zero minute so formatting is visible.
var at = time.Date(2026, 11, 24, 7, 42, 13, 0, time.UTC)

// hostile are host-supplied strings that must reach the page as text, never
// as markup: WSUS and CSV imports hand us whatever the host reported.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=1>`,
	`' onmouseover='alert(1)`,
}

// render renders c with ctx and parses the result; a render error fails
// the test.
func render(t *testing.T, ctx context.Context, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// byID selects the elements with data-testid id.
func byID(s interface {
	Find(string) *goquery.Selection
}, id string) *goquery.Selection {
	return s.Find(`[data-testid="` + id + `"]`)
}

// one returns the single element with data-testid id, failing the test
// when there is not exactly one.
func one(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	s := byID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("data-testid=%q: %d elements, want 1", id, s.Length())
	}
	return s
}

// none fails the test when an element with data-testid id exists.
func none(t *testing.T, doc *goquery.Document, id string) {
	t.Helper()
	if n := byID(doc, id).Length(); n != 0 {
		t.Errorf("data-testid=%q: %d elements, want none", id, n)
	}
}

// text is the element's text with runs of white space collapsed, as a
// reader sees it.
func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// texts is text of each element of s.
func texts(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, text(e)) })
	return out
}

// attrs is the attribute name of each element of s ("" when absent).
func attrs(s *goquery.Selection, name string) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, e.AttrOr(name, "")) })
	return out
}

// noInjectedMarkup fails the test when doc holds an element or attribute
// that only hostile data could have put there.
func noInjectedMarkup(t *testing.T, doc *goquery.Document) {
	t.Helper()
	// The layout loads its scripts by src; an inline script is injected.
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline <script> in the page: %q", s.Text())
		}
	})
	if n := doc.Find("img").Length(); n != 0 {
		t.Errorf("%d <img> elements, want none", n)
	}
	if n := doc.Find("[onerror], [onmouseover]").Length(); n != 0 {
		t.Errorf("%d elements with an event-handler attribute, want none", n)
	}
}
