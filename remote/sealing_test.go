package remote_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// wire records every byte that crosses the connections it dials.
type wire struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	dials int
}

func (w *wire) dial(next func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w.mu.Lock()
		w.dials++
		w.mu.Unlock()
		return &tappedConn{Conn: c, w: w}, nil
	}
}

func (w *wire) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.buf.Bytes(), []byte(s))
}

func (w *wire) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Len()
}

type tappedConn struct {
	net.Conn
	w *wire
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.mu.Lock()
	c.w.buf.Write(p[:n])
	c.w.mu.Unlock()
	return n, err
}

func (c *tappedConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	c.w.buf.Write(p)
	c.w.mu.Unlock()
	return c.Conn.Write(p)
}

// newSealedFleet is a fleet on plain HTTP that, like Windows by default
// (AllowUnencrypted=false), takes only NTLM-sealed messages; the client
// reaches it with NTLM over HTTP and every byte is recorded.
func newSealedFleet(t *testing.T, n int) (*fleet, *wire) {
	t.Helper()
	f := sim.NewFleet(sim.FleetConfig{Seed: 3, Hosts: n, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	for i := range f.Hosts {
		f.Hosts[i].Fault, f.Hosts[i].RebootPending = sim.FaultNone, false
	}
	srv := sim.StartTest(t, f, sim.Options{Password: testPassword, RequireEncryption: true, MaxOperationTimeout: 300 * time.Millisecond,
		ScriptTimeScale: 0.05})
	w := &wire{}
	return &fleet{Srv: srv, Sim: f, Cfg: remote.Config{Auth: remote.AuthNTLM, User: `CORP\Administrator`, Password: testPassword,
		OperationTimeout: 300 * time.Millisecond, DialTimeout: 2 * time.Second, DialContext: w.dial(srv.DialContext)}}, w
}

// TestSealing_Repair ensures a whole repair runs over plain HTTP with NTLM
// message encryption against a host that refuses unencrypted messages,
// and that nothing readable crosses the wire: no SOAP, no script, no
// password, no output.
func TestSealing_Repair(t *testing.T) {
	t.Parallel()
	f, w := newSealedFleet(t, 120)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateSucceeded {
		t.Fatalf("sealed repair: %+v; steps %v", res, sink.Finished())
	}
	if !f.ServicesRunning(t, h.Name) {
		t.Fatal("services not running after a sealed repair")
	}
	var output bool
	for _, ev := range sink.Events() {
		output = output || ev.Kind == run.EventOutput
	}
	if !output {
		t.Fatal("the repair produced no output lines to check the wire against")
	}
	if w.len() < 10_000 {
		t.Fatalf("only %d bytes recorded on the wire", w.len())
	}
	for _, clear := range []string{"Envelope", "schemas.microsoft.com/wbem/wsman/1/windows/shell", "powershell", "WSUSFIX", testPassword, "SoftwareDistribution"} {
		if w.contains(clear) {
			t.Errorf("%q crossed the wire in clear", clear)
		}
	}
	if !w.contains("multipart/encrypted") {
		t.Error("no encrypted message seen on the wire")
	}
	c := f.Srv.Counters(h.Name)
	var total int64
	for _, n := range c.Requests {
		total += n
	}
	w.mu.Lock()
	dials := w.dials
	w.mu.Unlock()
	// Each connection costs a handshake of two empty requests; a session
	// needs two at once (output polling and stdin), so there should be few.
	t.Logf("sealed repair: %d SOAP messages, %d connections, %d handshake 401s", total, dials, c.Unauthorized)
	if dials > 6 {
		t.Errorf("%d connections for one repair; authenticated connections are not being reused", dials)
	}
}

// TestSealing_Cancel ensures a cancel during a sealed step still restores
// the services: the restore runs on fresh connections, whatever state the
// cancelled one's RC4 streams were left in.
func TestSealing_Cancel(t *testing.T) {
	t.Parallel()
	f, _ := newSealedFleet(t, 120)
	h, ctx, sink := f.CancelDuringLockedRename(t)
	res := f.Repair(t, ctx, h, run.ProcedureRepair, sink)
	if res.State == run.StateSucceeded {
		t.Fatalf("cancelled run succeeded: %+v", res)
	}
	if !f.ServicesRunning(t, h.Name) || sink.Finished()[run.StepStartServices] != "ok" {
		t.Fatalf("services not restored after a cancel; steps %v", sink.Finished())
	}
	if c := f.Srv.Counters(h.Name); c.ShellsOpen != 0 {
		t.Fatalf("%d shells left open", c.ShellsOpen)
	}
}

// TestSealing_Accounts ensures the account forms an administrator types
// work over sealed HTTP (DOMAIN\user, a UPN, a bare name), and a refused
// password is an authentication error naming what the host offers,
// without the password.
func TestSealing_Accounts(t *testing.T) {
	t.Parallel()
	f, _ := newSealedFleet(t, 1)
	for _, user := range []string{`CORP\Administrator`, "Administrator@corp.contoso.test", "administrator"} {
		s, err := f.Client(t, func(c *remote.Config) { c.User = user }).Open(t.Context(), remote.Target{Name: f.Host(0)})
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		out, code, err := runCommand(t, s, t.Context(), "whoami", nil)
		s.Close()
		if err != nil || code != 0 || len(out.get(remote.Stdout)) == 0 {
			t.Fatalf("%s: whoami = %v, %d, %v", user, out.get(remote.Stdout), code, err)
		}
	}
	_, err := f.Client(t, func(c *remote.Config) { c.Password = "not-the-password-42" }).Open(t.Context(), remote.Target{Name: f.Host(0)})
	if !errors.Is(err, remote.ErrAuth) || !strings.Contains(err.Error(), "Negotiate") || strings.Contains(err.Error(), "not-the-password-42") {
		t.Fatalf("got %v; want an auth error naming Negotiate", err)
	}
}

// TestSealing_SilentHost ensures a host that accepts the connection and
// never answers the NTLM handshake ends the step at its deadline.
func TestSealing_SilentHost(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	c, err := remote.NewClient(remote.Config{Auth: remote.AuthNTLM, User: `CORP\Administrator`, Password: testPassword,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, ln.Addr().String())
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Open(ctx, remote.Target{Name: "silent.corp.contoso.test"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("a silent host held the step %v past a 300ms deadline", took)
	}
}
