package views_test

import (
	"context"
	"testing"

	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/views"
)

// TestPage_SignedIn ensures the layout shows who is signed in, with a
// sign-out button, only when the context carries a user, and the admin
// link only to admins.
func TestPage_SignedIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ctx       func(context.Context) context.Context
		wantUser  string
		wantRole  string
		wantAdmin bool
	}{
		{name: "nobody", ctx: func(c context.Context) context.Context { return c }},
		{name: "viewer", ctx: func(c context.Context) context.Context {
			return views.WithSignedIn(c, views.SignedIn{Name: "bob", Role: "viewer"})
		}, wantUser: "bob", wantRole: "viewer"},
		{name: "operator", ctx: func(c context.Context) context.Context {
			return views.WithSignedIn(c, views.SignedIn{Name: `CORP\carol`, Role: "operator"})
		}, wantUser: `CORP\carol`, wantRole: "operator"},
		{name: "admin", ctx: func(c context.Context) context.Context {
			return views.WithSignedIn(c, views.SignedIn{Name: "alice", Role: "admin"})
		}, wantUser: "alice", wantRole: "admin", wantAdmin: true},
		{name: "name with markup", ctx: func(c context.Context) context.Context {
			return views.WithSignedIn(c, views.SignedIn{Name: hostile[1], Role: "viewer"})
		}, wantUser: hostile[1], wantRole: "viewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, tt.ctx(t.Context()), views.Page("Failing hosts", views.NavTriage))
			noInjectedMarkup(t, doc)
			if tt.wantUser == "" {
				none(t, doc, "user-menu")
				none(t, doc, "logout")
			} else {
				menu := one(t, doc, "user-menu")
				if got := menu.AttrOr("action", ""); got != "/logout" || menu.AttrOr("method", "") != "post" {
					t.Errorf("user menu form %s %q, want post /logout", menu.AttrOr("method", ""), got)
				}
				if got := text(one(t, doc, "user-name")); got != tt.wantUser {
					t.Errorf("user-name = %q, want %q", got, tt.wantUser)
				}
				if got := text(one(t, doc, "user-role")); got != tt.wantRole {
					t.Errorf("user-role = %q, want %q", got, tt.wantRole)
				}
				one(t, doc, "logout")
			}
			if got := byID(doc, "nav-admin").Length() == 1; got != tt.wantAdmin {
				t.Errorf("admin link shown = %v, want %v", got, tt.wantAdmin)
			}
		})
	}
}

// TestPage_Nav ensures exactly the current section is marked in the main
// navigation, and the title names the page.
func TestPage_Nav(t *testing.T) {
	t.Parallel()
	admin := views.WithSignedIn(t.Context(), views.SignedIn{Name: "alice", Role: "admin"})
	tests := []struct {
		name string
		nav  views.Nav
		want []string // hrefs marked current
	}{
		{"triage", views.NavTriage, []string{"/"}},
		{"runs", views.NavRuns, []string{"/runs"}},
		{"admin", views.NavAdmin, []string{"/admin/users"}},
		{"hosts has no entry", views.NavHosts, nil},
		{"none", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, admin, views.Page("Runs", tt.nav))
			if got := attrs(doc.Find(`nav[aria-label="Main"] a[aria-current="page"]`), "href"); !cmp.Equal(got, tt.want) {
				t.Errorf("current %v, want %v", got, tt.want)
			}
			if got := doc.Find("title").Text(); got != "Runs · wsusfix" {
				t.Errorf("title = %q", got)
			}
		})
	}
}

// TestPage_Children ensures a page's content lands inside main.
func TestPage_Children(t *testing.T) {
	t.Parallel()
	child := templ.Raw(`<p data-testid="child">hello</p>`)
	ctx := templ.WithChildren(t.Context(), child)
	doc := render(t, ctx, views.Page("X", ""))
	if got := one(t, doc, "child").ParentsFiltered("main#main").Length(); got != 1 {
		t.Error("children are not inside main#main")
	}
}

// TestPages_Layout ensures every full page renders inside the layout, so
// the signed-in user and the navigation appear on each of them.
func TestPages_Layout(t *testing.T) {
	t.Parallel()
	run, events := repairRun()
	tests := []struct {
		name string
		page templ.Component
	}{
		{"triage", views.TriagePage(triageProps(views.TriageQuery{Page: 1}))},
		{"host", views.HostPage(hostProps())},
		{"run", views.RunPage(views.RunProps{Run: run, Steps: views.BuildSteps(repairSteps, events)})},
		{"runs", views.RunsPage(views.RunsProps{Page: 1, Pages: 1})},
		{"batch", views.BatchPage(views.BatchProps{Batch: store.Batch{ID: 1}})},
		{"bulk", views.BulkConfirmPage(views.BulkProps{Hosts: []string{"PC-001"}, Shown: 100})},
		{"users", views.UsersPage(views.UsersProps{Users: users, Me: "alice"})},
		{"settings", views.SettingsPage(views.SettingsProps{})},
		{"audit", views.AuditPage(views.AuditProps{})},
		{"error", views.ErrorPage(views.ErrorProps{Status: 404, Title: "Not found", Message: "There is no such page."})},
	}
	ctx := views.WithSignedIn(t.Context(), views.SignedIn{Name: "alice", Role: "admin"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, ctx, tt.page)
			if got := text(one(t, doc, "user-name")); got != "alice" {
				t.Errorf("user-name = %q", got)
			}
			one(t, doc, "nav-admin")
			if doc.Find("main#main").Children().Length() == 0 {
				t.Error("main is empty")
			}
		})
	}
}
