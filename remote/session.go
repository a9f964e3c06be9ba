package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// cleanupTimeout bounds Signal and Delete after a step, on a context of
// their own, so a cancelled run still leaves no shell behind.
const cleanupTimeout = 10 * time.Second

// envelopeSize is the MaxEnvelopeSize we ask for and the size we keep our
// own requests under: 150 KiB, the MaxEnvelopeSizekb of WinRM 2.0 (Windows
// 7 and Server 2008 R2); later versions allow 500 KiB.
const envelopeSize = 153600

// Client opens sessions to hosts. It is safe for concurrent use and holds
// no connection itself.
type Client struct {
	cfg Config
}

// NewClient checks cfg and returns a client for it.
func NewClient(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("remote: WinRM settings: %w", err)
	}
	return &Client{cfg: cfg}, nil
}

// Session is one remote shell on one host, reused by every step of a run
// so a repair costs few round trips. Not safe for concurrent Runs.
//
// The shell and its commands are driven here, message by message, rather
// than through the library's Command: it sends stdin in console mode, polls
// Receive again only on error text, and leaves the command's resources on
// the host after Done. The library still builds the messages and the
// transport carries them.
type Session struct {
	target  Target
	tr      *transport
	params  *winrm.Parameters
	shellID string
}

// Open creates the remote shell, bounded by ctx.
func (c *Client) Open(ctx context.Context, t Target) (*Session, error) {
	tr := newTransport(c.cfg, t)
	tr.setContext(ctx)
	ep := &winrm.Endpoint{Host: t.Name, Port: c.cfg.Port, HTTPS: c.cfg.HTTPS, Insecure: c.cfg.Insecure,
		TLSServerName: t.Name, Timeout: c.cfg.OperationTimeout + 15*time.Second}
	if err := tr.Transport(ep); err != nil {
		return nil, &Error{Host: t.Name, Kind: ErrFault, Help: "invalid WinRM endpoint settings", Err: err}
	}
	// A fresh Parameters per session: winrm.DefaultParameters is a shared global.
	s := &Session{target: t, tr: tr, params: winrm.NewParameters(isoDuration(c.cfg.OperationTimeout), "en-US", envelopeSize)}
	resp, err := s.post(winrm.NewOpenShellRequest(tr.url, s.params))
	if err != nil {
		return nil, hostError(ctx, t.Name, err)
	}
	if s.shellID, err = winrm.ParseOpenShellResponse(resp); err != nil || s.shellID == "" {
		return nil, &Error{Host: t.Name, Kind: ErrFault, Help: "the host's answer to Create held no shell id", Err: err}
	}
	return s, nil
}

// post sends one message on the transport and frees it.
func (s *Session) post(msg *soap.SoapMessage) (string, error) {
	defer msg.Free()
	return s.tr.Post(nil, msg)
}

// Run runs one command line in the session's shell, copying its output to
// stdout and stderr in the order the host sent it.
//
// A nil stdin means the command reads none. Otherwise the command gets a
// pipe, stdin is sent whole before its output is read (End on the last
// chunk, as the captured Windows client does), and a failed Send fails the
// run with ErrStdin. The command is then terminated (Signal terminate) once
// it is Done, so the host frees it before the next command, as pywinrm,
// pypsrp and the library's own Run do.
//
// A cancelled or expired ctx ends the command (Signal terminate on a fresh
// short context) and returns ctx's error; the exit code is only meaningful
// when err is nil.
func (s *Session) Run(ctx context.Context, cmdline string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	s.tr.setContext(ctx)
	id, err := s.command(cmdline, stdin != nil)
	if err != nil {
		return -1, hostError(ctx, s.target.Name, err)
	}
	// From here the command exists on the host: terminate it whatever
	// happens, on a context of its own so a cancel still reaches the host.
	defer s.terminate(ctx, id)
	if stdin != nil {
		if err := s.send(id, stdin); err != nil {
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			return -1, stdinError(s.target.Name, err)
		}
	}
	code, err := s.receive(ctx, id, stdout, stderr)
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	if err != nil {
		return -1, hostError(ctx, s.target.Name, err)
	}
	return code, nil
}

// command starts cmdline and returns its CommandId. With stdin piped it
// sets WINRS_CONSOLEMODE_STDIN=FALSE: Ansible's winrm connection does so
// whenever it pipes stdin (console_mode_stdin=False in _winrm_exec), and
// powershell.exe does not read redirected input from a console-mode stdin
// (WinRb/WinRM#99), so a step's payload would never reach $input.
// WINRS_SKIP_CMD_SHELL=FALSE keeps cmd.exe in between, as the library does.
func (s *Session) command(cmdline string, pipeStdin bool) (string, error) {
	consoleMode := "TRUE"
	if pipeStdin {
		consoleMode = "FALSE"
	}
	msg := soap.NewMessage()
	s.header(msg, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command").
		AddOption(soap.NewHeaderOption("WINRS_CONSOLEMODE_STDIN", consoleMode)).
		AddOption(soap.NewHeaderOption("WINRS_SKIP_CMD_SHELL", "FALSE")).
		Build()
	body := msg.CreateBodyElement("CommandLine", soap.DOM_NS_WIN_SHELL)
	msg.CreateElement(body, "Command", soap.DOM_NS_WIN_SHELL).SetContent(cdata(cmdline))
	resp, err := s.post(msg)
	if err != nil {
		return "", err
	}
	id, err := winrm.ParseExecuteCommandResponse(resp)
	if err != nil || id == "" {
		return "", &Error{Host: s.target.Name, Kind: ErrFault, Help: "the host's answer to Command held no command id", Err: err}
	}
	return id, nil
}

// header starts a message for the shell with the headers every WinRS
// request carries.
func (s *Session) header(msg *soap.SoapMessage, action string) *soap.SoapHeader {
	return msg.Header().
		To(s.tr.url).
		ReplyTo("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous").
		MaxEnvelopeSize(s.params.EnvelopeSize).
		Id(messageID()).
		Locale(s.params.Locale).
		Timeout(s.params.Timeout).
		Action(action).
		ResourceURI("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd").
		ShellId(s.shellID)
}

// send delivers stdin in chunks that keep each Send inside the envelope,
// End="true" on the last one; an empty stdin is one empty Send with End.
func (s *Session) send(id string, stdin []byte) error {
	n := stdinChunk(s.params.EnvelopeSize)
	for first := true; first || len(stdin) > 0; first = false {
		chunk := stdin[:min(n, len(stdin))]
		stdin = stdin[len(chunk):]
		if _, err := s.post(winrm.NewSendInputRequest(s.tr.url, s.shellID, id, chunk, len(stdin) == 0, s.params)); err != nil {
			return err
		}
	}
	return nil
}

// stdinChunk is the most raw stdin one Send can carry within envelope:
// base64 grows it by a third, and the SOAP headers take about 2 KB.
func stdinChunk(envelope int) int {
	const overhead = 4096
	return max((envelope-overhead)/4*3, 1024)
}

// receive polls the command's output until it is Done. A w:TimedOut fault
// is the host saying "nothing yet" (MS-WSMV 3.1.4.14) and is polled again,
// recognised by its fault code; any other failure ends the command.
func (s *Session) receive(ctx context.Context, id string, stdout, stderr io.Writer) (int, error) {
	for ctx.Err() == nil {
		resp, err := s.post(winrm.NewGetOutputRequest(s.tr.url, s.shellID, id, "stdout stderr", s.params))
		if isOperationTimeout(err) {
			continue
		}
		if err != nil {
			return -1, err
		}
		r, err := parseReceive(resp, id)
		if err != nil {
			return -1, &Error{Host: s.target.Name, Kind: ErrFault, Help: "the host's answer to Receive could not be read", Err: err}
		}
		for _, st := range r.streams {
			w := stdout
			if st.name == Stderr {
				w = stderr
			}
			if _, err := w.Write(st.data); err != nil {
				return -1, err
			}
		}
		if r.done {
			return r.exit, nil
		}
	}
	return -1, ctx.Err()
}

// terminate sends Signal terminate for a command, on a fresh short context
// whatever state ctx is in. Its failure is not the step's: the command has
// ended, or the shell is deleted next, which frees it anyway.
func (s *Session) terminate(ctx context.Context, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	s.tr.setContext(cctx)
	_, _ = s.post(winrm.NewSignalRequest(s.tr.url, s.shellID, id, s.params))
	s.tr.setContext(ctx)
}

// Close deletes the remote shell on a fresh short context, whatever state
// the run's context is in.
func (s *Session) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	s.tr.setContext(ctx)
	_, err := s.post(winrm.NewDeleteShellRequest(s.tr.url, s.shellID, s.params))
	// The session's connections die with it: an idle TLS connection per
	// finished run would otherwise stay open (and its buffers alive) until
	// the idle timeout, so memory would grow with the number of hosts.
	s.tr.client.CloseIdleConnections()
	if err != nil {
		return hostError(ctx, s.target.Name, err)
	}
	return nil
}

// stdinError explains a Send the host did not take.
func stdinError(host string, err error) error {
	e := &Error{Host: host, Kind: ErrStdin, Help: "the host did not take the step's input, so the step did not run as sent", Err: err}
	var cause *Error
	if errors.As(err, &cause) {
		e.Code, e.Fault = cause.Code, cause.Fault
		e.Help += " (" + cause.Kind.Error() + ": " + cause.Help + ")"
	}
	return e
}

// hostError makes sure every failure is an *Error, or ctx's own error.
func hostError(ctx context.Context, host string, err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return &Error{Host: host, Kind: ErrFault, Help: "unexpected reply: " + shortCause(err), Err: err}
}

// cdata wraps text for an element whose content the library writes raw,
// splitting any "]]>" so it cannot end the section early.
func cdata(text string) string {
	return "<![CDATA[" + strings.ReplaceAll(text, "]]>", "]]]]><![CDATA[>") + "]]>"
}

// messageID returns a fresh "uuid:" message id (a random version 4 UUID).
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// isoDuration formats d as an xs:duration such as PT20.000S.
func isoDuration(d time.Duration) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "PT%.3fS", d.Seconds())
	return b.String()
}
