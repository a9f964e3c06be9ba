package views_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"wsusfix/views"
)

// TestLoginPage ensures the sign-in form keeps the user name and the next
// page, never a password, shows why the last attempt failed, and focuses
// the field to fill in.
func TestLoginPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		props       views.LoginProps
		wantProblem string
		wantFocus   string
	}{
		{name: "first visit", props: views.LoginProps{Next: "/runs?state=failed"}, wantFocus: "login-username"},
		{name: "wrong password", props: views.LoginProps{Username: "alice", Next: "/hosts/PC-001", Problem: "Wrong user name or password."},
			wantProblem: "Wrong user name or password.", wantFocus: "login-password"},
		{name: "throttled, markup in the name", props: views.LoginProps{Username: hostile[1], Problem: "Too many attempts. Wait a minute."},
			wantProblem: "Too many attempts. Wait a minute.", wantFocus: "login-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.LoginPage(tt.props))
			noInjectedMarkup(t, doc)
			none(t, doc, "user-menu")
			if tt.wantProblem == "" {
				none(t, doc, "login-problem")
			} else {
				p := one(t, doc, "login-problem")
				if got := text(p); got != tt.wantProblem {
					t.Errorf("problem = %q, want %q", got, tt.wantProblem)
				}
				if got := p.AttrOr("role", ""); got != "alert" {
					t.Errorf("problem role = %q, want alert", got)
				}
			}
			form := one(t, doc, "login-form")
			if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/login" {
				t.Errorf("form %s %s, want post /login", form.AttrOr("method", ""), form.AttrOr("action", ""))
			}
			if got := form.Find(`input[name="next"]`).AttrOr("value", ""); got != tt.props.Next {
				t.Errorf("next = %q, want %q", got, tt.props.Next)
			}
			if got := one(t, doc, "login-username").AttrOr("value", ""); got != tt.props.Username {
				t.Errorf("username = %q, want %q", got, tt.props.Username)
			}
			pw := one(t, doc, "login-password")
			if v, ok := pw.Attr("value"); ok {
				t.Errorf("password field carries a value %q", v)
			}
			if got := pw.AttrOr("type", ""); got != "password" {
				t.Errorf("password type = %q", got)
			}
			if got := attrs(doc.Find("input[autofocus]"), "data-testid"); !cmp.Equal(got, []string{tt.wantFocus}) {
				t.Errorf("autofocus on %v, want %s", got, tt.wantFocus)
			}
			one(t, doc, "login-submit")
		})
	}
}

// TestSignedIn_Admin ensures only the admin role reaches the admin pages.
func TestSignedIn_Admin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role string
		want bool
	}{
		{"admin", true},
		{"operator", false},
		{"viewer", false},
		{"Admin", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			if got := (views.SignedIn{Name: "x", Role: tt.role}).Admin(); got != tt.want {
				t.Errorf("Admin() for %q = %v, want %v", tt.role, got, tt.want)
			}
		})
	}
}
