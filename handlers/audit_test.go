package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"wsusfix/store"
)

// post sends a same-origin form with c and fails the test on an unexpected status.
func (a *app) post(t *testing.T, c *http.Client, path string, form url.Values, want int) *http.Response {
	t.Helper()
	res := do(t, c, http.MethodPost, a.srv.URL+path, form, nil)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d", path, res.StatusCode, want)
	}
	return res
}

// TestAudit_EveryAction ensures each audited action leaves an entry with
// who, from where, what, on what and how it went.
func TestAudit_EveryAction(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withKeys(), withHosts("FIN-LT-0042", "FIN-LT-0043"))
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	ensureUser(t, a.st, "vera", store.RoleViewer)
	a.login(t, newClient(false), "admin", "wrong password", "")
	c := newClient(false)
	a.login(t, c, "admin", testPassword, "")

	res := a.post(t, c, "/hosts/FIN-LT-0042/repair", url.Values{}, http.StatusSeeOther)
	runURL := res.Header.Get("Location")
	a.post(t, c, runURL+"/cancel", url.Values{}, http.StatusSeeOther)
	a.post(t, c, "/repairs", url.Values{"host": {"FIN-LT-0043"}}, http.StatusSeeOther)
	do(t, c, http.MethodGet, a.srv.URL+"/export/hosts.csv?code=0x80070002", nil, nil)
	a.post(t, c, "/admin/users", url.Values{"name": {"bob"}, "role": {"viewer"}}, http.StatusOK)
	a.post(t, c, "/admin/users/bob/role", url.Values{"role": {"operator"}}, http.StatusSeeOther)
	a.post(t, c, "/admin/users/bob/disable", url.Values{}, http.StatusSeeOther)
	a.post(t, c, "/admin/users/bob/enable", url.Values{}, http.StatusSeeOther)
	a.post(t, c, "/admin/users/bob/password", url.Values{}, http.StatusOK)
	a.post(t, c, "/admin/settings", url.Values{"winrm_user": {`CORP\svc`}, "winrm_password": {"Winrm-Pa55!"},
		"winrm_auth": {"ntlm"}, "winrm_https": {"true"}}, http.StatusSeeOther)
	do(t, c, http.MethodGet, a.srv.URL+"/admin/audit.csv", nil, nil)
	vera := loginClient(t, a.srv.URL, "vera")
	do(t, vera, http.MethodGet, a.srv.URL+"/admin/users", nil, nil)
	a.post(t, c, "/logout", url.Values{}, http.StatusSeeOther)

	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ action, target, outcome string }
	got := map[key]store.AuditEntry{}
	for _, e := range entries {
		got[key{e.Action, e.Target, e.Outcome}] = e
	}
	for _, w := range []struct {
		key
		actor, detail string
	}{
		{key{store.ActionLoginFailed, "admin", store.OutcomeFailed}, "", ""},
		{key{store.ActionLoginOK, "admin", store.OutcomeOK}, "admin", ""},
		{key{store.ActionRepairStart, "FIN-LT-0042", store.OutcomeOK}, "admin", runURL},
		{key{store.ActionRepairCancel, "run " + strings.TrimPrefix(runURL, "/runs/"), store.OutcomeOK}, "admin", runURL},
		{key{store.ActionRepairBulk, "1 hosts: FIN-LT-0043", store.OutcomeOK}, "admin", "/batches/1"},
		{key{store.ActionExport, "/export/hosts.csv?code=0x80070002", store.OutcomeOK}, "admin", ""},
		{key{store.ActionUserCreate, "bob", store.OutcomeOK}, "admin", "role viewer"},
		{key{store.ActionUserRole, "bob", store.OutcomeOK}, "admin", "viewer → operator"},
		{key{store.ActionUserDisable, "bob", store.OutcomeOK}, "admin", "0 sessions ended"},
		{key{store.ActionUserEnable, "bob", store.OutcomeOK}, "admin", ""},
		{key{store.ActionUserPassword, "bob", store.OutcomeOK}, "admin", "reset; sessions ended"},
		{key{store.ActionSettings, "winrm", store.OutcomeOK}, "admin", "user CORP\\svc, password replaced"},
		{key{store.ActionExport, "/admin/audit.csv", store.OutcomeOK}, "admin", ""},
		{key{store.ActionAccessDenied, "GET /admin/users", store.OutcomeDenied}, "vera", "needs admin"},
		{key{store.ActionLogout, "admin", store.OutcomeOK}, "admin", ""},
	} {
		e, ok := got[w.key]
		if !ok {
			t.Errorf("no audit entry %+v", w.key)
			continue
		}
		if e.Actor != w.actor || e.Detail != w.detail || e.Client != "127.0.0.1" || e.RequestID == "" || e.At.IsZero() {
			t.Errorf("%s: entry %+v, want actor %q detail %q from 127.0.0.1", w.action, e, w.actor, w.detail)
		}
	}
}

// TestAuditPage_FilterAndExport ensures admins can filter the audit log and
// export it as CSV with spreadsheet formulas defused.
func TestAuditPage_FilterAndExport(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withKeys(), withHosts("FIN-LT-0042", "FIN-LT-0043"))
	ensureUser(t, a.st, "admin", store.RoleAdmin)
	a.login(t, newClient(false), "=cmd|' /C calc'!A0", "x", "")
	a.login(t, newClient(false), "mallory", "x", "")
	c := loginClient(t, a.srv.URL, "admin")

	res, doc := get(t, c, a.srv.URL+"/admin/audit?action=login.failed")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("audit page: %d", res.StatusCode)
	}
	if got := texts(doc, `[data-testid="audit-action"]`); len(got) != 2 || got[0] != "login.failed" {
		t.Fatalf("filtered actions %v", got)
	}
	if got := texts(doc, `[data-testid="audit-target"]`); got[0] != "mallory" {
		t.Errorf("newest first: targets %v", got)
	}
	_, doc = get(t, c, a.srv.URL+"/admin/audit?target=mall")
	if got := texts(doc, `[data-testid="audit-target"]`); len(got) != 1 || got[0] != "mallory" {
		t.Errorf("target filter: %v", got)
	}

	res, err := c.Get(a.srv.URL + "/admin/audit.csv?outcome=failed")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || res.Header.Get("Content-Disposition") == "" {
		t.Errorf("export headers %v", res.Header)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][1] != "actor" {
		t.Fatalf("export rows %v", rows)
	}
	if rows[2][4] != "'=cmd|' /C calc'!A0" {
		t.Errorf("formula not defused: %q", rows[2][4])
	}
}

// TestSecrets_NeverLogged ensures a full flow (failed and good sign-in,
// pages, WinRM settings, a repair, logout) writes no password, WinRM
// password or session token to the structured log or the audit log.
func TestSecrets_NeverLogged(t *testing.T) {
	t.Parallel()
	a := newApp(t, withRunner(), withKeys(), withHosts("FIN-LT-0042", "FIN-LT-0043"))
	const loginPW = "correct horse battery staple"
	const winrmPW = "W1nRM-s3cret-P@ss"
	if _, err := a.st.CreateUser(t.Context(), "admin", store.RoleAdmin, loginPW); err != nil {
		t.Fatal(err)
	}
	a.login(t, newClient(false), "admin", loginPW+"x", "")
	c := newClient(false)
	a.login(t, c, "admin", loginPW, "/")
	token := sessionOf(c, a.srv.URL)
	for _, p := range []string{"/", "/hosts/FIN-LT-0042", "/admin/settings", "/admin/audit"} {
		do(t, c, http.MethodGet, a.srv.URL+p, nil, nil)
	}
	a.post(t, c, "/admin/settings", url.Values{"winrm_user": {`CORP\svc`}, "winrm_password": {winrmPW},
		"winrm_auth": {"ntlm"}, "winrm_https": {"true"}}, http.StatusSeeOther)
	a.post(t, c, "/admin/settings", url.Values{"winrm_user": {""}, "winrm_password": {winrmPW},
		"winrm_auth": {"basic"}}, http.StatusUnprocessableEntity)
	a.post(t, c, "/hosts/FIN-LT-0042/repair", url.Values{}, http.StatusSeeOther)
	a.post(t, c, "/logout", url.Values{}, http.StatusSeeOther)

	logs := a.log.String()
	if !strings.Contains(logs, `"msg":"signed in"`) || !strings.Contains(logs, "request") {
		t.Fatalf("the log did not capture the flow:\n%s", logs)
	}
	var audit strings.Builder
	a.st.EachAuditEntry(t.Context(), store.AuditFilter{}, func(e store.AuditEntry) error {
		audit.WriteString(e.Target + " " + e.Detail + "\n")
		return nil
	})
	sum := sha256.Sum256([]byte(token))
	for name, secret := range map[string]string{"sign-in password": loginPW, "WinRM password": winrmPW,
		"session token": token, "stored session key": base64.RawURLEncoding.EncodeToString(sum[:])} {
		if secret == "" || strings.Contains(logs, secret) || strings.Contains(audit.String(), secret) {
			t.Errorf("the %s (%q) appears in the logs", name, secret)
		}
	}
}
