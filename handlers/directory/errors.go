package directory

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// The kinds of failure. Every error from SignIn and Lookup wraps exactly
// one of them, and its text says the reason for the log; none of them is
// meant for the person signing in, who is told only that sign-in failed.
var (
	// ErrRefused: the person or account is at fault: no such user, a
	// wrong or empty password, a disabled account.
	ErrRefused = errors.New("directory: sign-in refused")
	// ErrNoRole: the password was right but the user is in no mapped group.
	ErrNoRole = errors.New("directory: the user is in no mapped group")
	// ErrUnreachable: no connection, or it broke or timed out.
	ErrUnreachable = errors.New("directory: unreachable")
	// ErrUntrusted: the server's certificate does not verify against the
	// configured CA, or does not name the host.
	ErrUntrusted = errors.New("directory: server certificate not trusted")
	// ErrServiceBind: the directory refused the service account.
	ErrServiceBind = errors.New("directory: service account bind refused")
	// ErrBase: the search base does not exist on this server.
	ErrBase = errors.New("directory: search base not found")
	// ErrDirectory: anything else the directory answered that stops sign-in
	// (an ambiguous filter, a refused search).
	ErrDirectory = errors.New("directory: unexpected answer")
)

// IsAdminError reports whether err is one an administrator must fix (the
// directory, its certificate, the service account, the base or filter),
// as opposed to the person's own mistake or missing membership.
func IsAdminError(err error) bool {
	return !errors.Is(err, ErrRefused) && !errors.Is(err, ErrNoRole)
}

// refused returns an ErrRefused saying why.
func refused(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, a...)...)
}

// connError classifies a failure to connect or to set up TLS.
func connError(url string, err error) error {
	if untrusted(err) {
		return fmt.Errorf("%w: %s: %w", ErrUntrusted, url, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, url, err)
}

// untrusted reports whether err is a certificate verification failure.
// LDAPS dial errors keep Go's typed errors; go-ldap's StartTLS formats the
// handshake error into its text (v3.4.15 conn.go: "TLS handshake failed
// (%v)"), so there the text crypto/tls gives every verification failure
// ("tls: failed to verify certificate") is all that is left.
func untrusted(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return true
	}
	return strings.Contains(err.Error(), "tls: failed to verify certificate")
}

// opError classifies a failed operation on an open connection: a network
// failure is ErrUnreachable, a missing base ErrBase, anything else what
// otherwise says.
func opError(what string, err error, otherwise error) error {
	switch {
	case ldap.IsErrorAnyOf(err, ldap.ErrorNetwork):
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, what, err)
	case ldap.IsErrorAnyOf(err, ldap.LDAPResultNoSuchObject, ldap.LDAPResultReferral):
		return fmt.Errorf("%w: %s: %w", ErrBase, what, err)
	}
	return fmt.Errorf("%w: %s: %w", otherwise, what, err)
}
