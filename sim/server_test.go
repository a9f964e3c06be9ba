package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

const testPassword = "S3cret!pw"

// testFleet builds a fleet by hand, so these tests do not depend on the
// generator: hosts HOST-0001… cycling through three OS releases.
func testFleet(n int) *Fleet {
	oses := []Host{
		{OSCaption: "Microsoft Windows Server 2022 Standard", OSBuild: "10.0.20348.2762", PSVersion: "5.1.20348.2762", Server: true},
		{OSCaption: "Microsoft Windows 11 Enterprise", OSBuild: "10.0.26100.2033", PSVersion: "5.1.26100.2033"},
		{OSCaption: "Microsoft Windows Server 2012 R2 Standard", OSBuild: "6.3.9600.21620", PSVersion: "4.0", Server: true},
	}
	f := &Fleet{Domain: "corp.contoso.test", WSUSServer: "WSUS01"}
	for i := 1; i <= n; i++ {
		h := oses[i%len(oses)]
		h.Name = fmt.Sprintf("HOST-%04d", i)
		h.FQDN = strings.ToLower(h.Name) + "." + f.Domain
		h.FreeDiskGB = 40 + i
		h.History = []Event{{Time: time.Date(2026, 10, 14, 3, 0, 0, 0, time.UTC), UpdateID: "0b1c", KB: "KB5044281",
			Title: "2026-10 Cumulative Update", Operation: OperationInstallation, Result: ResultFailed, HResult: 0x80070002}}
		f.Hosts = append(f.Hosts, h)
	}
	return f
}

// startServer runs a simulator on 127.0.0.1:0 for the test's duration.
// Operation timeouts are short so TimedOut paths are fast.
func startServer(t *testing.T, f *Fleet, opt Options) *Server {
	t.Helper()
	if opt.Password == "" {
		opt.Password = testPassword
	}
	if opt.MaxOperationTimeout == 0 {
		opt.MaxOperationTimeout = 200 * time.Millisecond
	}
	return StartTest(t, f, opt)
}

// clientConfig varies how newClient connects.
type clientConfig struct {
	user, password string
	https          bool
	ca             []byte
	ntlm           bool
}

// newClient returns a real masterzen/winrm client for host name that dials
// through the simulator.
func newClient(t *testing.T, s *Server, name string) *winrm.Client {
	t.Helper()
	return newClientWith(t, s, name, clientConfig{})
}

func newClientWith(t *testing.T, s *Server, name string, cc clientConfig) *winrm.Client {
	t.Helper()
	if cc.user == "" {
		cc.user = "Administrator"
	}
	if cc.password == "" {
		cc.password = testPassword
	}
	port := 5985
	if cc.https {
		port = 5986
	}
	ep := winrm.NewEndpoint(name, port, cc.https, false, cc.ca, nil, nil, 10*time.Second)
	params := winrm.NewParameters("PT5S", "en-US", 153600)
	params.Dial = s.Dial
	if cc.ntlm {
		params.TransportDecorator = func() winrm.Transporter { return winrm.NewClientNTLMWithDial(s.Dial) }
	}
	c, err := winrm.NewClientWithParameters(ep, cc.user, cc.password, params)
	if err != nil {
		t.Fatalf("NewClientWithParameters: %v", err)
	}
	return c
}

// runCmd runs a command without stdin under a test deadline.
func runCmd(t *testing.T, c *winrm.Client, cmd string) (stdout, stderr string, code int, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	return c.RunCmdWithContext(ctx, cmd)
}

// post sends a raw request to the simulator for host and returns the
// response and its body.
func post(t *testing.T, s *Server, method, host, user, body string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{DialContext: s.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+host+":5985/wsman", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", soapContentType)
	if user != "" {
		req.SetBasicAuth(user, testPassword)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestServer_Commands ensures the built-in commands answer like cmd.exe,
// with stdout, stderr and exit codes as the real client sees them.
func TestServer_Commands(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(3), Options{})
	c := newClient(t, s, "host-0002.corp.contoso.test")
	tests := []struct {
		name       string
		cmd        string
		wantStdout string
		wantStderr string
		wantCode   int
	}{
		{"hostname", "hostname", "HOST-0002\r\n", "", 0},
		{"whoami", "whoami", "corp\\administrator\r\n", "", 0},
		{"unknown", "frobnicate /now", "", "'frobnicate' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1},
		{"echo", "echo hello  world", "hello  world\r\n", "", 0},
		{"cmd /c exit", "cmd.exe /c exit /b 3", "", "", 3},
		{"full path", `C:\Windows\System32\HOSTNAME.EXE`, "HOST-0002\r\n", "", 0},
		{"ver", "ver", "\r\nMicrosoft Windows [Version 6.3.9600.21620]\r\n", "", 0},
		{"too long", "echo " + strings.Repeat("x", 8187), "", "The command line is too long.\r\n", 1},
		{"just under the limit", "echo " + strings.Repeat("x", 8186), strings.Repeat("x", 8186) + "\r\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code, err := runCmd(t, c, tt.cmd)
			if err != nil {
				t.Fatalf("run %q: %v", tt.cmd, err)
			}
			if stdout != tt.wantStdout || stderr != tt.wantStderr || code != tt.wantCode {
				t.Errorf("run %q = (%q, %q, %d), want (%q, %q, %d)", tt.cmd, stdout, stderr, code, tt.wantStdout, tt.wantStderr, tt.wantCode)
			}
		})
	}
}

// TestServer_WhoamiLocalAccount ensures Domain "." makes the account local.
func TestServer_WhoamiLocalAccount(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{Domain: "."})
	stdout, _, _, err := runCmd(t, newClient(t, s, "HOST-0001"), "whoami")
	if err != nil || stdout != "host-0001\\administrator\r\n" {
		t.Errorf("whoami = %q, %v; want host-0001\\administrator", stdout, err)
	}
}

// TestServer_Stdin ensures data sent with Send reaches a command, also when
// it takes several Sends.
func TestServer_Stdin(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	c := newClient(t, s, "HOST-0001")
	tests := []struct {
		name      string
		input     string
		wantSends int64
	}{
		{"small", "line 1\r\nline 2\r\n", 2},
		{"several envelopes", strings.Repeat("0123456789abcdef", 20000), 4}, // 320 KB in 152600-byte chunks, then End
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Counters("HOST-0001").Requests[ActionSend]
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			stdout, stderr, code, err := c.RunWithContextWithString(ctx, "more", tt.input)
			if err != nil || code != 0 || stderr != "" {
				t.Fatalf("more: code %d, stderr %q, err %v", code, stderr, err)
			}
			if stdout != tt.input {
				t.Errorf("more echoed %d bytes, want %d", len(stdout), len(tt.input))
			}
			if got := s.Counters("HOST-0001").Requests[ActionSend] - before; got != tt.wantSends {
				t.Errorf("Sends = %d, want %d", got, tt.wantSends)
			}
		})
	}
}

// TestServer_OutputOverSeveralReceives ensures output written over time, or
// too big for one envelope, arrives complete over several Receives.
func TestServer_OutputOverSeveralReceives(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	s.Handle("slowcount", func(ctx context.Context, c *Cmd) int {
		// Each line waits for a Receive of its own to be asking, so the
		// output is spread over Receives however loaded the machine is.
		for i := 1; i <= 5; i++ {
			for s.Counters(c.Machine.Name()).Requests[ActionReceive] < int64(i) {
				select {
				case <-time.After(5 * time.Millisecond):
				case <-ctx.Done():
					return 1
				}
			}
			fmt.Fprintf(c.Stdout, "line %d\r\n", i)
		}
		fmt.Fprint(c.Stderr, "done\r\n")
		return 7
	})
	s.Handle("bigdump", func(_ context.Context, c *Cmd) int {
		_, _ = io.WriteString(c.Stdout, strings.Repeat("A", 1<<20))
		return 0
	})
	tests := []struct {
		host, cmd    string
		wantStdout   string
		wantStderr   string
		wantCode     int
		wantReceives int64
	}{
		{"HOST-0001", "slowcount", "line 1\r\nline 2\r\nline 3\r\nline 4\r\nline 5\r\n", "done\r\n", 7, 3},
		{"HOST-0002", "bigdump", strings.Repeat("A", 1<<20), "", 0, 9}, // ~112 KB per 150 KB envelope
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			stdout, stderr, code, err := runCmd(t, newClient(t, s, tt.host), tt.cmd)
			if err != nil || stdout != tt.wantStdout || stderr != tt.wantStderr || code != tt.wantCode {
				t.Fatalf("run = (%d bytes, %q, %d, %v), want (%d bytes, %q, %d)", len(stdout), stderr, code, err,
					len(tt.wantStdout), tt.wantStderr, tt.wantCode)
			}
			if got := s.Counters(tt.host).Requests[ActionReceive]; got < tt.wantReceives {
				t.Errorf("Receives = %d, want at least %d", got, tt.wantReceives)
			}
		})
	}
}

// TestServer_Concurrent ensures 200 shells open at once across 100 hosts all
// run and finish, with every host answering as itself.
func TestServer_Concurrent(t *testing.T) {
	t.Parallel()
	const hosts, shells = 100, 200
	s := startServer(t, testFleet(hosts), Options{})
	var started sync.WaitGroup
	started.Add(shells)
	allStarted := make(chan struct{})
	go func() { started.Wait(); close(allStarted) }()
	s.Handle("gather", func(ctx context.Context, c *Cmd) int {
		started.Done()
		select {
		case <-allStarted: // every shell is open at this point
		case <-ctx.Done():
			return 1
		}
		fmt.Fprintf(c.Stdout, "%s\r\n", c.Machine.Name())
		return 0
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make(chan error, shells)
	for i := range shells {
		name := fmt.Sprintf("HOST-%04d", i%hosts+1)
		c := newClient(t, s, name)
		go func() {
			stdout, _, code, err := c.RunCmdWithContext(ctx, "gather")
			if err == nil && (code != 0 || stdout != name+"\r\n") {
				err = fmt.Errorf("%s: exit code %d, stdout %q", name, code, stdout)
			}
			errs <- err
		}()
	}
	for range shells {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	total := s.TotalCounters()
	if total.ShellsCreated != shells || total.ShellsOpen != 0 {
		t.Errorf("ShellsCreated %d, ShellsOpen %d; want %d, 0", total.ShellsCreated, total.ShellsOpen, shells)
	}
	if got := s.Counters("HOST-0042").ShellsCreated; got != shells/hosts {
		t.Errorf("HOST-0042 ShellsCreated = %d, want %d", got, shells/hosts)
	}
}

// TestServer_HTTP ensures the transport-level answers match Windows.
func TestServer_HTTP(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	tests := []struct {
		name, method, body string
		wantStatus         int
		wantAllow          string
	}{
		{"GET is not allowed", http.MethodGet, "", http.StatusMethodNotAllowed, "POST"},
		{"body too large", http.MethodPost, strings.Repeat("<a/>", maxBodyBytes/4+1), http.StatusRequestEntityTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, s, tt.method, "HOST-0001", "Administrator", tt.body)
			if resp.StatusCode != tt.wantStatus || body != "" || resp.Header.Get("Allow") != tt.wantAllow {
				t.Errorf("status %d, Allow %q, body %q; want %d, %q, empty", resp.StatusCode, resp.Header.Get("Allow"), body, tt.wantStatus, tt.wantAllow)
			}
		})
	}
}

// TestServer_HostNames ensures names resolve case-insensitively, short or
// FQDN, and that unknown names and unreachable hosts fail like the network.
func TestServer_HostNames(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	s.SetFault("HOST-0002", FaultUnreachable)
	for _, name := range []string{"HOST-0001", "host-0001", "Host-0001.CORP.contoso.test", "wsus01.corp.contoso.test"} {
		if _, _, _, err := runCmd(t, newClient(t, s, name), "hostname"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	_, _, _, err := runCmd(t, newClient(t, s, "nosuchhost"), "hostname")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("unknown host: err = %v, want a not-found *net.DNSError", err)
	}
	_, _, _, err = runCmd(t, newClient(t, s, "HOST-0002"), "hostname")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("unreachable host: err = %v, want ECONNREFUSED", err)
	}

	// A client that ignores the dialer reaches the listener with a name the
	// fleet does not know: the connection closes without an answer.
	resp, err := http.Post("http://"+s.Addr()+"/wsman", soapContentType, strings.NewReader("<x/>"))
	if err == nil {
		resp.Body.Close()
		t.Errorf("unknown Host header: got status %d, want the connection closed", resp.StatusCode)
	}
}

// TestServer_CloseEndsGoroutines ensures Close ends running commands and
// long polls and leaves no goroutine behind.
func TestServer_CloseEndsGoroutines(t *testing.T) {
	t.Parallel()
	before := runtime.NumGoroutine()
	s := NewServer(testFleet(1), Options{Password: testPassword})
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{})
	s.Handle("forever", func(ctx context.Context, _ *Cmd) int {
		close(running)
		<-ctx.Done()
		return 1
	})
	c := newClient(t, s, "HOST-0001")
	done := make(chan error, 1)
	go func() {
		_, _, _, err := c.RunCmdWithContext(context.Background(), "forever")
		done <- err
	}()
	<-running
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("client still running 10s after Close")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

var reShellID = regexp.MustCompile(`<rsp:ShellId>([^<]+)</rsp:ShellId>`)

// TestServer_NeverAnswersEmpty ensures a request the handler leaves
// without a word (here: the client gave up during the host's latency) is
// not sent net/http's implicit empty 200, which no WinRM host sends and the
// client library cannot parse: the connection is dropped instead (a
// recorder, which cannot be hijacked, gets 502 for it).
func TestServer_NeverAnswersEmpty(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{Latency: 10 * time.Second})
	r := newRaw(t, s, "HOST-0001")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", r.url, strings.NewReader(winrm.NewOpenShellRequest(r.url, r.params).String()))
	req.Header.Set("Content-Type", soapContentType)
	req.SetBasicAuth("Administrator", testPassword)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Fatalf("a request left unanswered got 200 with %d bytes; want the connection dropped", rec.Body.Len())
	}
}
