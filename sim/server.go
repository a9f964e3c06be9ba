package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The WS-Management server of the simulated fleet, by file:
//
//	server.go    Options and the Server's life: NewServer, Start/Serve, Close
//	handler.go   ServeHTTP: Host routing, latency, auth, parsing, dispatch
//	dial.go      the client-side dialer that sends every host name here
//	wsman.go     SOAP envelopes: parsing requests, writing answers
//	shell.go     the WinRS actions: Create, Command, Send, Receive, Signal, Delete
//	streams.go   a command's output and stdin buffers
//	commands.go  the command registry, cmd.exe's rules and the built-ins
//	faults.go    SOAP faults and what each host Fault does
//	auth.go      Basic and NTLM (Negotiate) authentication
//	sealing.go   NTLM message encryption on plain HTTP
//	kerberos.go  Kerberos (Negotiate) with a keytab, and mutual authentication
//	tlscert.go   the generated CA and per-name certificates
//	state.go     per-host live state (services, folders, history)
//	counters.go  per-host, per-action counters for tests and benchmarks
//	scripts*.go  powershell.exe running the product's scripts (remote/scripts)
//	wsus*.go     the WSUS server role: its state, faults and test hooks
//	             (wsus_role.go), the inventory collector (wsus_inventory.go)
//	             and the failed-computers query (wsus.go)
//
// Not simulated: PowerShell remoting (PSRP), WS-Man Get/Enumerate (WMI),
// CredSSP, Kerberos message encryption, and cmd.exe syntax beyond the
// first word (no pipes, redirection or &&). Kerberos needs a KDC to issue
// tickets: sim/kdc runs a real one.

// maxBodyBytes bounds a request body: Windows' MaxEnvelopeSizekb default of
// 500. Bigger requests get HTTP 413, as a 10 MB command does on Windows.
const maxBodyBytes = 500 << 10

// Options configures a Server. The zero value is usable: defaults are
// filled in by NewServer and documented per field.
type Options struct {
	// User and Password are the one account every host accepts, with Basic
	// (bare name only, as Windows accepts for local accounts) or NTLM.
	// User defaults to "Administrator"; Password is compared exactly, so an
	// empty Password means the empty password.
	User     string
	Password string
	// Domain is the NetBIOS domain of the account, printed by whoami and
	// sent as the NTLM target. It defaults to the upper-cased first label
	// of the fleet's DNS domain ("CORP" for corp.contoso.test); "." makes
	// the account local, so whoami prints "<host>\<user>".
	Domain string

	// Keytab (the contents of an MIT keytab file, such as sim/kdc makes)
	// turns on Kerberos: every host accepts tickets for HTTP/<its FQDN>
	// whose key the keytab holds, issued to User in Realm. Nil means
	// Negotiate takes NTLM only. Realm defaults to the upper-cased fleet
	// domain, as Active Directory names its realm.
	Keytab []byte
	Realm  string

	// TLS serves HTTPS with certificates from a CA generated at start
	// (see CACertPEM); otherwise plain HTTP.
	TLS bool
	// RequireEncryption makes plain HTTP behave as Windows' default
	// AllowUnencrypted=false: only NTLM-sealed messages are served, and
	// anything else gets 401. Without it plain HTTP also takes unsealed
	// messages, as if AllowUnencrypted=true.
	RequireEncryption bool

	// MaxShellsPerUser is the WinRS quota per user and host; default 30.
	MaxShellsPerUser int
	// IdleTimeout closes shells unused this long (they count against the
	// quota until then); default 2h as on Windows, negative disables it.
	IdleTimeout time.Duration
	// MaxOperationTimeout caps a request's OperationTimeout, as Windows'
	// MaxTimeoutms does (default 60s). It bounds how long a Receive waits
	// before answering TimedOut; tests set it to milliseconds.
	MaxOperationTimeout time.Duration

	// Latency plus a random share of Jitter delays every request to every
	// host (default none), e.g. to make fleet benchmarks realistic.
	Latency, Jitter time.Duration
	// SlowLatency plus a random share of SlowJitter is added for hosts with
	// FaultSlow; defaults 2s and 1s.
	SlowLatency, SlowJitter time.Duration
	// ReceiveTimeouts is how many Receives of each command answer TimedOut
	// before output flows on hosts with FaultReceiveTimeout; default 3.
	ReceiveTimeouts int
	// WSUSCallLatency is what one call of the WSUS administration API
	// costs on the WSUS server, before ScriptTimeScale (default 20ms);
	// listing rows adds a little per row on top.
	WSUSCallLatency time.Duration
	// Seed seeds the generator behind all jitter, so runs repeat.
	Seed int64

	// ScriptTimeScale scales the time the simulated product scripts take
	// (a service stopping, a search, a retry delay, a service that does not
	// stop within its timeout): 0 or 1 is realistic, 0.01 a hundred times
	// faster, and a negative value makes every wait instant, for tests.
	// The durations the scripts report (waited_ms) stay the simulated ones.
	ScriptTimeScale float64

	// Logger receives the HTTP server's own errors (TLS handshakes failing
	// and the like); nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults(f *Fleet) Options {
	if o.User == "" {
		o.User = "Administrator"
	}
	if o.Domain == "" && f != nil && f.Domain != "" {
		label, _, _ := strings.Cut(f.Domain, ".")
		o.Domain = strings.ToUpper(label)
	}
	if o.Realm == "" && f != nil {
		o.Realm = strings.ToUpper(f.Domain)
	}
	if o.MaxShellsPerUser <= 0 {
		o.MaxShellsPerUser = 30
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 2 * time.Hour
	}
	if o.MaxOperationTimeout <= 0 {
		o.MaxOperationTimeout = 60 * time.Second
	}
	if o.SlowLatency == 0 {
		o.SlowLatency = 2 * time.Second
	}
	if o.SlowJitter == 0 {
		o.SlowJitter = time.Second
	}
	if o.ReceiveTimeouts <= 0 {
		o.ReceiveTimeouts = 3
	}
	if o.WSUSCallLatency <= 0 {
		o.WSUSCallLatency = defaultWSUSCallLatency
	}
	if o.ScriptTimeScale == 0 {
		o.ScriptTimeScale = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server answers WS-Management (WinRS cmd shells) for every host of a
// Fleet on one listener; the HTTP Host header says which host a request is
// for. It is safe for concurrent use.
type Server struct {
	opt    Options
	domain string           // the fleet's DNS domain
	wsus   *host            // the fleet's WSUS server, nil if it has none
	role   wsusRole         // the WSUS server's own state (wsus_role.go)
	hosts  []*host          // fixed after NewServer
	byName map[string]*host // by normalized short name and FQDN; fixed after NewServer
	cmds   registry

	ca    *certAuthority
	caErr error
	krb   kerberosState // kerberos.go

	ctx    context.Context // ends on Close: stops long polls and commands
	cancel context.CancelFunc

	rngMu sync.Mutex
	rng   *rand.Rand

	mu     sync.Mutex
	closed bool
	ln     net.Listener
	srv    *http.Server
	wg     sync.WaitGroup // handlers, commands and Start's serve loop
}

// host is one simulated computer: its live state, open shells, counters.
type host struct {
	m    *Machine
	name string // NetBIOS name
	fqdn string
	ip   net.IP // made up, for error messages that name an address
	// wsusID is the host's computer target id on the WSUS server, made
	// once (wsusComputerID).
	wsusID string

	ctr hostCounters

	mu     sync.Mutex // guards shells and their commands maps
	shells map[string]*shell
}

// NewServer builds a simulator for the fleet's hosts. The fleet's WSUS
// server is added as a host of its own when the fleet does not list it. No
// network activity happens until Start or Serve.
func NewServer(f *Fleet, opt Options) *Server {
	s := &Server{opt: opt.withDefaults(f), byName: map[string]*host{}}
	if s.opt.Domain == "." {
		s.opt.Domain = ""
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.rng = rand.New(rand.NewPCG(uint64(s.opt.Seed), 0x73696d))
	var hosts []Host
	if f != nil {
		s.domain = f.Domain
		hosts = append(hosts, f.Hosts...)
		if f.WSUSServer != "" && !hasHost(hosts, f.WSUSServer) {
			hosts = append(hosts, wsusHost(f))
		}
	}
	for i, h := range hosts {
		n := i + 1
		hh := &host{
			m:      &Machine{state: newHostState(h)},
			name:   h.Name,
			fqdn:   h.FQDN,
			ip:     net.IPv4(10, byte(n>>16), byte(n>>8), byte(n)),
			shells: map[string]*shell{},
		}
		hh.wsusID = uuidFrom("wsus-computer:" + wsusFQDN(hh))
		s.hosts = append(s.hosts, hh)
		s.byName[normalizeName(h.Name)] = hh
		if h.FQDN != "" {
			s.byName[normalizeName(h.FQDN)] = hh
		}
	}
	if f != nil && f.WSUSServer != "" {
		s.wsus = s.lookup(f.WSUSServer)
	}
	s.registerBuiltins()
	s.registerScripts()
	s.ca, s.caErr = newCertAuthority(s.domain)
	return s
}

func hasHost(hosts []Host, name string) bool {
	for _, h := range hosts {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// wsusHost is the inventory of the fleet's WSUS server, which fleets list
// apart from their clients.
func wsusHost(f *Fleet) Host {
	short, _, _ := strings.Cut(f.WSUSServer, ".")
	return Host{
		Name:       strings.ToUpper(short),
		FQDN:       strings.ToLower(short) + "." + f.Domain,
		OSCaption:  "Microsoft Windows Server 2022 Standard",
		OSBuild:    "10.0.20348.2762",
		PSVersion:  "5.1.20348.2762",
		Group:      "Servers - WSUS",
		Server:     true,
		FreeDiskGB: 120,
	}
}

// lookup finds a host by short name or FQDN, case-insensitively.
func (s *Server) lookup(name string) *host {
	return s.byName[normalizeName(name)]
}

// Start listens on addr ("" means 127.0.0.1:0) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if !s.enter() {
		_ = l.Close()
		return http.ErrServerClosed
	}
	ready := make(chan error, 1)
	go func() {
		defer s.wg.Done()
		_ = s.serve(l, ready)
	}()
	return <-ready
}

// Serve answers connections from l (wrapped in TLS when Options.TLS) until
// Close, and returns http.ErrServerClosed then. A Server serves at most one
// listener.
func (s *Server) Serve(l net.Listener) error {
	return s.serve(l, nil)
}

func (s *Server) serve(l net.Listener, ready chan<- error) error {
	fail := func(err error) error {
		_ = l.Close()
		if ready != nil {
			ready <- err
		}
		return err
	}
	if s.opt.TLS && s.caErr != nil {
		return fail(fmt.Errorf("sim: generating certificates: %w", s.caErr))
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fail(http.ErrServerClosed)
	}
	if s.ln != nil {
		s.mu.Unlock()
		return fail(errors.New("sim: server already serving"))
	}
	s.ln = l
	o := s.opt
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      o.Latency + o.Jitter + o.SlowLatency + o.SlowJitter + o.MaxOperationTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	srv := s.srv
	s.mu.Unlock()
	if ready != nil {
		ready <- nil
	}
	if s.opt.TLS {
		l = tls.NewListener(l, s.ca.serverConfig(s.lookup))
	}
	return srv.Serve(l)
}

// Addr returns the listener's address (e.g. "127.0.0.1:41234"), or "" before
// Start or Serve.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// CACertPEM returns the PEM certificate of the CA that signs the HTTPS
// certificates, for a client's trust store (winrm.Endpoint.CACert). It is
// nil if generating it failed, in which case Start with TLS reports why.
func (s *Server) CACertPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return append([]byte(nil), s.ca.pem...)
}

// Close stops the listener, drops open connections, ends every command and
// long poll, and waits for all of the Server's goroutines to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, ln := s.srv, s.ln
	s.mu.Unlock()
	s.cancel()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	if ln != nil {
		_ = ln.Close() // in case Serve never got to use it
	}
	s.wg.Wait()
	return err
}

// enter registers one unit of work with the WaitGroup unless the Server is
// closed; holding mu makes the Add safe against Close's Wait.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}
