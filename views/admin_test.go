package views_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"wsusfix/store"
	"wsusfix/views"
)

// TestAdminTabs ensures each admin page marks its own tab as current.
func TestAdminTabs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page templ.Component
		want string
	}{
		{"users", views.UsersPage(views.UsersProps{}), "/admin/users"},
		{"settings", views.SettingsPage(views.SettingsProps{}), "/admin/settings"},
		{"audit", views.AuditPage(views.AuditProps{}), "/admin/audit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), tt.page)
			got := attrs(one(t, doc, "admin-tabs").Find(`a[aria-current="page"]`), "href")
			if !cmp.Equal(got, []string{tt.want}) {
				t.Errorf("current tab %v, want [%s]", got, tt.want)
			}
		})
	}
}

// users is the account list as store.Users returns it.
var users = []store.User{
	{ID: 1, Name: "alice", Role: store.RoleAdmin, CreatedAt: at, LastLoginAt: at},
	{ID: 2, Name: `CORP\bob smith`, Role: store.RoleOperator, CreatedAt: at},
	{ID: 3, Name: "carol", Role: store.RoleViewer, Disabled: true, CreatedAt: at, LastLoginAt: at.Add(-24 * time.Hour)},
}

// TestUsersPage ensures each account shows its role, state and last sign-in
// with the actions that apply to it, and the admin cannot disable
// themselves.
func TestUsersPage(t *testing.T) {
	t.Parallel()
	doc := render(t, t.Context(), views.UsersPage(views.UsersProps{Users: users, Me: "alice"}))
	none(t, doc, "form-problem")
	none(t, doc, "one-time-password")
	rows := byID(doc, "user-row")
	if diff := cmp.Diff([]string{"alice", `CORP\bob smith`, "carol"}, attrs(rows, "data-user")); diff != "" {
		t.Fatalf("rows (-want +got):\n%s", diff)
	}
	tests := []struct {
		name        string
		row         int
		wantRole    string
		wantState   string
		wantDisable bool
		wantEnable  bool
		wantLast    string
	}{
		{"me: no disable", 0, "admin", "enabled", false, false, views.When(at)},
		{"another, never signed in", 1, "operator", "enabled", true, false, "—"},
		{"disabled", 2, "viewer", "disabled", false, true, views.When(at.Add(-24 * time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rows.Eq(tt.row)
			u := users[tt.row]
			if got := text(byID(r, "user-row-name")); got != u.Name {
				t.Errorf("name = %q", got)
			}
			if got := byID(r, "user-role-select").Find("option[selected]").AttrOr("value", ""); got != tt.wantRole {
				t.Errorf("role selected %q, want %q", got, tt.wantRole)
			}
			if got := byID(r, "user-role-select").Closest("form").AttrOr("action", ""); got != "/admin/users/"+url.PathEscape(u.Name)+"/role" {
				t.Errorf("role form posts to %q", got)
			}
			if got := text(byID(r, "user-state")); got != tt.wantState {
				t.Errorf("state = %q, want %q", got, tt.wantState)
			}
			if got := text(r.Find("td.when")); got != tt.wantLast {
				t.Errorf("last sign-in = %q, want %q", got, tt.wantLast)
			}
			for id, want := range map[string]bool{"user-disable": tt.wantDisable, "user-enable": tt.wantEnable, "user-reset": true} {
				b := byID(r, id)
				if got := b.Length() == 1; got != want {
					t.Errorf("%s shown = %v, want %v", id, got, want)
				}
			}
			if got := byID(r, "user-reset").Closest("form").AttrOr("action", ""); got != "/admin/users/"+url.PathEscape(u.Name)+"/password" {
				t.Errorf("reset posts to %q", got)
			}
		})
	}
}

// TestUsersPage_Forms ensures the add form keeps what was typed on a
// problem, and a generated password is shown once with whom it is for.
func TestUsersPage_Forms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		props       views.UsersProps
		wantProblem string
		wantOneTime string
		wantName    string
		wantRole    string
	}{
		{name: "problem keeps the form", props: views.UsersProps{Users: users, NewName: "dave!", NewRole: "operator", Problem: "A user name is 1–64 letters, digits and . _ - @ \\."},
			wantProblem: "A user name is 1–64 letters, digits and . _ - @ \\.", wantName: "dave!", wantRole: "operator"},
		{name: "created", props: views.UsersProps{Users: users, OneTime: &views.OneTimePassword{User: "dave", Password: "kq7-Vx2p-9Lm", Created: true}},
			wantOneTime: "Created dave.", wantRole: "viewer"},
		{name: "reset", props: views.UsersProps{Users: users, OneTime: &views.OneTimePassword{User: "carol", Password: "Zr4-t8Wq-1Hn"}},
			wantOneTime: "Reset the password of carol; their sessions have ended.", wantRole: "viewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, t.Context(), views.UsersPage(tt.props))
			if tt.wantProblem == "" {
				none(t, doc, "form-problem")
			} else if got := text(one(t, doc, "form-problem")); got != tt.wantProblem {
				t.Errorf("problem = %q, want %q", got, tt.wantProblem)
			}
			if tt.wantOneTime == "" {
				none(t, doc, "one-time-password")
				none(t, doc, "new-password")
			} else {
				if got := text(one(t, doc, "one-time-password")); !strings.HasPrefix(got, tt.wantOneTime) {
					t.Errorf("one-time = %q, want it to start %q", got, tt.wantOneTime)
				}
				if got := text(one(t, doc, "new-password")); got != tt.props.OneTime.Password {
					t.Errorf("new-password = %q, want %q", got, tt.props.OneTime.Password)
				}
			}
			if got := one(t, doc, "user-add-name").AttrOr("value", ""); got != tt.wantName {
				t.Errorf("add name = %q, want %q", got, tt.wantName)
			}
			sel := one(t, doc, "user-add-role").Find("option[selected]")
			// With nothing chosen the browser selects the first role, viewer.
			got := sel.AttrOr("value", "viewer")
			if got != tt.wantRole {
				t.Errorf("add role = %q, want %q", got, tt.wantRole)
			}
		})
	}
}

// TestSettingsPage ensures the WinRM form shows the stored settings, never a
// password (only whether one is set), and the notices that apply.
func TestSettingsPage(t *testing.T) {
	t.Parallel()
	methods := []string{"ntlm", "basic", "kerberos"}
	tests := []struct {
		name      string
		props     views.SettingsProps
		wantIDs   []string // notices shown
		wantPlace string   // password placeholder
		wantState string
		wantHTTPS bool
	}{
		{name: "nothing stored", props: views.SettingsProps{AuthMethods: methods, Auth: "ntlm"},
			wantState: "Not set."},
		{name: "stored, saved", props: views.SettingsProps{AuthMethods: methods, User: `CORP\svc-wsusfix`, Auth: "kerberos", HTTPS: true, Port: "5986",
			PasswordSet: true, PasswordSetAt: at, PasswordSetBy: "alice", UpdatedAt: at, UpdatedBy: "alice", KeyID: "k1-3f9a", Saved: true},
			wantIDs: []string{"settings-saved"}, wantPlace: "unchanged", wantHTTPS: true,
			wantState: "Set " + views.When(at) + " by alice; it is never shown again."},
		{name: "from environment, undecryptable, problems", props: views.SettingsProps{AuthMethods: methods, FromEnv: true, Auth: "basic",
			PasswordSet: true, PasswordSetAt: at, PasswordSetBy: "alice", Undecryptable: true,
			Problems: []string{"Basic authentication needs HTTPS.", "The port must be 0 to 65535."}},
			wantIDs:   []string{"settings-from-env", "form-problem", "settings-undecryptable"},
			wantPlace: "unchanged", wantState: "Set " + views.When(at) + " by alice; it is never shown again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.props
			doc := render(t, t.Context(), views.SettingsPage(p))
			for _, id := range []string{"settings-from-env", "settings-saved", "form-problem", "settings-undecryptable"} {
				want := 0
				for _, w := range tt.wantIDs {
					if w == id {
						want = 1
					}
				}
				if got := byID(doc, id).Length(); got != want {
					t.Errorf("%s: %d, want %d", id, got, want)
				}
			}
			if len(p.Problems) > 0 {
				if diff := cmp.Diff(p.Problems, texts(byID(doc, "form-problem").Find("li"))); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
			}
			pw := one(t, doc, "settings-password")
			if got := pw.AttrOr("value", "missing"); got != "" {
				t.Errorf("password field value = %q, want empty", got)
			}
			if got := pw.AttrOr("placeholder", ""); got != tt.wantPlace {
				t.Errorf("password placeholder = %q, want %q", got, tt.wantPlace)
			}
			if got := one(t, doc, "settings-user").AttrOr("value", ""); got != p.User {
				t.Errorf("user = %q, want %q", got, p.User)
			}
			if diff := cmp.Diff(methods, attrs(byID(doc, "settings-auth").Find("option"), "value")); diff != "" {
				t.Errorf("auth choices (-want +got):\n%s", diff)
			}
			if got := byID(doc, "settings-auth").Find("option[selected]").AttrOr("value", ""); got != p.Auth {
				t.Errorf("auth selected %q, want %q", got, p.Auth)
			}
			if got := one(t, doc, "settings-port").AttrOr("value", ""); got != p.Port {
				t.Errorf("port = %q, want %q", got, p.Port)
			}
			if got := one(t, doc, "settings-https").Is("[checked]"); got != tt.wantHTTPS {
				t.Errorf("https checked = %v, want %v", got, tt.wantHTTPS)
			}
			if got := text(one(t, doc, "settings-password-state")); got != tt.wantState {
				t.Errorf("password state = %q, want %q", got, tt.wantState)
			}
			one(t, doc, "settings-save")
		})
	}
}

// TestAuditQuery ensures the audit filters travel in the URL escaped and
// read back the same, defaults left out, and paging keeps the filters.
func TestAuditQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    views.AuditQuery
		path string
		want string
	}{
		{"zero", views.AuditQuery{}, "/admin/audit", "/admin/audit"},
		{"page 1 is the default", views.AuditQuery{Page: 1}, "/admin/audit", "/admin/audit"},
		{"every filter", views.AuditQuery{Actor: `CORP\alice`, Action: "run.start", Outcome: "denied", Target: "PC 001&x#y", Page: 2},
			"/admin/audit", "/admin/audit?action=run.start&actor=CORP%5Calice&outcome=denied&page=2&target=PC+001%26x%23y"},
		{"export drops the page", views.AuditQuery{Actor: "bob", Page: 5}.WithPage(0), "/admin/audit.csv", "/admin/audit.csv?actor=bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.q.Href(tt.path))
			if got != tt.want {
				t.Errorf("Href = %q, want %q", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			v := u.Query()
			back := views.AuditQuery{Actor: v.Get("actor"), Action: v.Get("action"), Outcome: v.Get("outcome"), Target: v.Get("target")}
			back.Page, _ = strconv.Atoi(v.Get("page"))
			want := tt.q
			if want.Page == 1 {
				want.Page = 0
			}
			if diff := cmp.Diff(want, back); diff != "" {
				t.Errorf("parsed back (-want +got):\n%s", diff)
			}
		})
	}
	q := views.AuditQuery{Actor: "bob", Outcome: "failed", Page: 2}
	if got, want := q.WithPage(3), (views.AuditQuery{Actor: "bob", Outcome: "failed", Page: 3}); got != want {
		t.Errorf("WithPage(3) = %+v, want %+v", got, want)
	}
}

// TestOutcomeClass ensures audit outcomes get the colour of what they mean.
func TestOutcomeClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		outcome, want string
	}{
		{store.OutcomeOK, "tag ok"},
		{store.OutcomeDenied, "tag warn"},
		{store.OutcomeFailed, "tag bad"},
		{store.OutcomeError, "tag bad"},
		{"", "tag bad"},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			if got := views.OutcomeClass(tt.outcome); got != tt.want {
				t.Errorf("outcomeClass(%q) = %q, want %q", tt.outcome, got, tt.want)
			}
		})
	}
}

// auditEntries is a page of the audit log, newest first.
var auditEntries = []store.AuditEntry{
	{ID: 3, At: at, Actor: "alice", Client: "10.0.0.5", Action: "run.start", Target: "PC-001", Outcome: store.OutcomeOK, Detail: "repair"},
	{ID: 2, At: at.Add(-time.Minute), Actor: "bob", Client: "10.0.0.6", Action: "run.start", Target: "PC-002", Outcome: store.OutcomeDenied, Detail: "role viewer"},
	{ID: 1, At: at.Add(-time.Hour), Actor: "", Client: "local", Action: "login", Target: "", Outcome: store.OutcomeFailed, Detail: hostile[1]},
}

// TestAuditPage ensures the audit log lists entries with who, what, target
// and outcome, counts them, and its filters, export and pager keep the
// query.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	q := views.AuditQuery{Actor: "alice", Action: "run.start", Outcome: "ok", Target: "PC", Page: 2}
	tests := []struct {
		name       string
		props      views.AuditProps
		wantTotal  string
		wantRows   int
		wantExport string
		wantNext   string
	}{
		{name: "empty", props: views.AuditProps{Page: 1, Pages: 1}, wantTotal: "0 entries", wantExport: "/admin/audit.csv"},
		{name: "one entry", props: views.AuditProps{Entries: auditEntries[:1], Total: 1, Page: 1, Pages: 1},
			wantTotal: "1 entry", wantRows: 1, wantExport: "/admin/audit.csv"},
		{name: "filtered, middle page", props: views.AuditProps{Entries: auditEntries, Query: q, Actions: []string{"login", "run.start"}, Total: 250, Page: 2, Pages: 3},
			wantTotal: "250 entries", wantRows: 3,
			wantExport: "/admin/audit.csv?action=run.start&actor=alice&outcome=ok&target=PC",
			wantNext:   "/admin/audit?action=run.start&actor=alice&outcome=ok&page=3&target=PC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.props
			doc := render(t, t.Context(), views.AuditPage(p))
			noInjectedMarkup(t, doc)
			if got := text(one(t, doc, "audit-total")); got != tt.wantTotal {
				t.Errorf("total = %q, want %q", got, tt.wantTotal)
			}
			rows := byID(doc, "audit-row")
			if rows.Length() != tt.wantRows {
				t.Fatalf("%d rows, want %d", rows.Length(), tt.wantRows)
			}
			if tt.wantRows == 0 {
				none(t, doc, "audit")
			}
			rows.Each(func(i int, r *goquery.Selection) {
				e := p.Entries[i]
				wantActor, wantTarget := e.Actor, e.Target
				if wantActor == "" {
					wantActor = "—"
				}
				if wantTarget == "" {
					wantTarget = "—"
				}
				got := []string{r.AttrOr("data-action", ""), text(byID(r, "audit-actor")), text(byID(r, "audit-action")),
					text(byID(r, "audit-target")), text(byID(r, "audit-outcome")), byID(r, "audit-outcome").AttrOr("class", "")}
				want := []string{e.Action, wantActor, e.Action, wantTarget, e.Outcome, views.OutcomeClass(e.Outcome)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("row %d (-want +got):\n%s", i, diff)
				}
				if got := text(r.Find("td").Last()); got != e.Detail {
					t.Errorf("row %d detail %q, want %q", i, got, e.Detail)
				}
			})
			if got := one(t, doc, "audit-export").AttrOr("href", ""); got != tt.wantExport {
				t.Errorf("export = %q, want %q", got, tt.wantExport)
			}
			if tt.wantNext == "" {
				none(t, doc, "audit-next")
			} else if got := one(t, doc, "audit-next").AttrOr("href", ""); got != tt.wantNext {
				t.Errorf("next = %q, want %q", got, tt.wantNext)
			}
			if got := one(t, doc, "audit-filter-actor").AttrOr("value", ""); got != p.Query.Actor {
				t.Errorf("actor filter = %q", got)
			}
			if got := one(t, doc, "audit-filter-target").AttrOr("value", ""); got != p.Query.Target {
				t.Errorf("target filter = %q", got)
			}
			if got := byID(doc, "audit-filter-action").Find("option[selected]").AttrOr("value", ""); got != p.Query.Action {
				t.Errorf("action selected %q, want %q", got, p.Query.Action)
			}
			if diff := cmp.Diff([]string{"", "ok", "failed", "denied", "error"}, attrs(byID(doc, "audit-filter-outcome").Find("option"), "value")); diff != "" {
				t.Errorf("outcome choices (-want +got):\n%s", diff)
			}
			if got := byID(doc, "audit-filter-outcome").Find("option[selected]").AttrOr("value", ""); got != p.Query.Outcome {
				t.Errorf("outcome selected %q, want %q", got, p.Query.Outcome)
			}
		})
	}
}
