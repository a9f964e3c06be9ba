package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"wsusfix/store"
)

// TestCriticalGroups ensures an admin's critical groups make every repair
// confirmation flag their hosts, single and bulk, beside servers, and
// that the save is audited.
func TestCriticalGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("admin", store.RoleAdmin), withRunner())
	if _, err := a.st.UpsertHosts(t.Context(), []store.HostInput{
		{Name: "PAY-01", OSCaption: "Microsoft Windows 11 Enterprise", Group: "Payments"},
		{Name: "SRV-01", OSCaption: "Microsoft Windows Server 2022 Standard", Group: "Servers"},
		{Name: "PC-01", OSCaption: "Microsoft Windows 11 Enterprise", Group: "Workstations"},
		{Name: "PAY-02", OSCaption: "Microsoft Windows 11 Enterprise", Groups: []string{"Workstations", "Payments"}},
	}); err != nil {
		t.Fatal(err)
	}
	res := a.post(t, noRedirect(a.client), "/admin/critical-groups", url.Values{"groups": {" payments \r\n\r\nPayments"}}, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/admin/sync?critical=saved") {
		t.Errorf("saved, then to %q", loc)
	}
	_, doc := a.get(t, "/admin/sync?critical=saved")
	if got := doc.Find(`[data-testid="critical-groups"]`).Text(); got != "payments" {
		t.Errorf("form shows %q, want the one group as typed first", got)
	}
	if doc.Find(`[data-testid="critical-saved"]`).Length() != 1 {
		t.Error("the page does not say the list was saved")
	}

	_, doc = a.get(t, "/hosts/PAY-01/repair")
	if got := doc.Find(`[data-testid="confirm-server"] strong`).Text(); got != "This host is in the critical group Payments" {
		t.Errorf("single confirmation flag %q", got)
	}
	_, doc = a.get(t, "/hosts/PAY-02/repair")
	if got := doc.Find(`[data-testid="confirm-server"] strong`).Text(); got != "This host is in the critical group Payments" {
		t.Errorf("a host critical by its second group: flag %q", got)
	}
	_, doc = a.get(t, "/hosts/PAY-02")
	if got := texts(doc, `[data-testid="host-group"]`); len(got) != 2 || got[0] != "Workstations" || got[1] != "Payments" {
		t.Errorf("host page groups %q, want the primary then the other", got)
	}
	if href, _ := doc.Find(`[data-testid="host-group"]`).Last().Attr("href"); href != "/?group=Payments" {
		t.Errorf("group link %q", href)
	}
	_, doc = a.get(t, "/hosts/PC-01/repair")
	if doc.Find(`[data-testid="confirm-server"]`).Length() != 0 {
		t.Error("an ordinary workstation is flagged")
	}
	_, doc = a.get(t, "/repairs/new?host=PAY-01&host=PAY-02&host=SRV-01&host=PC-01")
	got := texts(doc, `[data-testid="bulk-flagged-host"]`)
	if len(got) != 3 || !strings.HasPrefix(got[0], "PAY-01, in the critical group") ||
		!strings.HasPrefix(got[1], "PAY-02, in the critical group") || !strings.HasPrefix(got[2], "SRV-01, a server") {
		t.Errorf("bulk confirmation flags %q, want PAY-01, PAY-02 (by its second group) and SRV-01", got)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionSettings})
	if err != nil || len(entries) != 1 || entries[0].Target != "critical groups" {
		t.Errorf("audit %+v, %v", entries, err)
	}
}

// TestCriticalGroups_Refused ensures an over-long group name is refused
// with its reason on the page (422), and the saved list stays as it was.
func TestCriticalGroups_Refused(t *testing.T) {
	t.Parallel()
	a := newApp(t, signedInAs("admin", store.RoleAdmin))
	if _, err := a.st.SetCriticalGroups(t.Context(), []string{"Payments"}, "admin"); err != nil {
		t.Fatal(err)
	}
	res, doc := postForm(t, noRedirect(a.client), a.srv.URL+"/admin/critical-groups", url.Values{"groups": {strings.Repeat("x", 300)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="critical-error"]`).Text(), "longer than") {
		t.Errorf("an over-long name: %d %q", res.StatusCode, doc.Find(`[data-testid="critical-error"]`).Text())
	}
	if got, _ := a.st.CriticalGroups(t.Context()); len(got) != 1 || got[0] != "Payments" {
		t.Errorf("the saved list became %q", got)
	}
}
