package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bodgit/ntlmssp"

	"wsusfix/remote/sealed"
	"wsusfix/store/secret"
)

// WinRM message encryption: NTLM over plain HTTP (port 5985) with every
// SOAP message sealed, what Windows' default AllowUnencrypted=false asks
// of a client that does not use HTTPS (MS-WSMV 2.2.9.1).
//
// The library's winrm.NewEncryption cannot be used as it is: it ignores the
// dial settings (so the inventory address would be lost) and the request's
// context, keeps one NTLM state for all requests although the library sends
// stdin and polls output at the same time (masterzen/winrm issue #142), and falls back to
// unencrypted NTLM when the handshake fails. NTLM session security belongs
// to one TCP connection, so this transport owns its connections: each one
// is dialed and authenticated by itself, carries one request at a time and
// keeps its own RC4 streams. github.com/bodgit/ntlmssp does the NTLM.

// NTLM flags the host must grant for sealing (MS-NLMP 2.2.2.5).
const ntlmSealFlags = 0x00000010 | 0x00000020 | 0x40000000 // SIGN, SEAL, KEY_EXCH

// Connection pool limits: a session uses at most two at once (output
// polling and stdin), and Windows drops idle connections after 2 minutes.
const (
	sealedIdleMax = 2
	sealedIdleAge = 60 * time.Second
)

// sealer is the http.RoundTripper for NTLM message encryption.
type sealer struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	user     string // as bodgit/ntlmssp wants it: bare name or UPN
	domain   string // NetBIOS domain from DOMAIN\user, or empty
	password secret.Secret
	wait     time.Duration // longest a host may take to answer one request

	mu   sync.Mutex
	idle []*sealedConn
}

// sealedConn is one authenticated connection and its session security.
type sealedConn struct {
	nc    net.Conn
	br    *bufio.Reader
	sess  *ntlmssp.SecuritySession
	since time.Time // idle since
}

func newSealer(cfg Config, dial func(context.Context, string, string) (net.Conn, error)) *sealer {
	user, domain := cfg.User, ""
	if d, u, ok := strings.Cut(cfg.User, `\`); ok {
		user, domain = u, d
	}
	return &sealer{dial: dial, user: user, domain: domain, password: cfg.Password, wait: cfg.OperationTimeout + 15*time.Second}
}

// RoundTrip sends one SOAP message sealed and returns the host's answer
// unsealed, so the caller sees plain SOAP. A 401 is returned as it is,
// with the methods the host offered, for the caller to explain.
func (s *sealer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	c, refused, err := s.conn(ctx, req)
	if err != nil || refused != nil {
		return refused, err
	}
	resp, err := c.send(ctx, req, body, s.wait)
	if err != nil || resp.StatusCode == http.StatusUnauthorized || resp.Close {
		// An error may leave the RC4 streams out of step with the host's,
		// and a 401 means the host forgot the authentication.
		_ = c.nc.Close()
	} else {
		s.put(c)
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return resp, err
}

// conn takes an idle connection or dials and authenticates a new one. If
// the host refuses the credentials it returns its 401 instead.
func (s *sealer) conn(ctx context.Context, req *http.Request) (*sealedConn, *http.Response, error) {
	s.mu.Lock()
	for len(s.idle) > 0 {
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(c.since) < sealedIdleAge {
			s.mu.Unlock()
			return c, nil, nil
		}
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	nc, err := s.dial(ctx, "tcp", req.URL.Host)
	if err != nil {
		return nil, nil, err
	}
	c := &sealedConn{nc: nc, br: bufio.NewReader(nc)}
	refused, err := c.authenticate(ctx, req, s)
	if err != nil || refused != nil {
		_ = nc.Close()
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, refused, err
	}
	return c, nil, nil
}

// put keeps a connection for the next request.
func (s *sealer) put(c *sealedConn) {
	c.since = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idle) >= sealedIdleMax {
		_ = c.nc.Close()
		return
	}
	s.idle = append(s.idle, c)
}

// CloseIdleConnections closes the kept connections (http.Client calls it).
func (s *sealer) CloseIdleConnections() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.Close()
	}
}

// authenticate runs NTLM on the connection with empty POSTs, as Windows
// expects before encrypted messages: NEGOTIATE → 401 with the CHALLENGE →
// AUTHENTICATE → 200. The connection is then the session's.
func (c *sealedConn) authenticate(ctx context.Context, req *http.Request, s *sealer) (*http.Response, error) {
	client, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(s.user, string(s.password)), ntlmssp.SetDomain(s.domain),
		ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		return nil, err
	}
	negotiate, err := client.Authenticate(nil, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.handshake(ctx, req, negotiate, s.wait)
	if err != nil {
		return nil, err
	}
	challenge := negotiateToken(resp.Header.Values("WWW-Authenticate"))
	if resp.StatusCode != http.StatusUnauthorized || challenge == nil {
		// No NTLM on offer (e.g. only Basic): the 401 says what there is.
		return resp, nil
	}
	if len(challenge) < 24 || binary.LittleEndian.Uint32(challenge[20:])&ntlmSealFlags != ntlmSealFlags {
		return nil, &Error{Kind: ErrAuth, Help: "the host would not agree to NTLM message encryption (sign, seal and key exchange); use HTTPS (-winrm-https)"}
	}
	authenticate, err := client.Authenticate(challenge, nil)
	if err != nil {
		return nil, fmt.Errorf("NTLM challenge: %w", err)
	}
	resp, err = c.handshake(ctx, req, authenticate, s.wait)
	switch {
	case err != nil:
		return nil, err
	case resp.StatusCode == http.StatusUnauthorized:
		return resp, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("NTLM handshake: the host answered HTTP %d", resp.StatusCode)
	}
	if c.sess = client.SecuritySession(); c.sess == nil {
		return nil, errors.New("NTLM handshake: no session security")
	}
	return nil, nil
}

// handshake sends an empty POST with an NTLM token and reads the answer.
func (c *sealedConn) handshake(ctx context.Context, req *http.Request, token []byte, wait time.Duration) (*http.Response, error) {
	out := c.request(req, nil, "")
	out.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(token))
	return c.roundTrip(ctx, out, wait)
}

// send seals body, sends it and unseals the answer.
func (c *sealedConn) send(ctx context.Context, req *http.Request, body []byte, wait time.Duration) (*http.Response, error) {
	msg, sig, err := c.sess.Wrap(body)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(ctx, c.request(req, sealed.Frame(sig, msg, len(body)), sealed.ContentType), wait)
	if err != nil || !sealed.Is(resp.Header.Get("Content-Type")) {
		return resp, err
	}
	raw, _ := io.ReadAll(resp.Body) // already in memory
	sig, ciphertext, n, err := sealed.Parse(raw)

	if err != nil {
		return nil, err
	}
	plain, err := c.sess.Unwrap(ciphertext, sig)
	if err != nil {
		return nil, fmt.Errorf("encrypted answer: %w", err)
	}
	if len(plain) != n {
		return nil, fmt.Errorf("encrypted answer: %d bytes where the host announced %d", len(plain), n)
	}
	resp.Body = io.NopCloser(bytes.NewReader(plain))
	resp.ContentLength = int64(len(plain))
	resp.Header.Set("Content-Type", sealed.SOAPContentType)
	return resp, nil
}

// request copies what matters of the caller's request for the wire: the
// URL and Host (the host's name, whatever address was dialed).
func (c *sealedConn) request(req *http.Request, body []byte, contentType string) *http.Request {
	out := &http.Request{Method: http.MethodPost, URL: req.URL, Host: req.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
	out.Header.Set("User-Agent", "wsusfix")
	if contentType == "" {
		contentType = sealed.SOAPContentType
	}
	out.Header.Set("Content-Type", contentType)
	if len(body) == 0 {
		out.Body = http.NoBody
		out.Header.Set("Content-Length", "0") // Write omits it for an empty POST
	}
	return out
}

// roundTrip writes out and reads the whole answer, bounded by ctx and by
// wait. A cancel aborts the blocked read at once.
func (c *sealedConn) roundTrip(ctx context.Context, out *http.Request, wait time.Duration) (*http.Response, error) {
	resp, err := c.exchange(ctx, out, wait)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		// The connection's deadline may be the step's, and may pass a hair
		// before ctx reports it: say which deadline it was.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			return nil, context.DeadlineExceeded
		}
	}
	return resp, err
}

// exchange is roundTrip without the deadline's translation.
func (c *sealedConn) exchange(ctx context.Context, out *http.Request, wait time.Duration) (*http.Response, error) {
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	w := bufio.NewWriter(c.nc)
	if err := out.Write(w); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, out)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("the host's answer exceeds %d bytes", maxResponse)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// negotiateToken finds the token of a "Negotiate <base64>" challenge.
func negotiateToken(headers []string) []byte {
	for _, h := range headers {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Negotiate") {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok)); err == nil {
			return b
		}
	}
	return nil
}
