package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/scripts"
	"wsusfix/sim"
)

// TestSession_StdinMode ensures a command given stdin reads it from a pipe
// (WINRS_CONSOLEMODE_STDIN=FALSE, as Ansible sends whenever it pipes stdin)
// and one given none keeps the console, as the library's default.
func TestSession_StdinMode(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	f.Srv.Handle("stdin-mode", func(_ context.Context, c *sim.Cmd) int {
		mode := "pipe"
		if c.ConsoleModeStdin {
			mode = "console"
		}
		fmt.Fprintf(c.Stdout, "%s\r\n", mode)
		return 0
	})
	s, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range []struct {
		stdin []byte
		want  string
	}{{[]byte("x"), "pipe"}, {[]byte{}, "pipe"}, {nil, "console"}} {
		out, code, err := runCommand(t, s, t.Context(), "stdin-mode", tt.stdin)
		if err != nil || code != 0 || strings.Join(out.get(remote.Stdout), ",") != tt.want {
			t.Errorf("stdin %q: %v, %d, %v; want %s", tt.stdin, out.get(remote.Stdout), code, err, tt.want)
		}
	}
}

// TestSession_StdinChunks ensures stdin larger than one envelope goes in
// Sends that each fit WinRM 2.0's 150 KB envelope, the end of input on the
// last, and a step payload in a single Send.
func TestSession_StdinChunks(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2)
	f.Srv.Handle("count-stdin", func(_ context.Context, c *sim.Cmd) int {
		b, err := io.ReadAll(c.Stdin)
		if err != nil {
			return 1
		}
		fmt.Fprintf(c.Stdout, "%d\r\n", len(b))
		return 0
	})
	payload, err := scripts.Payload(scripts.Preflight, scripts.PreflightParams{MinFreeGB: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		size, sends int
	}{{300_000, 3}, {len(payload), 1}, {0, 1}} {
		name := f.Host(0)
		s, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		before := f.Srv.Counters(name).Requests[sim.ActionSend]
		out, code, err := runCommand(t, s, t.Context(), "count-stdin", make([]byte, tt.size))
		s.Close()
		if err != nil || code != 0 || strings.Join(out.get(remote.Stdout), "") != fmt.Sprint(tt.size) {
			t.Fatalf("%d bytes: %v, %d, %v", tt.size, out.get(remote.Stdout), code, err)
		}
		if n := f.Srv.Counters(name).Requests[sim.ActionSend] - before; n != int64(tt.sends) {
			t.Errorf("%d bytes went in %d Sends, want %d", tt.size, n, tt.sends)
		}
	}
}

// TestSession_LinesAcrossReceives ensures a result line the host writes in
// pieces, spread over several rsp:Stream elements and Receives, reaches the
// procedure whole.
func TestSession_LinesAcrossReceives(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	line := `WSUSFIX {"kind":"result","step":"preflight","status":"ok","reason":"","message":"all pieces"}`
	f.Srv.Handle("pieces", func(ctx context.Context, c *sim.Cmd) int {
		// Each piece waits for a Receive of its own to be asking, so the
		// pieces travel in separate answers however loaded the machine is.
		for i, part := range []string{line[:9], line[9:40], line[40:], "\r", "\n", "tail without newline"} {
			for f.Srv.Counters(c.Machine.Name()).Requests[sim.ActionReceive] < int64(i+1) {
				select {
				case <-time.After(5 * time.Millisecond):
				case <-ctx.Done():
					return 1
				}
			}
			_, _ = io.WriteString(c.Stdout, part)
		}
		return 0
	})
	s, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, code, err := runCommand(t, s, t.Context(), "pieces", nil)
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	got := out.get(remote.Stdout)
	if len(got) != 2 || got[0] != line || got[1] != "tail without newline" {
		t.Fatalf("lines %q", got)
	}
	if l, ok := scripts.ParseLine(got[0]); !ok || l.Step != scripts.Preflight {
		t.Fatalf("the reassembled line does not parse: %+v", l)
	}
	if n := f.Srv.Counters(f.Host(0)).Requests[sim.ActionReceive]; n < 6 {
		t.Fatalf("%d Receives; the test needs the pieces spread over several", n)
	}
}

// TestSession_SignalAfterDone ensures every command is terminated once it
// is Done, before the next Command, so the host frees it.
func TestSession_SignalAfterDone(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	name := f.Host(0)
	s, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1; i <= 3; i++ {
		if _, code, err := runCommand(t, s, t.Context(), "hostname", nil); err != nil || code != 0 {
			t.Fatalf("hostname: %d, %v", code, err)
		}
		if c := f.Srv.Counters(name); c.Requests[sim.ActionSignal] != int64(i) || c.Requests[sim.ActionCommand] != int64(i) {
			t.Fatalf("after %d commands: %d Signals, %d Commands", i, c.Requests[sim.ActionSignal], c.Requests[sim.ActionCommand])
		}
	}
}

// TestSession_UnknownCommandIsNotShellGone ensures a Receive for a command
// the host no longer knows is reported as that (Windows' own words kept),
// not as a lost shell.
func TestSession_UnknownCommandIsNotShellGone(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	f.Srv.Handle("vanish", func(ctx context.Context, c *sim.Cmd) int {
		<-ctx.Done()
		return 0
	})
	name := f.Host(0)
	s, err := f.Client(t, nil).Open(t.Context(), remote.Target{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The host forgets every command of the shell as it would after the
	// command's own Signal terminate from another client.
	f.Srv.Handle("vanish", func(ctx context.Context, c *sim.Cmd) int {
		go f.Srv.ForgetCommands(name)
		<-ctx.Done()
		return 0
	})
	_, _, err = runCommand(t, s, t.Context(), "vanish", nil)
	var re *remote.Error
	if !errors.Is(err, remote.ErrCommandGone) || errors.Is(err, remote.ErrShellGone) || !errors.As(err, &re) {
		t.Fatalf("got %v, want ErrCommandGone", err)
	}
	if !strings.Contains(re.Fault, "command identifier that does not exist") || re.Code != 2150858843 {
		t.Fatalf("fault %d %q: Windows' own text is lost", re.Code, re.Fault)
	}
}
