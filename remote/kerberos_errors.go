package remote

import (
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"
)

// kdcError explains a failed sign-in (service false) or service ticket
// request (service true) as an *Error a helpdesk can act on. The library
// flattens KDC errors into text, so the KRB error is recognised by the
// name it prints for the code (errorcode.Lookup), a protocol constant.
func (k *kerberos) kdcError(err error, service bool) *Error {
	msg := err.Error()
	has := func(code int32) bool { return strings.Contains(msg, errorcode.Lookup(code)) }
	account := k.name + "@" + k.realm
	e := &Error{Host: k.host, Kind: ErrAuth, Err: err}
	switch {
	case isKDCUnreachable(err):
		e.Help = fmt.Sprintf("could not reach a Kerberos KDC for realm %s (%s); check that a domain controller is up and reachable on port 88 from this server, "+
			"and the KDC addresses in the krb5.conf wsusfix reads (-winrm-krb5-conf)", k.realm, k.kdcs())
	case has(errorcode.KDC_ERR_PREAUTH_FAILED), strings.Contains(msg, "password/keytab incorrect"):
		e.Help = fmt.Sprintf("the domain refused the password of %s (Kerberos pre-authentication failed); check the password, "+
			"and whether repeated failures have locked the account out", account)
	case has(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN):
		e.Help = fmt.Sprintf("the realm %s has no account %s; check the user name, and write it as name@REALM when the account is in another realm "+
			"(the realm is the domain's DNS name in capitals)", k.realm, k.name)
	case has(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN):
		e.Help = fmt.Sprintf("the domain has no service principal %s, so Kerberos cannot reach this host by that name: the inventory name must be the FQDN "+
			"the host's HTTP/ SPN is registered under (an IP address or short name will not work); check with setspn -Q %s, fix the name, or use NTLM",
			k.spn, k.spn)
	case has(errorcode.KRB_AP_ERR_SKEW):
		e.Help = "this server's clock differs from the domain controller's by more than Kerberos allows (5 minutes by default); synchronise the time (NTP)"
	case has(errorcode.KDC_ERR_CLIENT_REVOKED):
		e.Help = fmt.Sprintf("the domain refuses %s: the account is disabled, locked out or outside its logon hours", account)
	case has(errorcode.KDC_ERR_KEY_EXPIRED):
		e.Help = fmt.Sprintf("the password of %s has expired; change it, then update wsusfix's settings", account)
	case has(errorcode.KDC_ERR_ETYPE_NOSUPP):
		e.Help = fmt.Sprintf("the domain and wsusfix share no Kerberos encryption type for %s; enable AES for the account (and for the host's computer account)", account)
	case service:
		e.Help = fmt.Sprintf("the KDC issued no ticket for %s to %s: %s", k.spn, account, shortCause(err))
	default:
		e.Help = fmt.Sprintf("Kerberos sign-in of %s failed: %s", account, shortCause(err))
	}
	return e
}

// isKDCUnreachable reports a failure to exchange messages with any KDC,
// as opposed to a KDC's answer.
func isKDCUnreachable(err error) bool {
	if ke, ok := err.(krberror.Krberror); ok && ke.RootCause == krberror.NetworkingError {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "failed to communicate with KDC") || strings.Contains(msg, "error sending to a KDC") ||
		strings.Contains(msg, "no KDCs defined")
}

// kdcs lists the KDC addresses krb5.conf gives for the realm.
func (k *kerberos) kdcs() string {
	for _, r := range k.conf.Realms {
		if r.Realm == k.realm && len(r.KDC) > 0 {
			return "krb5.conf names " + strings.Join(r.KDC, ", ")
		}
	}
	if k.conf.LibDefaults.DNSLookupKDC {
		return "KDCs from DNS SRV records _kerberos._tcp." + strings.ToLower(k.realm)
	}
	return "krb5.conf names no KDC for it"
}

// authHelp explains a 401 to a valid ticket: the KDC vouched for
// the account, so the host itself refused it.
func (k *kerberos) authHelp() string {
	return fmt.Sprintf("the host refused a valid Kerberos ticket for %s from %s@%s; check that the account may use WinRM on the host "+
		"(a local administrator), that %s is registered to this host's own computer account (setspn -Q %s), and that the host's clock is right",
		k.spn, k.name, k.realm, k.spn, k.spn)
}
