// Package replay is a WinRM endpoint that answers with bytes recorded from
// real Windows servers: the response bodies of the pypsrp cassettes in
// sim/testdata/winrm-captures, served as recorded with only the ids
// substituted (ShellId, CommandId, MessageID, RelatesTo). It lets the
// client and the procedure be tested against answers nobody here wrote,
// beside the simulator, which was written by the same hands as the client.
//
// It understands a request only as far as choosing which recorded answer
// comes next: the action, and the ids to put in. It runs nothing and checks
// no credentials. Safe for concurrent use.
package replay

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Actions, as the last segment of the request's Action URI.
const (
	Create  = "Create"
	Command = "Command"
	Send    = "Send"
	Receive = "Receive"
	Signal  = "Signal"
	Delete  = "Delete"
)

// Cassette is the recorded answers of one capture file, by action. Receive
// holds every recorded answer to a Receive, in order (output, TimedOut
// faults, Done); the others hold the first answer recorded.
type Cassette struct {
	Name    string
	answers map[string][]string
}

// Load reads a pypsrp cassette: YAML whose "- request:" and "  response:"
// lines each hold one XML document on one line.
func Load(path string) (*Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	c := &Cassette{Name: path, answers: map[string][]string{}}
	var action string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if req, ok := strings.CutPrefix(line, "- request: "); ok {
			action = requestAction(req)
		} else if resp, ok := strings.CutPrefix(line, "  response: "); ok && action != "" {
			c.answers[action] = append(c.answers[action], resp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("replay: %s: %w", path, err)
	}
	return c, nil
}

// Answer is the first answer recorded to action, as recorded ("" for none),
// for a test that serves it on its own.
func (c *Cassette) Answer(action string) string {
	if !c.Has(action) {
		return ""
	}
	return c.answers[action][0]
}

// Has reports whether the cassette recorded an answer to action.
func (c *Cassette) Has(action string) bool { return len(c.answers[action]) > 0 }

var reAction = regexp.MustCompile(`<(?:\w+:)?Action[^>]*>[^<]*/(Create|Command|Send|Receive|Signal|Delete)</(?:\w+:)?Action>`)

// requestAction is the WinRS action a recorded or live request asks for.
func requestAction(req string) string {
	if m := reAction.FindStringSubmatch(req); m != nil {
		return m[1]
	}
	return ""
}

// Request is one request the server received, for tests to inspect.
type Request struct {
	Action string
	Body   string
}

// Server answers each request from the first of its cassettes that
// recorded that action.
type Server struct {
	cassettes []*Cassette

	mu       sync.Mutex
	shellID  string
	commands map[string]int // command id → Receives answered
	requests []Request
}

// New returns a server answering from the cassettes, the first that has an
// answer winning.
func New(cassettes ...*Cassette) *Server {
	return &Server{cassettes: cassettes, commands: map[string]int{}}
}

// Requests returns the requests received so far; the caller owns the slice.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var (
	reMessageID = regexp.MustCompile(`<(?:\w+:)?MessageID[^>]*>([^<]+)</(?:\w+:)?MessageID>`)
	reCommandID = regexp.MustCompile(`CommandId="([^"]*)"`)
	reUUID      = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)
	reRelatesTo = regexp.MustCompile(`(<a:RelatesTo>)[^<]*(</a:RelatesTo>)`)
	reMsgOut    = regexp.MustCompile(`(<a:MessageID>)[^<]*(</a:MessageID>)`)
)

// ServeHTTP answers one SOAP request with its recorded answer: HTTP 500
// for a recorded fault, as Windows sends every fault.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	if _, err := bufio.NewReader(http.MaxBytesReader(w, r.Body, 1<<20)).WriteTo(&b); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req := b.String()
	action := requestAction(req)
	answer, ok := s.answer(action, req)
	if !ok {
		http.Error(w, "no recorded answer to "+action, http.StatusNotImplemented)
		return
	}
	status := http.StatusOK
	if strings.Contains(answer, "<s:Fault>") {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(answer))
}

// answer picks the recorded answer and substitutes the ids.
func (s *Server) answer(action, req string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Action: action, Body: req})
	var recorded []string
	for _, c := range s.cassettes {
		if c.Has(action) {
			recorded = c.answers[action]
			break
		}
	}
	if len(recorded) == 0 {
		return "", false
	}
	resp := recorded[0]
	commandID := ""
	if m := reCommandID.FindStringSubmatch(req); m != nil {
		commandID = m[1]
	}
	switch action {
	case Create:
		s.shellID = newUUID()
	case Command:
		commandID = newUUID()
		s.commands[commandID] = 0
	case Receive:
		// Each command is answered with the recorded sequence from its
		// start; past the end, the last answer repeats (a Done).
		n := s.commands[commandID]
		resp = recorded[min(n, len(recorded)-1)]
		s.commands[commandID] = n + 1
	}
	resp = s.substitute(resp, req, commandID)
	return resp, true
}

// substitute puts this exchange's ids where the recording had its own:
// RelatesTo answers the request's MessageID, the answer gets a fresh
// MessageID, the shell and command ids are ours. Nothing else changes.
func (s *Server) substitute(resp, req, commandID string) string {
	if m := reMessageID.FindStringSubmatch(req); m != nil {
		resp = reRelatesTo.ReplaceAllString(resp, "${1}"+m[1]+"${2}")
	}
	resp = reMsgOut.ReplaceAllString(resp, "${1}uuid:"+newUUID()+"${2}")
	body, rest, found := strings.Cut(resp, "<s:Body>")
	if !found {
		return resp
	}
	// Inside the body, every recorded UUID is a ShellId or a CommandId
	// (the cassettes' faults and streams carry no other).
	rest = reUUID.ReplaceAllStringFunc(rest, func(id string) string {
		if strings.Contains(rest, `Name="ShellId">`+id) || strings.Contains(rest, "<rsp:ShellId>"+id) {
			return s.shellID
		}
		if commandID != "" {
			return commandID
		}
		return id
	})
	return body + "<s:Body>" + rest
}

// newUUID returns a random version 4 UUID in upper case, as Windows writes
// its ids.
func newUUID() string {
	return strings.ToUpper(uuid.NewString())
}
