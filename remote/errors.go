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
	ErrNotConfigured    = errors.New("WinRM not configured")
	ErrUnreachable      = errors.New("host unreachable")
	ErrTLS              = errors.New("certificate not trusted")
	ErrAuth             = errors.New("credentials refused")
	ErrAccessDenied     = errors.New("access denied")
	ErrQuota            = errors.New("shell quota exceeded")
	ErrTimedOut         = errors.New("operation timed out")
	ErrShellGone        = errors.New("shell gone")
	ErrCommandGone      = errors.New("command gone")
	ErrInvalidParameter = errors.New("invalid parameter")
	ErrFileNotFound     = errors.New("program not found")
	ErrStdin            = errors.New("stdin not delivered")
	ErrFault            = errors.New("WS-Management fault")
)

// Error is a failure talking to one host. Help says what a helpdesk
// person can check; it never contains credentials.
type Error struct {
	Host string
	Kind error  // one of the Err* kinds above
	Code uint32 // WSManFault code when the host sent one
	// Fault is the host's own text of its fault (the f:Message, or the
	// s:Reason), kept so the run log can show what Windows said.
	Fault string
	Help  string
	Err   error // the underlying cause, if any

	fromFault bool // the host answered with a SOAP fault (not a transport failure)
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

// WSManFault codes Windows sends (winerror.h, MS-WSMV), as unsigned decimal.
const (
	codeAccessDenied     = 5
	codeInvalidParameter = 87
	codeFileNotFound     = 2147942402 // 0x80070002 from the cmd plugin: no such program
	codeAccessDeniedHR   = 2147942405 // 0x80070005 inside an operation
	codeTimedOut         = 2150858793 // 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
	codeInvalidSelectors = 2150858843 // 0x8033805B ERROR_WSMAN_INVALID_SELECTORS
	codeQuotaShells      = 2150859173 // 0x803381A5 ERROR_WSMAN_QUOTA_MAX_SHELLS
	codeQuotaOperations  = 2150859174 // 0x803381A6 ERROR_WSMAN_QUOTA_MAX_OPERATIONS
	codeQuotaUser        = 2150859175 // 0x803381A7 ERROR_WSMAN_QUOTA_USER
	codeQuotaShellUsers  = 2150859179 // 0x803381AB ERROR_WSMAN_QUOTA_MAX_SHELLUSERS
)

// soapFault is the part of a WS-Management fault we read. The f:Message of
// a fault is either text, or an f:ProviderFault naming the component that
// failed, which may wrap another f:WSManFault (the shell provider's form).
type soapFault struct {
	Subcode string `xml:"Body>Fault>Code>Subcode>Value"`
	Reason  string `xml:"Body>Fault>Reason>Text"`
	Detail  string `xml:"Body>Fault>Detail>FaultDetail"`
	WSMan   struct {
		Code    string `xml:"Code,attr"`
		Message struct {
			Text     string `xml:",chardata"`
			Provider *struct {
				Name  string `xml:"provider,attr"`
				Text  string `xml:",chardata"`
				Inner *struct {
					Message string `xml:"Message"`
				} `xml:"WSManFault"`
			} `xml:"ProviderFault"`
		} `xml:"Message"`
	} `xml:"Body>Fault>Detail>WSManFault"`
}

// text is the fault's own words: the innermost message, else the reason.
func (f *soapFault) text() string {
	m := f.WSMan.Message
	if p := m.Provider; p != nil {
		if p.Inner != nil && strings.TrimSpace(p.Inner.Message) != "" {
			return strings.TrimSpace(p.Inner.Message)
		}
		if strings.TrimSpace(p.Text) != "" {
			return strings.TrimSpace(p.Text)
		}
	}
	return strings.TrimSpace(firstNonEmpty(m.Text, f.Reason))
}

// subcode is the fault's subcode without its prefix ("TimedOut").
func (f *soapFault) subcode() string {
	return strings.TrimSpace(f.Subcode[strings.LastIndex(f.Subcode, ":")+1:])
}

// shellProvider reports the shell provider's nested form of a fault, which
// Windows uses when the shell itself is unknown (capture
// test_psrp_is_alive_invalid_selectors.yml); an unknown command id comes
// as flat text from WinRS (capture test_winrs_bad_cmd_id.yml).
func (f *soapFault) shellProvider() bool {
	p := f.WSMan.Message.Provider
	return p != nil && p.Inner != nil && strings.EqualFold(strings.TrimSpace(p.Name), "Shell provider")
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

// faultError turns a host's fault into a typed error with advice. It
// classifies by the WSManFault code and the SOAP subcode only: the text is
// localised and worded differently across Windows versions, so it is kept
// for people (Error.Fault) and never matched. aboutCommand says whether the
// request named a command (Send, Receive, Signal), which is the only way to
// tell an unknown command from an unknown shell when a host sends the flat
// form for both.
func faultError(host string, f *soapFault, aboutCommand bool) *Error {
	code64, _ := strconv.ParseUint(strings.TrimSpace(f.WSMan.Code), 10, 32)
	code := uint32(code64)
	msg := f.text()
	sub := f.subcode()
	e := &Error{Host: host, Code: code, Fault: msg, fromFault: true, Err: fmt.Errorf("fault %s code %d: %s", f.Subcode, code, msg)}
	switch {
	case code == codeTimedOut || (code == 0 && sub == "TimedOut"):
		e.Kind, e.Help = ErrTimedOut, "no output within the WS-Management OperationTimeout"
	case code == codeAccessDenied || code == codeAccessDeniedHR || (code == 0 && sub == "AccessDenied"):
		e.Kind, e.Help = ErrAccessDenied, "the account signed in but may not run remote commands: it must be a local administrator on the host (or in Remote Management Users with WinRM rights)"
	case code == codeQuotaShells || code == codeQuotaOperations || code == codeQuotaUser || code == codeQuotaShellUsers || (code == 0 && sub == "QuotaLimit"):
		e.Kind, e.Help = ErrQuota, "the host has too many open remote shells or operations for this account (MaxShellsPerUser, MaxConcurrentOperationsPerUser); wait for idle shells to expire or raise the quota"
	case code == codeInvalidSelectors || (code == 0 && sub == "InvalidSelectors"):
		if aboutCommand && !f.shellProvider() {
			e.Kind, e.Help = ErrCommandGone, "the host does not know the command any more: it has ended or was never started in this shell"
		} else {
			e.Kind, e.Help = ErrShellGone, "the host no longer knows the remote shell: it may have restarted the WinRM service, rebooted, or closed the shell after its idle timeout"
		}
	case code == codeInvalidParameter || (code == 0 && sub == "InvalidParameter"):
		e.Kind, e.Help = ErrInvalidParameter, "the host refused a parameter of the request as incorrect"
	case code == codeFileNotFound:
		e.Kind, e.Help = ErrFileNotFound, "the host could not find the program to start"
	default:
		e.Kind, e.Help = ErrFault, "the host refused the request: "+firstNonEmpty(msg, "fault "+f.Subcode)
	}
	return e
}

// isOperationTimeout reports the normal w:TimedOut answer to a Receive
// that saw no output within OperationTimeout (MS-WSMV 3.1.4.14): the
// client polls again. A connection that timed out is not this.
func isOperationTimeout(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == ErrTimedOut && e.fromFault
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
