package sim

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/bodgit/ntlmssp"
	"github.com/masterzen/winrm"

	"wsusfix/remote/sealed"
)

// sealedClient speaks NTLM message encryption by hand on one connection,
// with github.com/bodgit/ntlmssp's client as the other side of the
// simulator's own session security.
type sealedClient struct {
	t    *testing.T
	host string
	conn net.Conn
	br   *bufio.Reader
	sess *ntlmssp.SecuritySession
}

// dialSealed connects to host and runs the NTLM handshake; tamper, if set,
// may change the AUTHENTICATE message. It returns the last leg's status.
func dialSealed(t *testing.T, s *Server, host, password string, tamper func([]byte)) (*sealedClient, int) {
	t.Helper()
	conn, err := s.DialContext(t.Context(), "tcp", host+":5985")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &sealedClient{t: t, host: host, conn: conn, br: bufio.NewReader(conn)}
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("Administrator", password), ntlmssp.SetDomain("CORP"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	neg, _ := nc.Authenticate(nil, nil)
	resp, _ := c.post(nil, soapContentType, "Negotiate "+base64.StdEncoding.EncodeToString(neg))
	_, tok, _ := strings.Cut(resp.Header.Get("WWW-Authenticate"), " ")
	challenge, err := base64.StdEncoding.DecodeString(tok)
	if resp.StatusCode != http.StatusUnauthorized || err != nil {
		t.Fatalf("NEGOTIATE: status %d, challenge %q", resp.StatusCode, tok)
	}
	auth, err := nc.Authenticate(challenge, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(auth)
	}
	resp, _ = c.post(nil, soapContentType, "Negotiate "+base64.StdEncoding.EncodeToString(auth))
	c.sess = nc.SecuritySession()
	return c, resp.StatusCode
}

// post sends one request on the connection and reads the whole answer.
func (c *sealedClient) post(body []byte, contentType, authorization string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", "http://"+c.host+":5985/wsman", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
		req.Header.Set("Content-Length", "0")
	}
	if err := req.Write(c.conn); err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

// seal frames a SOAP message the way a client sends it.
func (c *sealedClient) seal(msg string) []byte {
	ciphertext, sig, err := c.sess.Wrap([]byte(msg))
	if err != nil {
		c.t.Fatal(err)
	}
	return sealed.Frame(sig, ciphertext, len(msg))
}

// open unseals an answer.
func (c *sealedClient) open(resp *http.Response, body []byte) string {
	c.t.Helper()
	if !sealed.Is(resp.Header.Get("Content-Type")) {
		c.t.Fatalf("answer %d not encrypted: Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sig, ciphertext, n, err := sealed.Parse(body)
	if err != nil {
		c.t.Fatal(err)
	}
	msg, err := c.sess.Unwrap(ciphertext, sig)
	if err != nil || len(msg) != n {
		c.t.Fatalf("unsealing the answer: %v (%d bytes, %d announced)", err, len(msg), n)
	}
	return string(msg)
}

// TestSealing_Exchange ensures the simulator's session security agrees
// with an independent NTLM client: sealed requests are answered with
// sealed replies in order, and a replayed message is refused.
func TestSealing_Exchange(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{RequireEncryption: true})
	c, status := dialSealed(t, s, "HOST-0001", testPassword, nil)
	if status != http.StatusOK {
		t.Fatalf("handshake ended with %d, want 200", status)
	}
	r := newRaw(t, s, "HOST-0001")
	create := c.seal(winrm.NewOpenShellRequest(r.url, r.params).String())
	resp, body := c.post(create, sealed.ContentType, "")
	if reply := c.open(resp, body); resp.StatusCode != http.StatusOK || !strings.Contains(reply, "ShellId") {
		t.Fatalf("Create: %d %s", resp.StatusCode, reply)
	}
	// A second message moves both sequence numbers on.
	resp, body = c.post(c.seal(winrm.NewOpenShellRequest(r.url, r.params).String()), sealed.ContentType, "")
	if reply := c.open(resp, body); !strings.Contains(reply, "ShellId") {
		t.Fatalf("second Create: %s", reply)
	}
	if got := s.Counters("HOST-0001").ShellsOpen; got != 2 {
		t.Fatalf("%d shells open, want 2", got)
	}
	resp, _ = c.post(create, sealed.ContentType, "")
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Fatalf("replayed message: %d (close %v), want 400 and the connection closed", resp.StatusCode, resp.Close)
	}
}

// TestSealing_Refusals ensures what must not pass does not: a flipped bit
// in a sealed message, a tampered MIC, a wrong password, an encrypted body
// on a connection without session security, and (with RequireEncryption,
// Windows' AllowUnencrypted=false) NTLM without sealing.
func TestSealing_Refusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{RequireEncryption: true})
	r := newRaw(t, s, "HOST-0001")
	create := winrm.NewOpenShellRequest(r.url, r.params).String()

	c, _ := dialSealed(t, s, "HOST-0001", testPassword, nil)
	msg := c.seal(create)
	msg[len(msg)-40] ^= 1
	if resp, _ := c.post(msg, sealed.ContentType, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("flipped bit: %d, want 400", resp.StatusCode)
	}
	if _, status := dialSealed(t, s, "HOST-0001", testPassword, func(m []byte) { m[80] ^= 1 }); status != http.StatusUnauthorized {
		t.Errorf("tampered MIC: %d, want 401", status)
	}
	if _, status := dialSealed(t, s, "HOST-0001", "wrong", nil); status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", status)
	}
	if resp, _ := post(t, s, "POST", "HOST-0001", "Administrator", string(sealed.Frame(make([]byte, 16), []byte("x"), 1))); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic on plain HTTP with RequireEncryption: %d, want 401", resp.StatusCode)
	}
	open := startServer(t, testFleet(1), Options{})
	req, _ := http.NewRequest("POST", "http://HOST-0001:5985/wsman", bytes.NewReader(sealed.Frame(make([]byte, 16), []byte("x"), 1)))
	req.Header.Set("Content-Type", sealed.ContentType)
	req.SetBasicAuth("Administrator", testPassword)
	resp, err := (&http.Transport{DialContext: open.DialContext}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("encrypted body without session security: %d, want 400", resp.StatusCode)
	}

	ntlm := newClientWith(t, s, "HOST-0001", clientConfig{ntlm: true, user: "Administrator", password: testPassword})
	if _, _, _, err := runCmd(t, ntlm, "hostname"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("unsealed NTLM with RequireEncryption: %v, want a 401", err)
	}
	ntlm = newClientWith(t, open, "HOST-0001", clientConfig{ntlm: true, user: "Administrator", password: testPassword})
	if _, _, _, err := runCmd(t, ntlm, "hostname"); err != nil {
		t.Errorf("unsealed NTLM without RequireEncryption: %v", err)
	}
}
