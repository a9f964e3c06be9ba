package views

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// AdminTab names the admin page shown, for the tab marker.
type AdminTab string

// The admin pages.
const (
	TabUsers    AdminTab = "users"
	TabSettings AdminTab = "settings"
	TabAudit    AdminTab = "audit"
)

// UsersProps is what the users page shows.
type UsersProps struct {
	Users   []store.User
	Me      string // the admin looking, who cannot disable themselves
	NewName string // kept when the add form has a problem
	NewRole string
	Problem string
	// OneTime is a password just generated, shown on this response only.
	OneTime *OneTimePassword
}

// OneTimePassword is a generated password, shown once and never stored in
// clear.
type OneTimePassword struct {
	User     string
	Password string
	Created  bool // a new account rather than a reset
}

// SettingsProps is what the WinRM settings page shows. It never carries
// the password itself, only whether one is stored.
type SettingsProps struct {
	FromEnv       bool     // the environment or a file configures WinRM and wins
	AuthMethods   []string // the choices of the form, the default first
	User          string
	Auth          string
	HTTPS         bool
	Port          string
	PasswordSet   bool
	PasswordSetAt time.Time
	PasswordSetBy string
	UpdatedAt     time.Time
	UpdatedBy     string
	KeyID         string // the key that encrypts; "" when there is no key file
	Undecryptable bool   // the stored password does not open with the key file
	Problems      []string
	Saved         bool
	// Directory is the directory sign-in configuration; nil when off.
	Directory *DirectorySettings
}

// AuditQuery is the audit page's filters as they travel in the URL.
type AuditQuery struct {
	Actor   string
	Action  string
	Outcome string
	Target  string
	Page    int
}

// Values encodes the query, leaving defaults out.
func (q AuditQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "action": q.Action, "outcome": q.Outcome, "target": q.Target} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// Href returns path with the query attached.
func (q AuditQuery) Href(path string) templ.SafeURL {
	if enc := q.Values().Encode(); enc != "" {
		return templ.SafeURL(path + "?" + enc)
	}
	return templ.SafeURL(path)
}

// WithPage returns the query on page n.
func (q AuditQuery) WithPage(n int) AuditQuery { q.Page = n; return q }

// AuditProps is what the audit log page shows.
type AuditProps struct {
	Entries []store.AuditEntry
	Query   AuditQuery
	Actions []string // every action recorded, for the filter menu
	Total   int
	Page    int
	Pages   int
}

// AuditOutcomes are the outcome filter's choices.
var AuditOutcomes = []string{store.OutcomeOK, store.OutcomeFailed, store.OutcomeDenied, store.OutcomeError}

// outcomeClass picks the tag colour of an audit outcome.
func outcomeClass(o string) string {
	switch o {
	case store.OutcomeOK:
		return "tag ok"
	case store.OutcomeDenied:
		return "tag warn"
	default:
		return "tag bad"
	}
}

// userAction is the URL of a per-user admin action.
func userAction(name, action string) templ.SafeURL {
	return templ.SafeURL("/admin/users/" + url.PathEscape(name) + "/" + action)
}

// entries counts audit entries in words.
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}
