package sim

import (
	"bufio"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"
)

// rawClient drives one host with requests built by masterzen/winrm's own
// builders, so tests can look at whole responses, faults included.
type rawClient struct {
	t      *testing.T
	s      *Server
	host   string
	url    string
	params *winrm.Parameters
}

func newRaw(t *testing.T, s *Server, host string) *rawClient {
	return &rawClient{t: t, s: s, host: host, url: "http://" + host + ":5985/wsman",
		params: winrm.NewParameters("PT5S", "en-US", 153600)}
}

// do posts a request and returns the status and body.
func (r *rawClient) do(body string) (int, string) {
	r.t.Helper()
	resp, b := post(r.t, r.s, "POST", r.host, "Administrator", body)
	return resp.StatusCode, b
}

// mustOK posts and fails the test unless the answer is 200.
func (r *rawClient) mustOK(body string) string {
	r.t.Helper()
	status, b := r.do(body)
	if status != 200 {
		r.t.Fatalf("status %d: %s", status, b)
	}
	return b
}

func (r *rawClient) create() (shellID, body string) {
	r.t.Helper()
	body = r.mustOK(winrm.NewOpenShellRequest(r.url, r.params).String())
	m := reShellID.FindStringSubmatch(body)
	if m == nil {
		r.t.Fatalf("no ShellId in %s", body)
	}
	return m[1], body
}

var reCommandID = regexp.MustCompile(`<rsp:CommandId>([^<]+)</rsp:CommandId>`)

func (r *rawClient) command(shellID, cmd string) (commandID, body string) {
	r.t.Helper()
	body = r.mustOK(winrm.NewExecuteCommandRequest(r.url, shellID, cmd, nil, r.params).String())
	m := reCommandID.FindStringSubmatch(body)
	if m == nil {
		r.t.Fatalf("no CommandId in %s", body)
	}
	return m[1], body
}

func (r *rawClient) receive(shellID, commandID string) (int, string) {
	return r.do(winrm.NewGetOutputRequest(r.url, shellID, commandID, "stdout stderr", r.params).String())
}

// waitDone waits until a command has ended, so a Receive's shape is certain.
func (r *rawClient) waitDone(shellID, commandID string) {
	r.t.Helper()
	h := r.s.lookup(r.host)
	h.mu.Lock()
	c := h.shells[shellID].cmds[commandID]
	h.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.out.mu.Lock()
		done := c.out.done
		c.out.mu.Unlock()
		if done {
			return
		}
	}
	r.t.Fatal("command did not end")
}

// TestParseDuration ensures the xs:duration forms clients send are read and
// bad ones refused.
func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"PT60S", time.Minute, false},
		{"PT20.5S", 20500 * time.Millisecond, false},
		{"PT1M30S", 90 * time.Second, false},
		{"P0DT0H0M20S", 20 * time.Second, false},
		{"P1D", 24 * time.Hour, false},
		{"PT-1S", 0, true},
		{"60", 0, true},
		{"PT", 0, true},
		{"PT5", 0, true},
		{"P1H", 0, true},
		{"PTxS", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestParseRequest ensures requests parse whatever prefixes the client uses:
// masterzen's (env:, w:, no prefix on mustUnderstand) and pypsrp's (s:,
// wsa:, wsman:) from a real capture.
func TestParseRequest(t *testing.T) {
	t.Parallel()
	params := winrm.NewParameters("PT20S", "en-US", 153600)
	ours := winrm.NewExecuteCommandRequest("http://h:5985/wsman", "abc-1", "echo <&>", []string{"x y"}, params).String()
	theirs := capturedRequests(t, "test_winrs_standard.yml")[1]
	tests := []struct {
		name, body string
		want       request
	}{
		{"masterzen", ours, request{Action: actionCommand, To: "http://h:5985/wsman", ResourceURI: resourceCmd,
			OperationTimeout: "PT20S", MaxEnvelopeSize: "153600", ShellID: "ABC-1",
			Options: map[string]string{"WINRS_CONSOLEMODE_STDIN": "TRUE", "WINRS_SKIP_CMD_SHELL": "FALSE"},
			Body:    xmlBody{CommandLine: &xmlCommandLine{Command: "echo <&>", Arguments: []string{"x y"}}}}},
		{"pypsrp", theirs, request{Action: actionCommand, MessageID: "uuid:109656EA-8D8A-46E9-BE22-5AA2199C7A7A",
			To: "http://192.168.56.11:5985/wsman", ResourceURI: resourceCmd, OperationTimeout: "PT20S",
			MaxEnvelopeSize: "153600", ShellID: "4283CBDC-3706-415B-88BD-B385F3E51A53",
			Options: map[string]string{"WINRS_SKIP_CMD_SHELL": "False"},
			Body:    xmlBody{CommandLine: &xmlCommandLine{Command: "cmd.exe", Arguments: []string{"/c", "echo", "hi"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "masterzen" {
				got.MessageID = "" // random
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("parseRequest mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "garbage", "<a><b></a>", `<Envelope xmlns="urn:other"/>`, "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"} {
		if _, err := parseRequest([]byte(bad)); err == nil {
			t.Errorf("parseRequest(%q) succeeded, want an error", bad)
		}
	}
}

// capture is one request/response pair of a recorded pypsrp cassette.
type capture struct{ request, response string }

// readCaptures extracts the pairs from a cassette. The files hold each XML
// document as a one-line plain YAML scalar, so no YAML library is needed.
func readCaptures(t *testing.T, file string) []capture {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "winrm-captures", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []capture
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "- request: "); ok {
			out = append(out, capture{request: v})
		} else if v, ok := strings.CutPrefix(line, "  response: "); ok && len(out) > 0 {
			out[len(out)-1].response = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func capturedRequests(t *testing.T, file string) []string {
	var out []string
	for _, c := range readCaptures(t, file) {
		out = append(out, c.request)
	}
	return out
}

// captured returns the first recorded response to action whose body
// contains marker.
func captured(t *testing.T, file, action, marker string) string {
	t.Helper()
	for _, c := range readCaptures(t, file) {
		if strings.Contains(c.request, ">"+action+"<") && strings.Contains(c.response, marker) {
			return c.response
		}
	}
	t.Fatalf("%s has no response to %s containing %q", file, action, marker)
	return ""
}

// shape lists a document's elements (namespace URI and local name) with
// their attribute names and namespace declarations, ignoring all values
// except the namespaces declared. p:ActivityId, which newer Windows builds
// add to some headers, is left out.
func shape(t *testing.T, doc string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("shape: %v in %s", err, doc)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || (se.Name.Space == nsWSManMS && se.Name.Local == "ActivityId") {
			continue
		}
		var attrs []string
		for _, a := range se.Attr {
			if a.Name.Space == "xmlns" {
				attrs = append(attrs, "xmlns:"+a.Name.Local+"="+a.Value)
			} else {
				attrs = append(attrs, a.Name.Space+" "+a.Name.Local)
			}
		}
		slices.Sort(attrs)
		seen["{"+se.Name.Space+"}"+se.Name.Local+" ["+strings.Join(attrs, ", ")+"]"] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestCapturedShapes ensures the simulator's answers have the shape of real
// Windows answers to the same actions (captures in testdata): the same
// elements, attributes and namespace declarations, values aside.
func TestCapturedShapes(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	// hold writes what Write-Host "hi" writes in the captured Receive that
	// is still Running (its text, then its newline), then waits.
	s.Handle("hold", func(ctx context.Context, c *Cmd) int {
		_, _ = io.WriteString(c.Stdout, "hi")
		_, _ = io.WriteString(c.Stdout, "\n")
		<-ctx.Done()
		return 0
	})
	r := newRaw(t, s, "HOST-0001")
	shellID, createBody := r.create()
	// The captured command of test_winrs_standard.yml, so the output can be
	// compared byte for byte.
	cmdID, commandBody := r.command(shellID, "cmd.exe /c echo hi")
	r.waitDone(shellID, cmdID)
	_, doneBody := r.receive(shellID, cmdID)
	holdID, _ := r.command(shellID, "hold")
	_, runningBody := r.receive(shellID, holdID)
	_, timedOutBody := r.receive(shellID, holdID)
	sendBody := r.mustOK(winrm.NewSendInputRequest(r.url, shellID, holdID, []byte("x"), true, r.params).String())
	signalBody := r.mustOK(winrm.NewSignalRequest(r.url, shellID, holdID, r.params).String())
	_, badCmdBody := r.receive(shellID, "87E77BEB-6761-4C48-9D70-A00266B8459A")
	deleteBody := r.mustOK(winrm.NewDeleteShellRequest(r.url, shellID, r.params).String())
	_, badShellBody := r.receive(shellID, cmdID)

	tests := []struct {
		name, file, action, marker, got string
	}{
		{"Create", "test_winrs_standard.yml", actionCreate, "CreateResponse", createBody},
		{"Command", "test_winrs_standard.yml", actionCommand, "CommandResponse", commandBody},
		{"Receive done", "test_winrs_standard.yml", actionReceive, "CommandState/Done", doneBody},
		{"Receive running", "test_winrs_operation_timeout.yml", actionReceive, "CommandState/Running", runningBody},
		{"Send", "test_winrs_send.yml", actionSend, "SendResponse", sendBody},
		{"Signal", "test_winrs_standard.yml", actionSignal, "SignalResponse", signalBody},
		{"Delete", "test_winrs_standard.yml", actionDelete, "DeleteResponse", deleteBody},
		{"fault TimedOut", "test_winrs_operation_timeout.yml", actionReceive, "w:TimedOut", timedOutBody},
		{"fault unknown command", "test_winrs_bad_cmd_id.yml", actionReceive, "w:InvalidSelectors", badCmdBody},
		{"fault unknown shell", "test_psrp_is_alive_invalid_selectors.yml", "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", "w:InvalidSelectors", badShellBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capturedBody := captured(t, tt.file, tt.action, tt.marker)
			if diff := cmp.Diff(shape(t, capturedBody), shape(t, tt.got)); diff != "" {
				t.Errorf("shape differs from Windows (-captured +sim):\n%s\nsim answer: %s", diff, tt.got)
			}
			if diff := cmp.Diff(outline(t, capturedBody), outline(t, tt.got)); diff != "" {
				t.Errorf("elements, order or values differ from Windows (-captured +sim):\n%s\nsim answer: %s", diff, tt.got)
			}
		})
	}
}

// variable are the elements and attributes whose values differ between any
// two answers (ids, addresses, the account and machine): outline masks them.
var variable = map[string]bool{"MessageID": true, "RelatesTo": true, "Selector": true, "ShellId": true,
	"CommandId": true, "Address": true, "Owner": true, "ClientIP": true, "Machine": true}

// outline lists a document's elements in order, each with its attributes
// and their values and its own text, ids and addresses masked as "*". It
// holds the sim to what a client acts on: element order and counts,
// CommandState URIs, exit codes, stream names, End flags, stream content,
// fault subcodes, codes and texts. p:ActivityId is left out as in shape.
func outline(t *testing.T, doc string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var out []string
	var open []int // index in out of each open element
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("outline: %v in %s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Space == nsWSManMS && tok.Name.Local == "ActivityId" {
				_ = dec.Skip()
				continue
			}
			var attrs []string
			for _, a := range tok.Attr {
				v := a.Value
				if variable[a.Name.Local] {
					v = "*"
				}
				attrs = append(attrs, a.Name.Local+"="+v)
			}
			slices.Sort(attrs)
			out = append(out, strings.Repeat(" ", len(open))+tok.Name.Local+" ["+strings.Join(attrs, " ")+"]")
			open = append(open, len(out)-1)
		case xml.CharData:
			text := strings.TrimSpace(string(tok))
			if text == "" || len(open) == 0 {
				continue
			}
			i := open[len(open)-1]
			if name := strings.TrimSpace(strings.SplitN(out[i], " [", 2)[0]); variable[name] {
				text = "*"
			}
			out[i] += " " + text
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
	return out
}

// FuzzParseRequest ensures no input makes the envelope parser panic.
func FuzzParseRequest(f *testing.F) {
	for _, c := range []string{"", "<", "<s:Envelope xmlns:s=\"" + nsSOAP + "\"><s:Header/><s:Body/></s:Envelope>"} {
		f.Add([]byte(c))
	}
	params := winrm.NewParameters("PT5S", "en-US", 153600)
	f.Add([]byte(winrm.NewSendInputRequest("http://h/wsman", "S", "C", []byte("x"), true, params).String()))
	f.Add([]byte(winrm.NewSignalRequest("http://h/wsman", "S", "C", params).String()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := parseRequest(b); err == nil {
			_ = r.maxEnvelope()
			_, _ = parseDuration(r.OperationTimeout)
		}
	})
}
