package sim

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/masterzen/winrm"

	"wsusfix/sim/kdc"
)

// krbFixture is a fleet whose hosts have HTTP/ principals in a real KDC,
// and a logged-in Kerberos client for Administrator.
type krbFixture struct {
	fleet *Fleet
	kdc   *kdc.KDC
	cl    *client.Client
}

func newKrbFixture(t *testing.T, n int) *krbFixture {
	t.Helper()
	f := testFleet(n)
	var fqdns []string
	for _, h := range f.Hosts {
		fqdns = append(fqdns, h.FQDN)
	}
	k := kdc.StartTest(t, kdc.Config{Realm: "CORP.CONTOSO.TEST", User: "Administrator", Password: testPassword, Hosts: fqdns})
	conf, err := config.NewFromString(string(k.Krb5Conf()))
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithPassword("Administrator", k.Realm(), testPassword, conf, client.DisablePAFXFAST(true))
	t.Cleanup(cl.Destroy)
	if err := cl.Login(); err != nil {
		t.Fatal(err)
	}
	return &krbFixture{fleet: f, kdc: k, cl: cl}
}

// negotiate returns an Authorization value carrying a fresh AP-REQ for spn.
func (kf *krbFixture) negotiate(t *testing.T, spn string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://x/wsman", nil)
	if err := spnego.SetSPNEGOHeader(kf.cl, req, spn); err != nil {
		t.Fatal(err)
	}
	return req.Header.Get("Authorization")
}

// postAs sends an open-shell request to host over tr with the given
// Authorization value ("" for none).
func postAs(t *testing.T, tr *http.Transport, host, authorization string) *http.Response {
	t.Helper()
	body := winrm.NewOpenShellRequest("http://"+host+":5985/wsman", winrm.NewParameters("PT5S", "en-US", 153600)).String()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://"+host+":5985/wsman", strings.NewReader(body))
	req.Header.Set("Content-Type", soapContentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	// Read to the end so the connection is reused for the next request.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAuth_Kerberos ensures a ticket for the host's own HTTP/ SPN, issued
// by a real KDC to the configured account, authenticates the connection
// and is answered with an AP-REP the client can open with the session key.
func TestAuth_Kerberos(t *testing.T) {
	kf := newKrbFixture(t, 2)
	s := startServer(t, kf.fleet, Options{Keytab: kf.kdc.Keytab()})
	spn := "HTTP/host-0001.corp.contoso.test"
	tr := &http.Transport{DialContext: s.DialContext}
	defer tr.CloseIdleConnections()

	resp := postAs(t, tr, "HOST-0001.corp.contoso.test", kf.negotiate(t, spn))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	_, key, err := kf.cl.GetServiceTicket(spn)
	if err != nil {
		t.Fatal(err)
	}
	checkAPRep(t, resp.Header.Get("WWW-Authenticate"), key)

	// Later requests on the connection need no new token, as on Windows.
	if resp := postAs(t, tr, "HOST-0001.corp.contoso.test", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("second request on the authenticated connection: %d", resp.StatusCode)
	}
	if got := s.Counters("HOST-0001").ShellsCreated; got != 2 {
		t.Fatalf("%d shells created, want 2", got)
	}
}

// checkAPRep opens the mutual-authentication answer: a SPNEGO
// accept-completed whose Kerberos token is an AP-REP sealed with key.
func checkAPRep(t *testing.T, header string, key types.EncryptionKey) {
	t.Helper()
	scheme, token, _ := strings.Cut(header, " ")
	b, err := base64.StdEncoding.DecodeString(token)
	if scheme != "Negotiate" || err != nil {
		t.Fatalf("WWW-Authenticate %q: want Negotiate and a token", header)
	}
	var resp spnego.NegTokenResp
	if err := resp.Unmarshal(b); err != nil || resp.State() != spnego.NegStateAcceptCompleted {
		t.Fatalf("answer is no accept-completed NegTokenResp: %v, state %d", err, resp.State())
	}
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(resp.ResponseToken); err != nil || !mt.IsAPRep() {
		t.Fatalf("response token is no AP-REP: %v", err)
	}
	plain, err := crypto.DecryptEncPart(mt.APRep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatalf("the AP-REP does not open with the session key: %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil || part.CTime.IsZero() {
		t.Fatalf("EncAPRepPart: %v %+v", err, part)
	}
}

// TestAuth_KerberosRefused ensures every ticket Windows would refuse gets
// the ordinary 401: another host's SPN (though the keytab has its key), a
// replayed authenticator, an account other than the configured one, a host
// refusing the account, and a server without a keytab.
func TestAuth_KerberosRefused(t *testing.T) {
	kf := newKrbFixture(t, 3)
	s := startServer(t, kf.fleet, Options{Keytab: kf.kdc.Keytab()})
	s.SetFault("HOST-0003", FaultAuthRefused)
	other := startServer(t, kf.fleet, Options{Keytab: kf.kdc.Keytab(), User: "svc-other"})
	noKeytab := startServer(t, kf.fleet, Options{})
	replayed := kf.negotiate(t, "HTTP/host-0001.corp.contoso.test")
	postAs(t, &http.Transport{DialContext: s.DialContext}, "HOST-0001", replayed)

	tests := []struct {
		name   string
		srv    *Server
		host   string
		header string
	}{
		{"ticket for another host", s, "HOST-0002", kf.negotiate(t, "HTTP/host-0001.corp.contoso.test")},
		{"replayed authenticator", s, "HOST-0001", replayed},
		{"other account", other, "HOST-0001", kf.negotiate(t, "HTTP/host-0001.corp.contoso.test")},
		{"auth-refused host", s, "HOST-0003", kf.negotiate(t, "HTTP/host-0003.corp.contoso.test")},
		{"no keytab", noKeytab, "HOST-0001", kf.negotiate(t, "HTTP/host-0001.corp.contoso.test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{DialContext: tt.srv.DialContext}
			defer tr.CloseIdleConnections()
			resp := postAs(t, tr, tt.host, tt.header)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Values("WWW-Authenticate")[0] != "Negotiate" {
				t.Fatalf("status %d, WWW-Authenticate %q; want Windows' 401", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
			}
			// The refused connection stays unauthenticated.
			if resp := postAs(t, tr, tt.host, ""); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("follow-up without a token: %d", resp.StatusCode)
			}
		})
	}
}
