package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// maxResponse bounds one SOAP response; Windows' default envelope is 500 KB.
const maxResponse = 16 << 20

// transport is our winrm.Transporter. The library's own transports return
// HTTP 500 faults as success, cannot be cancelled and resolve the name they
// print; this one dials the inventory address while keeping the host name
// for the Host header and TLS, binds every request to the step's context,
// and turns faults into *Error values.
type transport struct {
	cfg    Config
	target Target
	url    string
	client *http.Client
	krb    *kerberos // set with AuthKerberos

	mu  sync.Mutex
	ctx context.Context // requests are bound to it; swapped for cleanup

	timeouts atomic.Int32 // consecutive TimedOut answers, for backoff
}

func newTransport(cfg Config, t Target) *transport {
	return &transport{cfg: cfg, target: t, ctx: context.Background()}
}

// setContext binds the following requests to ctx.
func (t *transport) setContext(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
}

func (t *transport) context() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ctx
}

// Transport builds the HTTP client for the endpoint (winrm.Transporter).
func (t *transport) Transport(ep *winrm.Endpoint) error {
	scheme := "http"
	if ep.HTTPS {
		scheme = "https"
	}
	t.url = (&url.URL{Scheme: scheme, Host: net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)), Path: "/wsman"}).String()
	tlsConf := &tls.Config{ServerName: t.target.Name, MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.cfg.Insecure} //nolint:gosec // opt-in, for labs
	if len(t.cfg.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(t.cfg.CAPEM) {
			return errors.New("remote: the WinRM CA file holds no PEM certificate")
		}
		tlsConf.RootCAs = pool
	}
	var rt http.RoundTripper = &http.Transport{
		Proxy:                 nil, // WinRM goes straight to the host, never via an environment proxy
		DialContext:           t.dial,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   t.cfg.DialTimeout,
		ResponseHeaderTimeout: t.cfg.OperationTimeout + 15*time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	switch {
	case t.cfg.Auth == AuthNTLM && !ep.HTTPS:
		rt = newSealer(t.cfg, t.dial)
	case t.cfg.Auth == AuthNTLM:
		rt = ntlmssp.Negotiator{RoundTripper: rt}
	}
	if t.cfg.Auth == AuthKerberos {
		k, err := newKerberos(t.cfg, t.target, rt)
		if err != nil {
			return err
		}
		t.krb, rt = k, k
	}
	t.client = &http.Client{Transport: rt}
	return nil
}

// dial connects to the inventory address, or the name, whatever host the
// URL names: the URL keeps the name so Host and TLS use it.
func (t *transport) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	addr := t.target.dialAddr(t.cfg)
	if t.cfg.DialContext != nil {
		return t.cfg.DialContext(ctx, network, addr)
	}
	d := net.Dialer{Timeout: t.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// Post sends one SOAP message (winrm.Transporter).
func (t *transport) Post(c *winrm.Client, msg *soap.SoapMessage) (string, error) {
	ctx := t.context()
	text := msg.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(text))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if t.krb == nil {
		req.SetBasicAuth(t.cfg.User, string(t.cfg.Password)) // NTLM's negotiator reads them from here too
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", t.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", t.transportError(ctx, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && len(bytes.TrimSpace(body)) == 0:
		// The library would parse "" as a reply and crash on the nil
		// document (ParseSlurpOutputErrResponse); no WinRM host sends this.
		return "", &Error{Host: t.target.Name, Kind: ErrFault,
			Help: "the host answered HTTP 200 with an empty body instead of a WS-Management reply; is a proxy or another service on this port?"}
	case resp.StatusCode == http.StatusOK:
		t.timeouts.Store(0)
		return string(body), nil
	case resp.StatusCode == http.StatusUnauthorized:
		return "", t.authError(resp.Header.Values("WWW-Authenticate"))
	}
	if f := parseFault(body); f != nil {
		// Our own request says whether it named a command (Send, Receive,
		// Signal carry a CommandId attribute); no host data is matched here.
		e := faultError(t.target.Name, f, strings.Contains(text, "CommandId="))
		if isOperationTimeout(e) {
			t.backoff(ctx)
		}
		return "", e
	}
	return "", &Error{Host: t.target.Name, Kind: ErrFault,
		Help: fmt.Sprintf("the host answered HTTP %d without a WS-Management fault; is this port really WinRM?", resp.StatusCode)}
}

// backoff waits a little longer after each consecutive TimedOut, so a host
// that answers TimedOut at once is not polled in a tight loop.
func (t *transport) backoff(ctx context.Context) {
	n := min(t.timeouts.Add(1), 6)
	d := min(25*time.Millisecond<<n, 2*time.Second)
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// transportError explains a failure to exchange a message. Context errors
// pass through untouched (in their *url.Error) so the library and callers
// see a cancel or deadline for what it is.
func (t *transport) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	var known *Error // already explained: the sealing transport, the Kerberos sign-in
	if errors.As(err, &known) {
		known.Host = t.target.Name
		return known
	}
	e := &Error{Host: t.target.Name, Kind: ErrUnreachable, Err: err}
	addr := t.target.dialAddr(t.cfg)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		e.Help = fmt.Sprintf("the name %s does not resolve; fix DNS or put the host's IP address in the inventory", t.target.Name)
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		e.Kind = ErrTLS
		e.Help = "the host's HTTPS certificate is not trusted or does not name " + t.target.Name +
			"; give wsusfix the issuing CA (-winrm-ca) or fix the certificate on the host"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Help = fmt.Sprintf("could not connect to %s (%s); check that the host is on, WinRM is enabled (winrm quickconfig) and the firewall allows TCP %d",
			addr, shortCause(opErr.Err), t.cfg.Port)
		if t.cfg.HTTPS {
			// The commonest case: quickconfig makes only the HTTP listener.
			e.Help += "; a host set up with winrm quickconfig listens on HTTP 5985 only: give it an HTTPS listener, or use -winrm-https=false with NTLM"
		}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "connection reset"):
		e.Help = "the host closed the connection mid-request (EOF); it may have rebooted or dropped off the network"
	default:
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			e.Kind = ErrTimedOut
			e.Help = "the host accepted the connection but did not answer in time"
		} else {
			e.Help = "the request to " + addr + " failed: " + shortCause(err)
		}
	}
	return e
}

// authError explains a 401: which methods the host offered, and what to check.
func (t *transport) authError(offered []string) error {
	var methods []string
	for _, h := range offered {
		m, _, _ := strings.Cut(strings.TrimSpace(h), " ")
		if m != "" {
			methods = append(methods, m)
		}
	}
	help := fmt.Sprintf("the host refused %s authentication for user %q", t.cfg.Auth, t.cfg.User)
	if t.krb != nil {
		help = t.krb.authHelp()
	}
	if len(methods) > 0 {
		help += " (it offers " + strings.Join(methods, ", ") + ")"
	}
	if t.krb == nil {
		help += "; check the user name and password"
	}
	offersBasic := strings.Contains(strings.ToLower(strings.Join(offered, " ")), "basic")
	if t.cfg.Auth == AuthBasic && !offersBasic {
		help += "; Basic is not enabled on the host: enable it (winrm set winrm/config/service/auth @{Basic=\"true\"}) or use -winrm-auth ntlm"
	}
	if t.cfg.Auth == AuthBasic {
		help += "; Basic works only with local accounts"
	}
	return &Error{Host: t.target.Name, Kind: ErrAuth, Help: help}
}

// shortCause is the innermost message of err, without URLs and addresses repeated.
func shortCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return err.Error()
}
