package sim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds the SOAP faults Windows answers with (shapes copied from
// captures of real servers, see testdata/winrm-captures) and what each
// per-host Fault does on the wire.

// WSManFault codes the simulator sends, as unsigned decimal like Windows.
const (
	codeAccessDenied        = 5
	codeInvalidParameter    = 87
	codeFileNotFound        = 2147942402 // 0x80070002 from the cmd plugin
	codeFilenameTooLong     = 2147942606 // 0x800700CE
	codeResourceNotFound    = 2150858752
	codeInvalidHeader       = 2150858767
	codeActionNotSupported  = 2150858771
	codeTimedOut            = 2150858793
	codeInvalidXML          = 2150858819
	codeUnexpectedSelectors = 2150858843
	codeQuotaMaxShells      = 2150859173
)

// Provider paths Windows names inside f:ProviderFault.
const (
	providerShell = `Shell provider|%systemroot%\system32\WsmSvc.dll`
	providerCmd   = `Shell cmd plugin|%systemroot%\system32\winrscmd.dll`
)

// wsmanFault is one SOAP fault as Windows renders it: s:Code with a
// w:/a: subcode, s:Reason, an optional w:FaultDetail and an f:WSManFault
// whose message may be wrapped in an f:ProviderFault.
type wsmanFault struct {
	sender   bool   // s:Sender rather than s:Receiver
	subcode  string // e.g. "w:TimedOut"
	reason   string
	detail   string // w:FaultDetail URI, "" for none
	code     uint32
	message  string
	provider string // "name|path" of an f:ProviderFault, "" for none
	nested   bool   // the provider fault wraps another f:WSManFault (shell provider style)
}

// Error makes a wsmanFault usable as an error inside the simulator.
func (f *wsmanFault) Error() string {
	return fmt.Sprintf("wsman fault %d: %s", f.code, strings.TrimSpace(f.message))
}

// render returns the s:Fault element for the named machine.
func (f *wsmanFault) render(machine string) string {
	var b strings.Builder
	value := "s:Receiver"
	if f.sender {
		value = "s:Sender"
	}
	b.WriteString(`<s:Fault><s:Code><s:Value>` + value + `</s:Value><s:Subcode><s:Value>`)
	b.WriteString(f.subcode)
	b.WriteString(`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">`)
	b.WriteString(esc(f.reason))
	b.WriteString(`</s:Text></s:Reason><s:Detail>`)
	if f.detail != "" {
		b.WriteString(`<w:FaultDetail>` + f.detail + `</w:FaultDetail>`)
	}
	open := `<f:WSManFault xmlns:f="` + nsFault + `" Code="` + strconv.FormatUint(uint64(f.code), 10) +
		`" Machine="` + esc(machine) + `"><f:Message>`
	b.WriteString(open)
	msg := esc(f.message)
	switch {
	case f.provider == "":
		b.WriteString(msg)
	default:
		name, path, _ := strings.Cut(f.provider, "|")
		b.WriteString(`<f:ProviderFault provider="` + esc(name) + `" path="` + esc(path) + `">`)
		if f.nested {
			b.WriteString(open + msg + `</f:Message></f:WSManFault>`)
		} else {
			b.WriteString(msg)
		}
		b.WriteString(`</f:ProviderFault>`)
	}
	b.WriteString(`</f:Message></f:WSManFault></s:Detail></s:Fault>`)
	return b.String()
}

// writeFault answers with HTTP 500 and the fault, as Windows does for every
// SOAP fault.
func writeFault(w http.ResponseWriter, f *wsmanFault, machine, relatesTo string) {
	writeSOAP(w, http.StatusInternalServerError, envelope(declFault, actionFault, relatesTo, f.render(machine)))
}

// timedOutText is Windows' own text, two trailing spaces included
// (test_winrs_operation_timeout.yml). masterzen/winrm's Command retries
// only on errors whose text says "OperationTimeout"; wsusfix's client reads
// the fault code instead.
const timedOutText = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "

const invalidSelectorsText = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "

func faultTimedOut() *wsmanFault {
	return &wsmanFault{subcode: "w:TimedOut", reason: timedOutText, code: codeTimedOut, message: timedOutText}
}

func faultUnknownShell() *wsmanFault {
	return &wsmanFault{sender: true, subcode: "w:InvalidSelectors", reason: invalidSelectorsText,
		detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		code:   codeUnexpectedSelectors, message: invalidSelectorsText, provider: providerShell, nested: true}
}

func faultUnknownCommand() *wsmanFault {
	return &wsmanFault{sender: true, subcode: "w:InvalidSelectors", reason: invalidSelectorsText,
		detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		code:   codeUnexpectedSelectors,
		message: "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. " +
			"Either the command has completed execution or the client specified an invalid command identifier. "}
}

// faultAccessDenied is what a non-administrator gets on the cmd shell
// resource (pywinrm #336, WinRb/WinRM #194: WSManFault code 5).
func faultAccessDenied() *wsmanFault {
	return &wsmanFault{sender: true, subcode: "w:AccessDenied", reason: "Access is denied. ",
		code: codeAccessDenied, message: "Access is denied. "}
}

func faultQuota(maxShells int) *wsmanFault {
	text := fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, "+
		"which has been exceeded. Close existing shells or raise the quota for this user. ", maxShells)
	return &wsmanFault{sender: true, subcode: "w:QuotaLimit", reason: text, code: codeQuotaMaxShells, message: text}
}

func faultInvalidXML() *wsmanFault {
	text := "The WS-Management service cannot process the request because the XML is invalid. "
	return &wsmanFault{sender: true, subcode: "w:SchemaValidationError", reason: text, code: codeInvalidXML, message: text}
}

func faultActionNotSupported(action string) *wsmanFault {
	text := "The WS-Management service cannot process the request because the action is not supported: " + action + ". "
	return &wsmanFault{sender: true, subcode: "a:ActionNotSupported", reason: text,
		detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ActionMismatch",
		code:   codeActionNotSupported, message: text}
}

func faultResourceNotFound() *wsmanFault {
	text := "The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors. "
	return &wsmanFault{sender: true, subcode: "w:DestinationUnreachable", reason: text,
		detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI",
		code:   codeResourceNotFound, message: text}
}

func faultInvalidTimeout(value string) *wsmanFault {
	text := "The WS-Management service cannot process the request because the request contained an invalid timeout field in the SOAP header: " + value + ". "
	return &wsmanFault{sender: true, subcode: "a:InvalidMessageInformationHeader", reason: text,
		code: codeInvalidHeader, message: text}
}

func faultInvalidParameter() *wsmanFault {
	return &wsmanFault{sender: true, subcode: "w:InvalidParameter", reason: "The parameter is incorrect. ",
		detail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue",
		code:   codeInvalidParameter, message: "The parameter is incorrect. ", provider: providerCmd}
}

// faultFilenameTooLong is CreateProcess refusing a command line past 32 K
// characters; shorter lines past 8191 reach cmd.exe, which complains itself.
func faultFilenameTooLong() *wsmanFault {
	return &wsmanFault{subcode: "w:InternalError", reason: "The filename or extension is too long. ",
		code: codeFilenameTooLong, message: "The filename or extension is too long. ", provider: providerCmd}
}

// faultFileNotFound is WINRS_SKIP_CMD_SHELL=TRUE with a program that does
// not exist: without cmd.exe there is nobody to print "not recognized".
func faultFileNotFound() *wsmanFault {
	return &wsmanFault{subcode: "w:InternalError", reason: "The system cannot find the file specified. ",
		code: codeFileNotFound, message: "The system cannot find the file specified. ", provider: providerCmd}
}

// latency is how long a request to h waits before it is handled: the
// fleet-wide Latency plus jitter, and for FaultSlow hosts SlowLatency plus
// jitter on top. Jitter comes from the seeded generator so runs repeat.
func (s *Server) latency(f Fault) time.Duration {
	d := s.opt.Latency + s.jitter(s.opt.Jitter)
	if f == FaultSlow {
		d += s.opt.SlowLatency + s.jitter(s.opt.SlowJitter)
	}
	return d
}

func (s *Server) jitter(j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(j)))
}

// sleep waits d unless the request or the server ends first; it reports
// whether the full wait elapsed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// dropConnection closes the client's TCP connection without writing a
// response, which is what a host that crashes or loses its network does
// mid-request. The client sees EOF (masterzen/winrm turns that into exit
// code 16001).
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Not a real connection (e.g. httptest.ResponseRecorder): the closest
		// we can do is an empty answer.
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.Close()
}

// applyFault updates the state a fault stands for. Leaving reboot-pending
// does not clear RebootPending: only a reboot (a script) does that.
func applyFault(st *HostState, f Fault) {
	st.Fault = f
	st.Fixable = f != FaultNotFixable
	st.StuckService = ""
	if f == FaultServiceStuck {
		st.StuckService = "wuauserv"
	}
	st.LockedRenames = 0
	if f == FaultFolderLocked {
		st.LockedRenames = 2
	}
	if f == FaultRebootPending {
		st.RebootPending = true
	}
	applyQuirks(st, f)
}
