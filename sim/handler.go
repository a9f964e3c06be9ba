package sim

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"wsusfix/remote/sealed"
)

// exchange is one request being answered.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	h       *host
	req     *request
	user    string
	machine string // the host name as the client addressed it, for f:WSManFault Machine
}

func (x *exchange) fault(f *wsmanFault) {
	x.h.ctr.faults.Add(1)
	writeFault(x.w, f, x.machine, x.req.MessageID)
}

func (x *exchange) reply(decl, action, body string) {
	writeSOAP(x.w, http.StatusOK, envelope(decl, action, x.req.MessageID, body))
}

func (x *exchange) clientIP() string {
	ip, _, err := net.SplitHostPort(x.r.RemoteAddr)
	if err != nil {
		return x.r.RemoteAddr
	}
	return ip
}

// ServeHTTP answers one WS-Management request. An unknown Host, or a host
// with FaultUnreachable, gets its connection closed without an answer: the
// nearest a shared listener can come to a name that does not resolve or a
// machine that is down (the dialer refuses such connections outright).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		dropConnection(w)
		return
	}
	defer s.wg.Done()
	machine := hostOnly(r.Host)
	h := s.lookup(machine)
	if h == nil || h.m.Fault() == FaultUnreachable {
		if h != nil {
			h.ctr.dropped.Add(1)
		}
		dropConnection(w)
		return
	}
	w.Header().Set("Server", "Microsoft-HTTPAPI/2.0")
	aw := &answerWriter{ResponseWriter: w}
	defer aw.dropIfSilent()
	w = aw
	if !s.sleep(r.Context(), s.latency(h.m.Fault())) {
		return
	}
	if !strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), "/wsman") {
		emptyStatus(w, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		emptyStatus(w, http.StatusMethodNotAllowed)
		return
	}
	user, ok := s.authenticate(w, r, h)
	if !ok {
		return
	}
	if r.ContentLength == 0 {
		// The last leg of a handshake before encrypted messages carries no
		// body; Windows answers it 200 and empty.
		emptyStatus(w, http.StatusOK)
		return
	}
	if sealed.Is(r.Header.Get("Content-Type")) {
		cs, _ := r.Context().Value(connKey{}).(*connState)
		var sess *ntlmSession
		if cs != nil {
			cs.mu.Lock()
			sess = cs.session
			cs.mu.Unlock()
		}
		if err := openSealed(r, sess); err != nil {
			w.Header().Set("Connection", "close")
			emptyStatus(w, http.StatusBadRequest)
			return
		}
		sw := &sealWriter{w: w, sess: sess}
		defer sw.finish()
		w = sw
	} else if s.opt.RequireEncryption && !s.opt.TLS {
		// AllowUnencrypted=false: plain HTTP carries only sealed messages.
		unauthorized(w, r, h)
		return
	}
	if !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "application/soap+xml") {
		emptyStatus(w, http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return
	}
	if len(body) > maxBodyBytes {
		// Read a bounded rest first: closing on unread data resets the
		// connection, and the client would never see the 413.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 16<<20))
		w.Header().Set("Connection", "close")
		emptyStatus(w, http.StatusRequestEntityTooLarge)
		return
	}
	x := &exchange{w: w, r: r, h: h, req: &request{}, user: user, machine: machine}
	req, err := parseRequest(body)
	if err != nil {
		h.ctr.requests[actionIndex("")].Add(1)
		x.fault(faultInvalidXML())
		return
	}
	x.req = req
	h.ctr.requests[actionIndex(req.Action)].Add(1)
	s.dispatch(x)
}

// dispatch checks what every WinRS request needs, then runs its action.
func (s *Server) dispatch(x *exchange) {
	switch x.req.Action {
	case actionCreate, actionCommand, actionSend, actionReceive, actionSignal, actionDelete:
	default:
		x.fault(faultActionNotSupported(x.req.Action))
		return
	}
	if !strings.EqualFold(x.req.ResourceURI, resourceCmd) {
		x.fault(faultResourceNotFound())
		return
	}
	wait := s.opt.MaxOperationTimeout
	if t := x.req.OperationTimeout; t != "" {
		d, err := parseDuration(t)
		if err != nil {
			x.fault(faultInvalidTimeout(truncate(t, 64)))
			return
		}
		wait = min(d, wait)
	}
	switch x.req.Action {
	case actionCreate:
		s.create(x)
	case actionCommand:
		s.command(x)
	case actionSend:
		s.send(x)
	case actionReceive:
		s.receive(x, wait)
	case actionSignal:
		s.signal(x)
	case actionDelete:
		s.deleteShell(x)
	}
}

// emptyStatus answers with a status and no body, as HTTP.sys does.
func emptyStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// hostOnly strips the port from a Host header.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// normalizeName reduces a host name as a client may write it to the key
// hosts are filed under.
func normalizeName(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// truncate shortens what a fault echoes back from a hostile request.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// answerWriter notes whether a handler answered at all. One that returns
// without a word (the client left, the server is closing) would otherwise
// send net/http's implicit empty 200, which no WinRM host sends and which
// the client library cannot parse; the connection is dropped instead.
type answerWriter struct {
	http.ResponseWriter
	answered bool
}

// WriteHeader records the answer.
func (a *answerWriter) WriteHeader(status int) {
	a.answered = true
	a.ResponseWriter.WriteHeader(status)
}

// Write records the answer.
func (a *answerWriter) Write(p []byte) (int, error) {
	a.answered = true
	return a.ResponseWriter.Write(p)
}

// Hijack counts as an answer: the connection is the handler's now.
func (a *answerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	a.answered = true
	hj, ok := a.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("sim: connection cannot be hijacked")
	}
	return hj.Hijack()
}

// dropIfSilent drops the connection when nothing was answered.
func (a *answerWriter) dropIfSilent() {
	if !a.answered {
		dropConnection(a.ResponseWriter)
	}
}
