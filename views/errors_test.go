package views_test

import (
	"net/http"
	"testing"

	"wsusfix/views"
)

// TestErrorPage ensures an error page shows its title and safe message, the
// helpful link and the support reference only when given, and escapes them.
func TestErrorPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		props    views.ErrorProps
		wantLink string
	}{
		{name: "not found", props: views.ErrorProps{Status: http.StatusNotFound, Title: "Not found", Message: "There is no such page."}},
		{name: "server error with reference", props: views.ErrorProps{Status: http.StatusInternalServerError,
			Title: "Something went wrong", Message: "Something went wrong on our side.", Ref: "req-01JDX4K2"}},
		{name: "already running, with link", props: views.ErrorProps{Status: http.StatusConflict, Title: "Already running",
			Message: "PC-001 already has a run in progress.", Link: "/runs/42", LinkFor: "Follow run #42"}, wantLink: "/runs/42"},
		{name: "markup in the message", props: views.ErrorProps{Status: http.StatusBadRequest, Title: hostile[0],
			Message: `The error code "` + hostile[1] + `" is not an HRESULT.`, Ref: hostile[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.ErrorPage(tt.props))
			noInjectedMarkup(t, doc)
			if got := text(one(t, doc, "error-title")); got != tt.props.Title {
				t.Errorf("title = %q, want %q", got, tt.props.Title)
			}
			if got := doc.Find("title").Text(); got != tt.props.Title+" · wsusfix" {
				t.Errorf("document title = %q", got)
			}
			if got := text(one(t, doc, "error-message")); got != tt.props.Message {
				t.Errorf("message = %q, want %q", got, tt.props.Message)
			}
			if tt.props.Ref == "" {
				none(t, doc, "error-ref")
			} else if got := text(one(t, doc, "error-ref")); got != tt.props.Ref {
				t.Errorf("ref = %q, want %q", got, tt.props.Ref)
			}
			if tt.wantLink == "" {
				none(t, doc, "error-link")
			} else {
				l := one(t, doc, "error-link")
				if got := l.AttrOr("href", ""); got != tt.wantLink {
					t.Errorf("link = %q, want %q", got, tt.wantLink)
				}
				if got := text(l); got != tt.props.LinkFor {
					t.Errorf("link text = %q, want %q", got, tt.props.LinkFor)
				}
			}
			if doc.Find(`main a[href="/"]`).Length() == 0 {
				t.Error("no way back to the failing hosts")
			}
		})
	}
}
