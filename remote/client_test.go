package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/sim"
	"wsusfix/store/secret"
)

const testPassword = remotetest.Password

// fleet and memSink are remotetest's fleet and recording sink.
type (
	fleet   = remotetest.Fleet
	memSink = remotetest.Sink
)

func newFleet(t *testing.T, n int) *fleet { t.Helper(); return remotetest.NewFleet(t, n) }

func newFleetWith(t *testing.T, n int, mod func(*sim.Fleet, *sim.Options)) *fleet {
	t.Helper()
	return remotetest.NewFleetWith(t, n, mod)
}

// collect gathers output lines per stream, safely from any goroutine.
type collect struct {
	mu    sync.Mutex
	lines map[string][]string
}

func newCollect() (*collect, *remote.Lines) {
	c := &collect{lines: map[string][]string{}}
	return c, remote.NewLines(func(stream, line string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.lines[stream] = append(c.lines[stream], line)
	})
}

func (c *collect) get(stream string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines[stream]...)
}

func runCommand(t *testing.T, s *remote.Session, ctx context.Context, cmdline string, stdin []byte) (*collect, int, error) {
	t.Helper()
	c, l := newCollect()
	code, err := s.Run(ctx, cmdline, stdin, l.Writer(remote.Stdout), l.Writer(remote.Stderr))
	l.Flush()
	return c, code, err
}

// TestSession_Commands ensures commands run in one shell with their stdout,
// stderr and exit codes as Windows gives them, and that the shell is
// deleted at the end.
func TestSession_Commands(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 3)
	ctx := t.Context()
	name := f.Host(1)
	s, err := f.Client(t, nil).Open(ctx, remote.Target{Name: strings.ToLower(name)})
	if err != nil {
		t.Fatal(err)
	}
	out, code, err := runCommand(t, s, ctx, "hostname", nil)
	if err != nil || code != 0 || len(out.get(remote.Stdout)) != 1 || out.get(remote.Stdout)[0] != name {
		t.Fatalf("hostname = %v, %d, %v", out.get(remote.Stdout), code, err)
	}
	out, code, err = runCommand(t, s, ctx, "nosuchtool /x", nil)
	if err != nil || code != 1 || !strings.Contains(strings.Join(out.get(remote.Stderr), " "), "'nosuchtool' is not recognized") {
		t.Fatalf("unknown command = %v, %d, %v", out.get(remote.Stderr), code, err)
	}
	if c := f.Srv.Counters(name); c.ShellsCreated != 1 {
		t.Fatalf("%d shells created for two commands, want 1 reused", c.ShellsCreated)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if c := f.Srv.Counters(name); c.ShellsOpen != 0 {
		t.Fatalf("%d shells still open after Close", c.ShellsOpen)
	}
}

// TestSession_StdinAndLongOutput ensures stdin reaches the command and that
// output spread over many Receives arrives whole and in order.
func TestSession_StdinAndLongOutput(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2)
	f.Srv.Handle("echo-stdin", func(ctx context.Context, c *sim.Cmd) int {
		b, _ := io.ReadAll(c.Stdin)
		fmt.Fprintf(c.Stdout, "got %d bytes\r\n", len(b))
		for i := range 50 {
			fmt.Fprintf(c.Stdout, "line %03d\r\n", i)
			if i%10 == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		return 7
	})
	ctx := t.Context()
	s, err := f.Client(t, nil).Open(ctx, remote.Target{Name: f.Host(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	payload := []byte(strings.Repeat("x", 100_000))
	out, code, err := runCommand(t, s, ctx, "echo-stdin", payload)
	if err != nil || code != 7 {
		t.Fatalf("exit %d, %v", code, err)
	}
	lines := out.get(remote.Stdout)
	if len(lines) != 51 || lines[0] != "got 100000 bytes" || lines[50] != "line 049" {
		t.Fatalf("got %d lines: first %q last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if c := f.Srv.Counters(f.Host(0)); c.Requests["Receive"] < 2 {
		t.Fatalf("output came in %d Receives, want several", c.Requests["Receive"])
	}
}

// TestSession_Faults ensures every fault of the simulator's catalogue that
// concerns the connection surfaces as the typed error a helpdesk can act on.
func TestSession_Faults(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 8)
	tests := []struct {
		fault    sim.Fault
		want     error
		wantHelp string
	}{
		{sim.FaultUnreachable, remote.ErrUnreachable, "or use -winrm-https=false with NTLM"},
		{sim.FaultAuthRefused, remote.ErrAuth, "offers Negotiate, Basic"},
		{sim.FaultAccessDenied, remote.ErrAccessDenied, "administrator"},
		{sim.FaultQuota, remote.ErrQuota, "too many open remote shells"},
	}
	for i, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			name := f.Host(i)
			f.Srv.SetFault(name, tt.fault)
			_, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: name})
			var re *remote.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &re) || !strings.Contains(re.Help, tt.wantHelp) {
				t.Fatalf("got %v, want %v with help containing %q", err, tt.want, tt.wantHelp)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Fatal("error text holds the password")
			}
		})
	}
}

// TestSession_ReceiveTimeoutsArePolledAgain ensures TimedOut answers are
// normal: the command still completes with its output.
func TestSession_ReceiveTimeoutsArePolledAgain(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2)
	name := f.Host(0)
	f.Srv.SetFault(name, sim.FaultReceiveTimeout)
	ctx := t.Context()
	s, err := f.Client(t, nil).Open(ctx, remote.Target{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, code, err := runCommand(t, s, ctx, "hostname", nil)
	if err != nil || code != 0 || len(out.get(remote.Stdout)) != 1 {
		t.Fatalf("hostname after timeouts = %v, %d, %v", out.get(remote.Stdout), code, err)
	}
}

// TestSession_DropAndDeadline ensures a host that drops the connection
// fails the command with a reason, and a slow host ends within the step's
// deadline instead of hanging.
func TestSession_DropAndDeadline(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 3)
	drop := f.Host(0)
	ctx := t.Context()
	s, err := f.Client(t, nil).Open(ctx, remote.Target{Name: drop})
	if err != nil {
		t.Fatal(err)
	}
	f.Srv.SetFault(drop, sim.FaultDropConnection)
	_, _, err = runCommand(t, s, ctx, "hostname", nil)
	if !errors.Is(err, remote.ErrUnreachable) && !errors.Is(err, remote.ErrFault) {
		t.Fatalf("dropped connection: got %v, want a typed error", err)
	}
	s.Close()

	slow := f.Host(1)
	f.Srv.Handle("sleepy", func(ctx context.Context, c *sim.Cmd) int {
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
		return 0
	})
	s, err = f.Client(t, nil).Open(ctx, remote.Target{Name: slow})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	_, _, err = runCommand(t, s, dctx, "sleepy", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("step took %v past a 700ms deadline", took)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close after deadline: %v", err)
	}
	if c := f.Srv.Counters(slow); c.ShellsOpen != 0 || c.Requests["Signal"] == 0 {
		t.Fatalf("after a deadline: %d shells open, %d Signals; want 0 and the command terminated", c.ShellsOpen, c.Requests["Signal"])
	}
}

// TestClient_TLS ensures the certificate is verified against the CA given,
// and an untrusted one is a clear TLS error.
func TestClient_TLS(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	other := newFleet(t, 1)
	_, err := f.Client(t, func(c *remote.Config) { c.CAPEM = other.Srv.CACertPEM() }).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if !errors.Is(err, remote.ErrTLS) {
		t.Fatalf("wrong CA: got %v, want ErrTLS", err)
	}
	s, err := f.Client(t, func(c *remote.Config) { c.CAPEM = nil; c.Insecure = true }).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if err != nil {
		t.Fatalf("insecure: %v", err)
	}
	s.Close()
}

// TestClient_WrongPassword ensures a refused password names the methods
// the host offers and never echoes the password.
func TestClient_WrongPassword(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	_, err := f.Client(t, func(c *remote.Config) { c.Password = "wrong-password-123" }).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if !errors.Is(err, remote.ErrAuth) || strings.Contains(err.Error(), "wrong-password-123") {
		t.Fatalf("got %v", err)
	}
}

// TestConfig_Validate ensures unsafe or incomplete settings are refused
// with a reason naming the flag to fix.
func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  remote.Config
		want string
	}{
		{"basic over http", remote.Config{Auth: remote.AuthBasic, User: "u", Password: "p"}, "clear text"},
		{"no password", remote.Config{HTTPS: true, Auth: remote.AuthBasic, User: "u"}, "WSUSFIX_WINRM_PASSWORD"},
		{"no user", remote.Config{HTTPS: true, Auth: remote.AuthNTLM, Password: "p"}, "-winrm-user"},
		{"bad auth", remote.Config{HTTPS: true, Auth: "digest", User: "u", Password: "p"}, "want one of ntlm, basic, kerberos"},
		{"kerberos over http", remote.Config{Auth: remote.AuthKerberos, User: "u@EXAMPLE.TEST", Password: "p", Krb5Conf: []byte(testKrb5Conf)},
			"Kerberos message encryption, which this version does not implement: use HTTPS (-winrm-https) or NTLM"},
		{"kerberos without krb5.conf", remote.Config{HTTPS: true, Auth: remote.AuthKerberos, User: "u@EXAMPLE.TEST", Password: "p"}, "-winrm-krb5-conf"},
		{"kerberos user without realm", remote.Config{HTTPS: true, Auth: remote.AuthKerberos, User: `CORP\u`, Password: "p",
			Krb5Conf: []byte("[realms]\n EXAMPLE.TEST = {\n  kdc = 127.0.0.1:88\n }\n")}, "write the user as name@REALM"},
		{"kerberos realm without KDC", remote.Config{HTTPS: true, Auth: remote.AuthKerberos, User: "u@OTHER.TEST", Password: "p",
			Krb5Conf: []byte(testKrb5Conf)}, "lists no KDC for realm OTHER.TEST"},
		{"insecure with CA", remote.Config{HTTPS: true, Auth: remote.AuthBasic, User: "u", Password: "p", Insecure: true, CAPEM: []byte("x")}, "contradict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if err := (remote.Config{Auth: remote.AuthNTLM, User: `CORP\u`, Password: "p"}).Validate(); err != nil {
		t.Errorf("NTLM over plain HTTP (sealed) refused: %v", err)
	}
	if s := fmt.Sprintf("%v %s", secret.Secret("pw"), secret.Secret("pw")); strings.Contains(s, "pw") {
		t.Fatalf("secret printed: %s", s)
	}
}
