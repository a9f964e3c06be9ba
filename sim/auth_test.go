package sim

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"
)

// TestAuth_Basic ensures Basic authentication accepts exactly the
// configured local account and answers everything else with Windows' 401:
// empty body, no Content-Type, Negotiate and Basic offered.
func TestAuth_Basic(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	s.SetFault("HOST-0002", FaultAuthRefused)
	tests := []struct {
		name, host, user, password string
		wantStatus                 int
	}{
		{"right password", "HOST-0001", "Administrator", testPassword, http.StatusOK},
		{"user name in any case", "HOST-0001", "administrator", testPassword, http.StatusOK},
		{"wrong password", "HOST-0001", "Administrator", "nope", http.StatusUnauthorized},
		{"no credentials", "HOST-0001", "", "", http.StatusUnauthorized},
		{"other user", "HOST-0001", "Guest", testPassword, http.StatusUnauthorized},
		{"domain-qualified name", "HOST-0001", `CORP\Administrator`, testPassword, http.StatusUnauthorized},
		{"UPN", "HOST-0001", "Administrator@corp.contoso.test", testPassword, http.StatusUnauthorized},
		{"auth-refused host", "HOST-0002", "Administrator", testPassword, http.StatusUnauthorized},
	}
	r := newRaw(t, s, "HOST-0001")
	body := winrm.NewOpenShellRequest(r.url, r.params).String()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{DialContext: s.DialContext}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://"+tt.host+":5985/wsman", strings.NewReader(body))
			req.Header.Set("Content-Type", soapContentType)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.password)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusUnauthorized {
				return
			}
			want := []string{"Negotiate", `Basic realm="WSMAN"`}
			if diff := cmp.Diff(want, resp.Header.Values("WWW-Authenticate")); diff != "" {
				t.Errorf("WWW-Authenticate (-want +got):\n%s", diff)
			}
			if resp.ContentLength != 0 || resp.Header.Get("Content-Type") != "" {
				t.Errorf("Content-Length %d, Content-Type %q; want 0 and none", resp.ContentLength, resp.Header.Get("Content-Type"))
			}
		})
	}
	if got := s.Counters("HOST-0001").Unauthorized; got != 5 {
		t.Errorf("HOST-0001 Unauthorized = %d, want 5", got)
	}
}

// TestAuth_ClientSees ensures what the real client reports for refused
// credentials: masterzen's "401 - invalid content type".
func TestAuth_ClientSees(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	_, _, code, err := runCmd(t, newClientWith(t, s, "HOST-0001", clientConfig{password: "wrong"}), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401 - invalid content type") || code != 1 {
		t.Errorf("run with a wrong password: code %d, err %v", code, err)
	}
}

// TestAuth_NTLM ensures winrm.ClientNTLM authenticates with NTLMv2 over
// Negotiate, once per connection, and fails with a wrong password.
func TestAuth_NTLM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, password, domain string
		wantErr                      bool
	}{
		{"bare user, domain account", "Administrator", testPassword, "", false},
		{"domain-qualified user", `CORP\Administrator`, testPassword, "", false},
		{"UPN", "Administrator@corp.contoso.test", testPassword, "", false},
		{"local account", "administrator", testPassword, ".", false},
		{"wrong password", "Administrator", "wrong", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, testFleet(1), Options{Domain: tt.domain})
			c := newClientWith(t, s, "HOST-0001", clientConfig{ntlm: true, user: tt.user, password: tt.password})
			stdout, _, _, err := runCmd(t, c, "whoami")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "401") {
					t.Errorf("err = %v, want a 401", err)
				}
				return
			}
			want := "corp\\administrator\r\n"
			if tt.domain == "." {
				want = "host-0001\\administrator\r\n"
			}
			if err != nil || stdout != want {
				t.Fatalf("whoami = %q, %v; want %q", stdout, err, want)
			}
			// The connection stays authenticated: only the first request
			// goes through the anonymous try and the challenge.
			if got := s.Counters("HOST-0001").Unauthorized; got != 2 {
				t.Errorf("Unauthorized = %d, want 2 (one handshake)", got)
			}
		})
	}
}

// TestAuth_NTLMMalformed ensures broken Negotiate tokens get a plain 401,
// never a crash.
func TestAuth_NTLMMalformed(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	for _, token := range []string{"", "!!!", "TlRMTVNTUAADAAAA", "TlRMTVNTUAADAAAAGAAYAEAAAAD/////AAAAAA==", "YIIBhQYGKwYBBQUCoIIBeTCCAXU="} {
		tr := &http.Transport{DialContext: s.DialContext}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://HOST-0001:5985/wsman", strings.NewReader("<x/>"))
		req.Header.Set("Authorization", "Negotiate "+token)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode != http.StatusUnauthorized || !slices.Contains(resp.Header.Values("WWW-Authenticate"), "Negotiate") {
			t.Errorf("token %q: status %d, %q", token, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
	}
}
