package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"wsusfix/remote"
	"wsusfix/store"
	"wsusfix/store/secret"
	"wsusfix/views"
)

// handleSettings renders GET /admin/settings: the WinRM account, with the
// password shown only as "set on … by …".
func (h *handler) handleSettings(w http.ResponseWriter, r *http.Request) {
	p, err := h.settingsProps(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Saved = r.URL.Query().Get("saved") == "1"
	h.render(w, r, http.StatusOK, views.SettingsPage(p))
}

// settingsProps reads the stored settings for the page, checking that a
// stored password still opens with the key file.
func (h *handler) settingsProps(r *http.Request) (views.SettingsProps, error) {
	s, err := h.store.WinRMSettings(r.Context())
	if err != nil {
		return views.SettingsProps{}, err
	}
	p := views.SettingsProps{AuthMethods: remote.AuthMethods, FromEnv: h.winrmFromEnv, User: s.User, Auth: s.Auth, HTTPS: s.HTTPS,
		PasswordSet: s.PasswordSet, PasswordSetAt: s.PasswordSetAt, PasswordSetBy: s.PasswordSetBy,
		UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy}
	if s.Port != 0 {
		p.Port = strconv.Itoa(s.Port)
	}
	if s.UpdatedAt.IsZero() {
		p.Auth, p.HTTPS = remote.AuthNTLM, true // the safe default for a first save
	}
	p.Directory = h.directorySettings()
	if h.keys != nil {
		p.KeyID = h.keys.ActiveID()
		if s.PasswordSet {
			_, err := h.store.WinRMCredentials(r.Context(), h.keys)
			p.Undecryptable = errors.Is(err, store.ErrUndecryptable)
		}
	}
	return p, nil
}

// directorySettings is the directory configuration for the settings
// page, without the password; nil when there is no directory.
func (h *handler) directorySettings() *views.DirectorySettings {
	if h.dir == nil {
		return nil
	}
	s := h.dir.Summary()
	d := &views.DirectorySettings{URL: s.URL, StartTLS: s.StartTLS, CAFile: s.CAFile, BindDN: s.BindDN,
		PasswordFile: s.BindPasswordFile, Base: s.Base, UserFilter: s.UserFilter, UPNFilter: s.UPNFilter,
		NameAttr: s.NameAttr, Nested: string(s.Nested), MaxDepth: s.MaxDepth, Timeout: s.Timeout.String()}
	for _, g := range s.Groups {
		d.Groups = append(d.Groups, views.DirectoryGroup{Group: g.Group, Role: string(g.Role)})
	}
	return d
}

// handleSettingsSave stores the WinRM account (POST /admin/settings:
// winrm_user, winrm_password, winrm_auth, winrm_https, winrm_port). The
// password is encrypted before it is stored; an empty one keeps the stored
// password. Problems re-render the form with 422.
func (h *handler) handleSettingsSave(w http.ResponseWriter, r *http.Request) {
	in := store.WinRMSettings{User: strings.TrimSpace(r.PostFormValue("winrm_user")),
		Auth: strings.ToLower(r.PostFormValue("winrm_auth")), HTTPS: r.PostFormValue("winrm_https") == "true",
		Password: secret.Secret(r.PostFormValue("winrm_password"))}
	p, err := h.settingsProps(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	before := p
	p.User, p.Auth, p.HTTPS, p.Port = in.User, in.Auth, in.HTTPS, strings.TrimSpace(r.PostFormValue("winrm_port"))
	p.Problems = h.settingsProblems(&in, p)
	if len(p.Problems) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.SettingsPage(p))
		return
	}
	if err := h.store.SaveWinRMSettings(r.Context(), h.keys, in, h.actor(r)); err != nil {
		h.audit(r, store.ActionSettings, "winrm", store.OutcomeError, "")
		h.fail(w, r, err)
		return
	}
	h.audit(r, store.ActionSettings, "winrm", store.OutcomeOK, settingsChanges(before, in))
	http.Redirect(w, r, "/admin/settings?saved=1", http.StatusSeeOther)
}

// settingsProblems checks the form, sets in.Port, and returns what is wrong
// in words for the page. The transport rules are remote's own.
func (h *handler) settingsProblems(in *store.WinRMSettings, p views.SettingsProps) []string {
	var problems []string
	if in.User == "" || len(in.User) > 256 {
		problems = append(problems, `Enter the account WinRM signs in as, for example CORP\svc-wsusfix.`)
	}
	port, err := strconv.Atoi(p.Port)
	if p.Port == "" {
		port, err = 0, nil
	}
	if err != nil || port < 0 || port > 65535 {
		problems = append(problems, "The port is a number from 1 to 65535, or empty for the default.")
	}
	in.Port = port
	switch {
	case in.Password == "" && (!p.PasswordSet || p.Undecryptable):
		problems = append(problems, "Enter the account's password.")
	case in.Password != "" && h.keys == nil:
		problems = append(problems, "This server has no key file, so it cannot store a password; "+
			"set WSUSFIX_WINRM_PASSWORD or -winrm-password-file instead.")
	case len(in.Password) > 1024:
		problems = append(problems, "The password is longer than 1024 bytes.")
	}
	if !slices.Contains(remote.AuthMethods, in.Auth) {
		problems = append(problems, "Choose an authentication method: "+strings.Join(remote.AuthMethods, ", ")+".")
	}
	if len(problems) > 0 {
		return problems
	}
	// Only the transport rules: the account was checked above, and files
	// such as the krb5.conf are the server's, read when a run starts.
	c := remote.Config{Auth: in.Auth, HTTPS: in.HTTPS, Port: in.Port}
	for _, p := range c.TransportProblems() {
		problems = append(problems, sentence(strings.TrimSuffix(p, ".")))
	}
	return problems
}

// settingsChanges says which settings a save changed, for the audit log;
// never the password itself.
func settingsChanges(before views.SettingsProps, in store.WinRMSettings) string {
	var ch []string
	if before.User != in.User {
		ch = append(ch, "user "+in.User)
	}
	if before.Auth != in.Auth {
		ch = append(ch, "auth "+in.Auth)
	}
	if before.HTTPS != in.HTTPS {
		ch = append(ch, "https "+strconv.FormatBool(in.HTTPS))
	}
	if before.Port != strconv.Itoa(in.Port) && !(before.Port == "" && in.Port == 0) {
		ch = append(ch, "port "+strconv.Itoa(in.Port))
	}
	if in.Password != "" {
		ch = append(ch, "password replaced")
	}
	if len(ch) == 0 {
		return "no change"
	}
	return strings.Join(ch, ", ")
}
