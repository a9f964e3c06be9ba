package sim

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// XML namespaces of WS-Management and WinRS, with the prefixes Windows uses
// in its answers (s, a, x, w, p, rsp, f, e, n).
const (
	nsSOAP     = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr     = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsEventing = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
	nsEnum     = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
	nsWSMan    = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsWSManMS  = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	nsShell    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault    = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// Action URIs, resource URI and WinRS constants a cmd shell speaks.
const (
	actionCreate    = nsTransfer + "/Create"
	actionDelete    = nsTransfer + "/Delete"
	actionCommand   = nsShell + "/Command"
	actionSend      = nsShell + "/Send"
	actionReceive   = nsShell + "/Receive"
	actionSignal    = nsShell + "/Signal"
	actionFault     = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	resourceCmd     = nsShell + "/cmd"
	addrAnonymous   = nsAddr + "/role/anonymous"
	stateRunning    = nsShell + "/CommandState/Running"
	stateDone       = nsShell + "/CommandState/Done"
	signalTerminate = nsShell + "/signal/terminate"
	signalCtrlC     = nsShell + "/signal/ctrl_c"
	signalCtrlBreak = nsShell + "/signal/ctrl_break"
)

// Namespace declarations of the envelope root. Windows declares a different
// set per answer; the captures show which, and the shape test holds us to it.
const (
	declShell = `xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `" xmlns:x="` + nsTransfer +
		`" xmlns:w="` + nsWSMan + `" xmlns:rsp="` + nsShell + `" xmlns:p="` + nsWSManMS + `"`
	declReceive = `xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `" xmlns:w="` + nsWSMan +
		`" xmlns:rsp="` + nsShell + `" xmlns:p="` + nsWSManMS + `"`
	declDelete = `xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `" xmlns:w="` + nsWSMan +
		`" xmlns:p="` + nsWSManMS + `"`
	declFault = `xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `" xmlns:x="` + nsTransfer +
		`" xmlns:e="` + nsEventing + `" xmlns:n="` + nsEnum + `" xmlns:w="` + nsWSMan +
		`" xmlns:p="` + nsWSManMS + `"`
)

// soapContentType is what Windows sends and what masterzen/winrm insists on,
// even for empty Signal and Delete answers.
const soapContentType = "application/soap+xml;charset=UTF-8"

// request is one parsed WS-Management request: the header fields the
// simulator acts on and whichever WinRS body element was present.
type request struct {
	Action           string
	MessageID        string
	To               string
	ResourceURI      string
	OperationTimeout string
	MaxEnvelopeSize  string
	ShellID          string            // the ShellId selector, "" when absent
	Options          map[string]string // OptionSet, by option name
	Body             xmlBody
}

// The xml* types mirror the request envelope. encoding/xml matches on
// namespace URI and local name, so any prefix a client picks works.
type xmlEnvelope struct {
	XMLName xml.Name  `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  xmlHeader `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    xmlBody   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type xmlHeader struct {
	Action           string      `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID        string      `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	To               string      `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
	ResourceURI      string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	OperationTimeout string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	MaxEnvelopeSize  string      `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
	SelectorSet      xmlNamedSet `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	OptionSet        xmlOptions  `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet"`
}

type xmlNamedSet struct {
	Items []xmlNamed `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
}

type xmlOptions struct {
	Items []xmlNamed `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Option"`
}

type xmlNamed struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type xmlBody struct {
	Shell       *struct{}       `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
	CommandLine *xmlCommandLine `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
	Send        *xmlSend        `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	Receive     *xmlReceive     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
	Signal      *xmlSignal      `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
}

type xmlCommandLine struct {
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type xmlSend struct {
	Streams []xmlStream `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type xmlStream struct {
	Name      string `xml:"Name,attr"`
	CommandID string `xml:"CommandId,attr"`
	End       string `xml:"End,attr"`
	Value     string `xml:",chardata"`
}

type xmlReceive struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Value     string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type xmlSignal struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}

// parseRequest decodes a SOAP envelope. Any malformation is an error, never a
// panic; the caller answers it with a SOAP fault. encoding/xml expands no
// external entities, so the only cost of hostile input is its size, which
// the caller has already bounded.
func parseRequest(body []byte) (*request, error) {
	var env xmlEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	h := env.Header
	req := &request{
		Action:           strings.TrimSpace(h.Action),
		MessageID:        strings.TrimSpace(h.MessageID),
		To:               strings.TrimSpace(h.To),
		ResourceURI:      strings.TrimSpace(h.ResourceURI),
		OperationTimeout: strings.TrimSpace(h.OperationTimeout),
		MaxEnvelopeSize:  strings.TrimSpace(h.MaxEnvelopeSize),
		Options:          map[string]string{},
		Body:             env.Body,
	}
	for _, s := range h.SelectorSet.Items {
		if strings.EqualFold(s.Name, "ShellId") {
			req.ShellID = strings.ToUpper(strings.TrimSpace(s.Value))
		}
	}
	for _, o := range h.OptionSet.Items {
		req.Options[strings.ToUpper(o.Name)] = strings.TrimSpace(o.Value)
	}
	return req, nil
}

// option reports whether a boolean WinRS option is set to TRUE (any case).
func (r *request) option(name string) bool {
	return strings.EqualFold(r.Options[name], "true")
}

// maxEnvelope is the request's MaxEnvelopeSize, bounded by the server's own
// limit (MaxEnvelopeSizekb 500 on current Windows).
func (r *request) maxEnvelope() int {
	n, err := strconv.Atoi(r.MaxEnvelopeSize)
	if err != nil || n <= 0 || n > maxBodyBytes {
		return maxBodyBytes
	}
	return max(n, 8192)
}

// errBadDuration reports an xs:duration the simulator cannot read.
var errBadDuration = errors.New("invalid duration")

// parseDuration reads the xs:duration forms WS-Management clients send:
// "PT60S", "PT20.5S", "PT1M", "P0DT0H0M20S". Negative and empty values are
// errors, as Windows rejects them.
func parseDuration(s string) (time.Duration, error) {
	if !strings.HasPrefix(s, "P") || len(s) < 3 || len(s) > 64 {
		return 0, errBadDuration
	}
	var d time.Duration
	inTime := false
	num := -1 // start of the pending number in s
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'T':
			if inTime || num >= 0 {
				return 0, errBadDuration
			}
			inTime = true
		case c >= '0' && c <= '9' || c == '.':
			if num < 0 {
				num = i
			}
		default:
			if num < 0 {
				return 0, errBadDuration
			}
			v, err := strconv.ParseFloat(s[num:i], 64)
			if err != nil || v > 1e7 {
				return 0, errBadDuration
			}
			num = -1
			var unit time.Duration
			switch {
			case c == 'D' && !inTime:
				unit = 24 * time.Hour
			case c == 'H' && inTime:
				unit = time.Hour
			case c == 'M' && inTime:
				unit = time.Minute
			case c == 'S' && inTime:
				unit = time.Second
			default:
				return 0, errBadDuration
			}
			d += time.Duration(v * float64(unit))
		}
	}
	if num >= 0 {
		return 0, errBadDuration
	}
	return d, nil
}

// newUUID returns a random version 4 UUID in upper case, the form Windows
// uses for MessageID, ShellId and CommandId.
func newUUID() string {
	return strings.ToUpper(uuid.NewString())
}

// esc escapes text for element content and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// envelope renders a complete answer: root with decl, the header Windows
// sends (Action, MessageID, To, RelatesTo) and body as the s:Body content.
func envelope(decl, action, relatesTo, body string) string {
	var b strings.Builder
	b.Grow(len(body) + 900)
	b.WriteString(`<s:Envelope xml:lang="en-US" `)
	b.WriteString(decl)
	b.WriteString(`><s:Header><a:Action>`)
	b.WriteString(action)
	b.WriteString(`</a:Action><a:MessageID>uuid:`)
	b.WriteString(newUUID())
	b.WriteString(`</a:MessageID><a:To>` + addrAnonymous + `</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>`)
		b.WriteString(esc(relatesTo))
		b.WriteString(`</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	return b.String()
}

// writeSOAP sends an envelope with the status and Content-Type Windows uses.
func writeSOAP(w http.ResponseWriter, status int, env string) {
	w.Header().Set("Content-Type", soapContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(env)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, env)
}
