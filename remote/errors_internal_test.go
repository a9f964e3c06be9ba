package remote

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capturedFault returns the first fault response in a recorded cassette of
// sim/testdata/winrm-captures (real Windows answers) whose body holds marker.
func capturedFault(t *testing.T, file, marker string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "sim", "testdata", "winrm-captures", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if body, ok := strings.CutPrefix(sc.Text(), "  response: "); ok && strings.Contains(body, "<s:Fault>") && strings.Contains(body, marker) {
			return body
		}
	}
	t.Fatalf("%s holds no fault with %q", file, marker)
	return ""
}

// faultBody wraps an s:Fault in an envelope like Windows' own.
func faultBody(fault string) string {
	return `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
		`xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action></s:Header>` +
		`<s:Body>` + fault + `</s:Body></s:Envelope>`
}

// TestFaultError ensures faults are classified by WSManFault code and SOAP
// subcode, on the bytes real Windows servers sent: each gets its own kind,
// Windows' text is kept, and rewording a message changes nothing.
func TestFaultError(t *testing.T) {
	t.Parallel()
	timedOut := capturedFault(t, "test_winrs_operation_timeout.yml", "w:TimedOut")
	tests := []struct {
		name         string
		body         string
		aboutCommand bool
		want         error
		wantFault    string
		operationTO  bool
	}{
		{"TimedOut", timedOut, true, ErrTimedOut, "within the time specified in OperationTimeout", true},
		{"TimedOut reworded", strings.ReplaceAll(timedOut, "OperationTimeout", "the wait"), true, ErrTimedOut, "within the time specified in the wait", true},
		{"unknown command", capturedFault(t, "test_winrs_bad_cmd_id.yml", "w:InvalidSelectors"), true, ErrCommandGone, "command identifier that does not exist", false},
		{"unknown shell", capturedFault(t, "test_psrp_is_alive_invalid_selectors.yml", "w:InvalidSelectors"), true, ErrShellGone, "invalid selectors", false},
		{"unknown shell on Delete", capturedFault(t, "test_winrs_bad_cmd_id.yml", "w:InvalidSelectors"), false, ErrShellGone, "command identifier", false},
		{"Receive without command id", capturedFault(t, "test_winrs_fail_poll_process.yml", "w:InvalidParameter"), true, ErrInvalidParameter, "The parameter is incorrect.", false},
		// The forms below are from notes/winrm.md's table of Windows faults
		// (pywinrm #336, wazuh-ansible #581, WinRb/WinRM wmi_error_v2.xml).
		{"access denied", faultBody(`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">Access is denied. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="5" Machine="h"><f:Message>Access is denied. </f:Message></f:WSManFault></s:Detail></s:Fault>`), false, ErrAccessDenied, "Access is denied.", false},
		{"access denied inside an operation", faultBody(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">Access is denied. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942405" Machine="h"><f:Message>Access is denied. </f:Message></f:WSManFault></s:Detail></s:Fault>`), true, ErrAccessDenied, "Access is denied.", false},
		{"shell quota", faultBody(`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:QuotaLimit</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">maximum number of 30 concurrent shells</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859173" Machine="h"><f:Message>This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. </f:Message></f:WSManFault></s:Detail></s:Fault>`), false, ErrQuota, "30 concurrent shells", false},
		{"operations quota", faultBody(`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:QuotaLimit</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">x</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859174" Machine="h"><f:Message>maximum number of 1500 concurrent operations</f:Message></f:WSManFault></s:Detail></s:Fault>`), false, ErrQuota, "1500 concurrent operations", false},
		{"program not found", faultBody(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The system cannot find the file specified. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942402" Machine="h"><f:Message><f:ProviderFault provider="Shell cmd plugin" path="%systemroot%\system32\winrscmd.dll">The system cannot find the file specified. </f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault>`), false, ErrFileNotFound, "cannot find the file", false},
		{"unknown fault keeps Windows' words", faultBody(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The filename or extension is too long. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942606" Machine="h"><f:Message>The filename or extension is too long. </f:Message></f:WSManFault></s:Detail></s:Fault>`), false, ErrFault, "The filename or extension is too long.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseFault([]byte(tt.body))
			if f == nil {
				t.Fatal("no fault parsed")
			}
			e := faultError("host1", f, tt.aboutCommand)
			if !errors.Is(e, tt.want) || !strings.Contains(e.Fault, tt.wantFault) {
				t.Fatalf("kind %v, fault %q; want %v with %q", e.Kind, e.Fault, tt.want, tt.wantFault)
			}
			if isOperationTimeout(e) != tt.operationTO {
				t.Fatalf("isOperationTimeout = %v", !tt.operationTO)
			}
			if tt.want == ErrFault && !strings.Contains(e.Help, tt.wantFault) {
				t.Fatalf("help %q drops Windows' message", e.Help)
			}
		})
	}
	// A connection that timed out is not the host's "nothing yet".
	if isOperationTimeout(&Error{Kind: ErrTimedOut, Help: "the host accepted the connection but did not answer in time"}) {
		t.Fatal("a transport timeout counts as w:TimedOut")
	}
}
