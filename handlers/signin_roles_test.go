package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"wsusfix/sim/ldap"
	"wsusfix/store"
)

// TestDirectorySignIn_RoleChangeAtNextSignIn ensures the role is read
// again at every sign-in: moved from L2 to L1 in the directory, alice is
// a viewer the next time; taken out of every group, she cannot sign in.
func TestDirectorySignIn_RoleChangeAtNextSignIn(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)))
	if _, role := a.header(t, loginFor(t, a, "alice", "Alice-Pa55-word")); role != "operator" {
		t.Fatalf("before: %q", role)
	}
	if err := s.AddMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, role := a.header(t, loginFor(t, a, "alice", "Alice-Pa55-word")); role != "viewer" {
		t.Fatalf("after the move to L1: %q, want viewer", role)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if res, _ := a.login(t, newClient(false), "alice", "Alice-Pa55-word", "/"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("in no group: %d, want 401", res.StatusCode)
	}
}

// TestDirectorySignIn_RoleRechecked ensures a signed-in directory user's
// role follows the directory within the re-check interval, without a
// repair: moved to L1, alice's pages show her as a viewer; taken out of
// every group, her session ends.
func TestDirectorySignIn_RoleRechecked(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)), withRecheck(time.Nanosecond))
	alice := loginFor(t, a, "alice", "Alice-Pa55-word")
	if _, role := a.header(t, alice); role != "operator" {
		t.Fatalf("before: %q", role)
	}
	if err := s.AddMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if name, role := a.header(t, alice); name != "dir:alice" || role != "viewer" {
		t.Fatalf("after the move to L1 the header shows %q as %q, want dir:alice as viewer", name, role)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if res := do(t, alice, http.MethodGet, a.srv.URL+"/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("out of every group, alice's session still opens pages: %d", res.StatusCode)
	}
	if res, _ := a.login(t, newClient(false), "alice", "Alice-Pa55-word", "/"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("out of every group, alice signed in again: %d", res.StatusCode)
	}
}

// TestDirectoryRepair_RecheckedAtStart ensures starting a repair asks the
// directory again, with the session from before: alice, moved from L2 to
// L1, cannot start one (and is a viewer from then on, still signed in);
// frank, whose group was taken out of L2, cannot either, and his session
// ends. Nothing reaches the executor but the repair from before.
func TestDirectoryRepair_RecheckedAtStart(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)), withRunner(), withHosts("PC-1", "PC-2"))
	alice := loginFor(t, a, "alice", "Alice-Pa55-word")
	frank := loginFor(t, a, "frank", "Frank-Pa55-word")
	if res := do(t, alice, http.MethodPost, a.srv.URL+"/hosts/PC-1/repair", url.Values{}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("repair as operator: %d", res.StatusCode)
	}
	if err := s.AddMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if res := do(t, alice, http.MethodPost, a.srv.URL+"/hosts/PC-2/repair", url.Values{}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("repair after the move to L1: %d, want 403", res.StatusCode)
	}
	if res := do(t, alice, http.MethodPost, a.srv.URL+"/repairs", url.Values{"host": {"PC-2"}}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("bulk repair after the move to L1: %d, want 403", res.StatusCode)
	}
	if name, role := a.header(t, alice); name != "dir:alice" || role != "viewer" {
		t.Fatalf("after the refused repair the header shows %q as %q, want dir:alice as viewer", name, role)
	}

	// frank is an operator only through GG-Site-Techs ⊂ L2: unnesting the
	// group leaves him in no mapped group.
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "GG-Site-Techs"); err != nil {
		t.Fatal(err)
	}
	if res := do(t, frank, http.MethodPost, a.srv.URL+"/hosts/PC-2/repair", url.Values{}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("repair in no group: %d, want 403", res.StatusCode)
	}
	if res := do(t, frank, http.MethodGet, a.srv.URL+"/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after losing every group frank's old session still opens pages: %d", res.StatusCode)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Actor: "dir:frank", Action: store.ActionAccessDenied})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "sessions ended") {
		t.Fatalf("audit of frank's refusal = %+v, %v", entries, err)
	}
	if n := len(a.runner.got); n != 1 {
		t.Fatalf("the executor got %d jobs, want only the first repair's", n)
	}
}

// TestDirectoryRepair_DirectoryDown ensures a repair does not start when
// the directory cannot confirm the role (it fails closed with 503), while
// pages stay readable with the role last confirmed.
func TestDirectoryRepair_DirectoryDown(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)), withRunner(), withHosts("PC-1"), withRecheck(time.Nanosecond))
	alice := loginFor(t, a, "alice", "Alice-Pa55-word")
	s.Close()
	if res := do(t, alice, http.MethodPost, a.srv.URL+"/hosts/PC-1/repair", url.Values{}, nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("repair with the directory down: %d, want 503", res.StatusCode)
	}
	if len(a.runner.got) != 0 {
		t.Fatal("a repair started without the directory's word")
	}
	if name, _ := a.header(t, alice); name != "dir:alice" {
		t.Fatalf("the directory being down signed alice out (%q): it is not her fault", name)
	}
}

// TestDirectoryToken_Rechecked ensures a directory user's API token
// follows the directory like their session: moved from L2 to L1, alice's
// operator token acts as a viewer; taken out of every group, it is
// refused, and stays refused (revoked) whatever the directory says later.
func TestDirectoryToken_Rechecked(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)), withRunner(), withHosts("PC-1"), withRecheck(time.Nanosecond))
	loginFor(t, a, "alice", "Alice-Pa55-word")
	u, err := a.st.UserByName(t.Context(), "dir:alice")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.st.CreateToken(t.Context(), u, "script", store.RoleOperator, 30)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string) int {
		t.Helper()
		req, _ := http.NewRequest(method, a.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+string(tok))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := call(http.MethodGet, "/api/v1/hosts"); code != http.StatusOK {
		t.Fatalf("as an operator: %d", code)
	}
	if err := s.AddMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if code := call(http.MethodPost, "/api/v1/runs/1/cancel"); code != http.StatusForbidden {
		t.Errorf("cancel after the move to L1: %d, want 403", code)
	}
	if err := s.RemoveMember(t.Context(), "GG-Helpdesk-L1", "alice"); err != nil {
		t.Fatal(err)
	}
	if code := call(http.MethodGet, "/api/v1/hosts"); code != http.StatusUnauthorized {
		t.Fatalf("in no group: %d, want 401", code)
	}
	if err := s.AddMember(t.Context(), "GG-Helpdesk-L2", "alice"); err != nil {
		t.Fatal(err)
	}
	if code := call(http.MethodGet, "/api/v1/hosts"); code != http.StatusUnauthorized {
		t.Errorf("back in L2, the old token: %d, want 401 (revoked)", code)
	}
}

// TestDirectoryToken_KeepsItsLowerRole ensures a directory user's token
// with a lower role than theirs keeps that role across every re-check,
// and that the re-check sees no change in the directory (it compares the
// stored role, not the token's): an operator's viewer token cannot
// cancel, and nothing is logged or written as a role change.
func TestDirectoryToken_KeepsItsLowerRole(t *testing.T) {
	t.Parallel()
	s := ldap.StartTest(t, helpdesk)
	a := newApp(t, withDirectory(t, directoryConfig(s)), withRunner(), withHosts("PC-1"), withRecheck(time.Nanosecond))
	loginFor(t, a, "alice", "Alice-Pa55-word") // L2: an operator
	u, err := a.st.UserByName(t.Context(), "dir:alice")
	if err != nil || u.Role != store.RoleOperator {
		t.Fatalf("alice = %+v, %v; want an operator", u, err)
	}
	tok, _, err := a.st.CreateToken(t.Context(), u, "read-only script", store.RoleViewer, 30)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string) int {
		t.Helper()
		req, _ := http.NewRequest(method, a.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+string(tok))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 {
		if code := call(http.MethodGet, "/api/v1/hosts"); code != http.StatusOK {
			t.Fatalf("reading with the viewer token: %d", code)
		}
		if code := call(http.MethodPost, "/api/v1/runs/1/cancel"); code != http.StatusForbidden {
			t.Errorf("cancelling with the viewer token: %d, want 403", code)
		}
	}
	if log := a.log.String(); strings.Contains(log, "directory role changed since sign-in") {
		t.Errorf("the token's lower role was taken for a change in the directory:\n%s", log)
	}
	if after, err := a.st.UserByName(t.Context(), "dir:alice"); err != nil || after.Role != store.RoleOperator {
		t.Errorf("alice after the re-checks = %+v, %v; want still an operator", after, err)
	}
}
