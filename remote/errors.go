package remote

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds of failure, for errors.Is. Every error from this package that
// concerns a host is an *Error wrapping one of these.
var (
	ErrNotConfigured = errors.New("WinRM not configured")
	ErrUnreachable   = errors.New("host unreachable")
	ErrTLS           = errors.New("certificate not trusted")
	ErrAuth          = errors.New("credentials refused")
	ErrAccessDenied  = errors.New("access denied")
	ErrQuota         = errors.New("shell quota exceeded")
	ErrTimedOut      = errors.New("operation timed out")
	ErrShellGone     = errors.New("shell gone")
	ErrFault         = errors.New("WS-Management fault")
)

// Error is a failure talking to one host. Help says what a helpdesk
// person can check; it never contains credentials.
type Error struct {
	Host string
	Kind error  // one of the Err* kinds above
	Code uint32 // WSManFault code when the host sent one
	Help string
	Err  error // the underlying cause, if any
}

// Error reads "remote: HOST: kind: help".
func (e *Error) Error() string {
	s := "remote: " + e.Host + ": " + e.Kind.Error()
	if e.Help != "" {
		s += ": " + e.Help
	}
	return s
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// WSManFault codes Windows sends (winerror.h, MS-WSMV).
const (
	codeAccessDenied = 5
	codeTimedOut     = 2150858793 // 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
	codeQuotaShells  = 2150859173 // 0x803381A5 ERROR_WSMAN_QUOTA_MAX_SHELLS_PPQ
	codeQuotaUser    = 2150859174 // 0x803381A6 ERROR_WSMAN_QUOTA_MAX_SHELLS_USER
	codeShellGone    = 2150858843 // 0x8033805B ERROR_WSMAN_INVALID_SELECTORS
)

// soapFault is the part of a WS-Management fault we read.
type soapFault struct {
	Subcode string `xml:"Body>Fault>Code>Subcode>Value"`
	Reason  string `xml:"Body>Fault>Reason>Text"`
	WSMan   struct {
		Code    string `xml:"Code,attr"`
		Message string `xml:"Message"`
	} `xml:"Body>Fault>Detail>WSManFault"`
}

// parseFault returns the fault in body, or nil when body holds none.
func parseFault(body []byte) *soapFault {
	if !strings.Contains(string(body), "Fault") {
		return nil
	}
	var f soapFault
	if err := xml.Unmarshal(body, &f); err != nil || (f.Subcode == "" && f.WSMan.Code == "" && f.Reason == "") {
		return nil
	}
	return &f
}

// faultError turns a host's fault into a typed error with advice.
func faultError(host string, f *soapFault) *Error {
	code64, _ := strconv.ParseUint(strings.TrimSpace(f.WSMan.Code), 10, 32)
	code := uint32(code64)
	msg := strings.TrimSpace(firstNonEmpty(f.WSMan.Message, f.Reason))
	e := &Error{Host: host, Code: code, Err: fmt.Errorf("fault %s code %d: %s", f.Subcode, code, msg)}
	sub := f.Subcode[strings.LastIndex(f.Subcode, ":")+1:]
	switch {
	case code == codeTimedOut || sub == "TimedOut":
		// The library polls again only when the text says "OperationTimeout".
		e.Kind, e.Help = ErrTimedOut, "no output within the WS-Management OperationTimeout"
	case code == codeAccessDenied || sub == "AccessDenied":
		e.Kind, e.Help = ErrAccessDenied, "the account signed in but may not run remote commands: it must be a local administrator on the host (or in Remote Management Users with WinRM rights)"
	case code == codeQuotaShells || code == codeQuotaUser:
		e.Kind, e.Help = ErrQuota, "the host has too many open remote shells for this account (MaxShellsPerUser); wait for idle shells to expire or raise the quota"
	case code == codeShellGone || sub == "InvalidSelectors":
		e.Kind, e.Help = ErrShellGone, "the host no longer knows the remote shell: it may have restarted the WinRM service or rebooted"
	default:
		e.Kind, e.Help = ErrFault, "the host refused the request: "+msg
	}
	return e
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
