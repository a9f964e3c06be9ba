package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/masterzen/winrm"
)

// cleanupTimeout bounds Signal and Delete after a step, on a context of
// their own, so a cancelled run still leaves no shell behind.
const cleanupTimeout = 10 * time.Second

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
type Session struct {
	target Target
	tr     *transport
	shell  *winrm.Shell
}

// Open creates the remote shell, bounded by ctx (the library's CreateShell
// takes no context; our transport carries it).
func (c *Client) Open(ctx context.Context, t Target) (*Session, error) {
	tr := newTransport(c.cfg, t)
	tr.setContext(ctx)
	ep := &winrm.Endpoint{Host: t.Name, Port: c.cfg.Port, HTTPS: c.cfg.HTTPS, Insecure: c.cfg.Insecure,
		TLSServerName: t.Name, Timeout: c.cfg.OperationTimeout + 15*time.Second}
	// A fresh Parameters per client: winrm.DefaultParameters is a shared global.
	params := winrm.NewParameters(isoDuration(c.cfg.OperationTimeout), "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter { return tr }
	wc, err := winrm.NewClientWithParameters(ep, c.cfg.User, string(c.cfg.Password), params)
	if err != nil {
		return nil, &Error{Host: t.Name, Kind: ErrFault, Help: "invalid WinRM endpoint settings", Err: err}
	}
	shell, err := wc.CreateShell()
	if err != nil {
		return nil, hostError(ctx, t.Name, err)
	}
	return &Session{target: t, tr: tr, shell: shell}, nil
}

// Run runs one command line in the session's shell, writing stdin to it
// and copying its output to stdout and stderr. stdout and stderr may be the
// same writer: they are written under one lock, as the library copies the
// two streams on separate goroutines. A cancelled or expired ctx ends the
// command (Signal terminate on a fresh short context) and returns ctx's
// error; the exit code is only meaningful when err is nil.
func (s *Session) Run(ctx context.Context, cmdline string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	s.tr.setContext(ctx)
	cmd, err := s.shell.ExecuteWithContext(ctx, cmdline)
	if err != nil {
		return -1, hostError(ctx, s.target.Name, err)
	}
	var mu sync.Mutex
	out, errOut := &lockedWriter{mu: &mu, w: stdout}, &lockedWriter{mu: &mu, w: stderr}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		if len(stdin) > 0 {
			_, _ = cmd.Stdin.Write(stdin)
		}
		_ = cmd.Stdin.Close()
	}()
	go func() { defer wg.Done(); _, _ = io.Copy(out, cmd.Stdout) }()
	go func() { defer wg.Done(); _, _ = io.Copy(errOut, cmd.Stderr) }()
	cmd.Wait()
	wg.Wait()
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		s.tr.setContext(cctx)
		_ = cmd.Close() // Signal terminate: the remote process must not run on
		return -1, ctx.Err()
	}
	if err := cmd.Error(); err != nil {
		return -1, hostError(ctx, s.target.Name, err)
	}
	return cmd.ExitCode(), nil
}

// Close deletes the remote shell on a fresh short context, whatever state
// the run's context is in.
func (s *Session) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	s.tr.setContext(ctx)
	err := s.shell.Close()
	// The session's connections die with it: an idle TLS connection per
	// finished run would otherwise stay open (and its buffers alive) until
	// the idle timeout, so memory would grow with the number of hosts.
	s.tr.client.CloseIdleConnections()
	if err != nil {
		return hostError(ctx, s.target.Name, err)
	}
	return nil
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

// lockedWriter serialises writes from several goroutines to one sink.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

// Write passes p on to the sink under the shared lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// isoDuration formats d as an xs:duration such as PT20.000S.
func isoDuration(d time.Duration) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "PT%.3fS", d.Seconds())
	return b.String()
}
