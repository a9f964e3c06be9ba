// Package remote runs wsusfix's PowerShell steps on Windows hosts over
// WinRM, through github.com/masterzen/winrm made safe: faults become typed
// errors, every request is bounded by the step's context, one shell serves
// a host's whole run and is always deleted. It imports nothing else of
// wsusfix except its own subpackages, and never logs credentials.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"wsusfix/store/secret"
)

// Authentication methods.
const (
	AuthBasic    = "basic"
	AuthNTLM     = "ntlm"
	AuthKerberos = "kerberos" // over HTTPS only; needs Krb5Conf
)

// AuthMethods lists the supported authentication methods, the default
// first.
var AuthMethods = []string{AuthNTLM, AuthBasic, AuthKerberos}

// Config says how to reach every host: one per deployment.
type Config struct {
	HTTPS    bool   // 5986 with TLS; otherwise 5985, where NTLM seals every message
	Port     int    // 0 means the WinRM default for the scheme
	CAPEM    []byte // extra trusted CA certificates (PEM) for HTTPS
	Insecure bool   // skip certificate verification: for labs only
	Auth     string // one of AuthMethods
	User     string // for Kerberos: name@REALM, or DOMAIN\name and name in Krb5Conf's default_realm
	Password secret.Secret
	// Krb5Conf is the contents of the krb5.conf Kerberos reads its realm
	// and KDCs from; only AuthKerberos uses it.
	Krb5Conf []byte

	// OperationTimeout is how long a host may hold a Receive open before
	// answering TimedOut (the WS-Man OperationTimeout); default 20s.
	OperationTimeout time.Duration
	// DialTimeout bounds connecting; default 10s.
	DialTimeout time.Duration
	// DialContext replaces the network dialer, e.g. to send every host to a
	// simulated fleet. nil uses a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// withDefaults fills in zero fields.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 5985
		if c.HTTPS {
			c.Port = 5986
		}
	}
	if c.Auth == "" {
		c.Auth = AuthNTLM
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = 20 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	return c
}

// Validate reports a configuration that cannot work or would be unsafe,
// in words an administrator can act on.
func (c Config) Validate() error {
	c = c.withDefaults()
	errs := c.transportProblems()
	if c.User == "" {
		errs = append(errs, errors.New("no WinRM user: set -winrm-user"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("no WinRM password: set WSUSFIX_WINRM_PASSWORD or -winrm-password-file"))
	}
	if c.Insecure && len(c.CAPEM) > 0 {
		errs = append(errs, errors.New("-winrm-insecure and -winrm-ca contradict each other: a CA is only useful with verification on"))
	}
	if c.Auth == AuthKerberos {
		errs = append(errs, c.kerberosProblems()...)
	}
	return errors.Join(errs...)
}

// ValidateTransport checks only how hosts are reached: the scheme, the port
// and whether the authentication method is safe over it. The settings page
// uses it, since the account is checked there and files such as the
// krb5.conf belong to the server, read when a run starts.
func (c Config) ValidateTransport() error {
	return errors.Join(c.withDefaults().transportProblems()...)
}

// TransportProblems is ValidateTransport's findings as sentences for the
// person filling in the settings, empty when the transport is sound.
func (c Config) TransportProblems() []string {
	var out []string
	for _, e := range c.withDefaults().transportProblems() {
		out = append(out, e.Error())
	}
	return out
}

// transportProblems is ValidateTransport's list.
func (c Config) transportProblems() []error {
	var errs []error
	switch c.Auth {
	case AuthBasic:
		if !c.HTTPS {
			errs = append(errs, errors.New("basic authentication over HTTP would send the password in clear text: use HTTPS (-winrm-https) or NTLM (-winrm-auth ntlm)"))
		}
	case AuthNTLM:
		// Over plain HTTP every message is sealed (sealing.go).
	case AuthKerberos:
		if !c.HTTPS {
			errs = append(errs, errors.New("kerberos over plain HTTP needs Kerberos message encryption, which this version does not implement: use HTTPS (-winrm-https) or NTLM (-winrm-auth ntlm), which encrypts its messages on HTTP"))
		}
	default:
		errs = append(errs, fmt.Errorf("authentication %q: want one of %s", c.Auth, strings.Join(AuthMethods, ", ")))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("WinRM port %d: want 1 to 65535", c.Port))
	}
	return errs
}

// Target is one host to reach: its name (for the HTTP Host header, TLS
// server name and messages) and optionally an address to dial instead of
// resolving the name, since inventory DNS is often wrong.
type Target struct {
	Name    string
	Address string // IP or IP:port; empty means resolve Name
}

// dialAddr is where to connect for t under c.
func (t Target) dialAddr(c Config) string {
	if t.Address == "" {
		return net.JoinHostPort(t.Name, fmt.Sprint(c.Port))
	}
	if _, _, err := net.SplitHostPort(t.Address); err == nil {
		return t.Address
	}
	return net.JoinHostPort(t.Address, fmt.Sprint(c.Port))
}
