// Package kdc runs a real MIT Kerberos KDC in a temporary directory, on
// loopback, for tests and the simulated fleet: a user principal with a
// password and an HTTP/<fqdn> service principal per host, whose keys it
// exports as a keytab. It never touches /etc or the system's Kerberos
// configuration: the programs it starts get their own through KRB5_CONFIG
// and KRB5_KDC_PROFILE. It imports nothing of wsusfix outside sim/internal.
package kdc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"wsusfix/sim/internal/daemon"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// Config chooses the realm and its principals.
type Config struct {
	// Realm is upper case by convention; default "WSUSFIX.TEST".
	Realm string
	// User and Password are the one client principal (User@Realm). The
	// password reaches kadmin.local on its standard input, never on a
	// command line; it may not contain white space or quotes.
	User     string
	Password string
	// Hosts are the FQDNs that get a service principal HTTP/<fqdn>, with a
	// random key, in the keytab. Names are lower-cased, as Windows
	// registers them.
	Hosts []string
	// ClockOffset runs the KDC's clock this far from the machine's
	// (krb5kdc -T), to test what a client with a wrong clock is told.
	ClockOffset time.Duration
}

// KDC is a running krb5kdc. Close stops it.
type KDC struct {
	realm  string
	offset time.Duration // ClockOffset
	addr   string        // 127.0.0.1:port, UDP and TCP
	keytab []byte
	conf   []byte

	cmd    *exec.Cmd
	exited chan struct{} // closed when the krb5kdc process has been waited for
	once   sync.Once
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	hostPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)
)

// check refuses names that could not be passed to kadmin.local safely.
func (c *Config) check() error {
	if c.Realm == "" {
		c.Realm = "WSUSFIX.TEST"
	}
	if !hostPattern.MatchString(c.Realm) {
		return fmt.Errorf("kdc: realm %q: want letters, digits, dots and dashes", c.Realm)
	}
	if !namePattern.MatchString(c.User) {
		return fmt.Errorf("kdc: user %q: want a bare name of letters, digits, dots, dashes and underscores", c.User)
	}
	if c.Password == "" || strings.ContainsAny(c.Password, " \t\r\n\"'\\") {
		return errors.New("kdc: the password must be set and hold no white space, quotes or backslashes")
	}
	for _, h := range c.Hosts {
		if !hostPattern.MatchString(h) {
			return fmt.Errorf("kdc: host %q: want a DNS name", h)
		}
	}
	return nil
}

// Start creates the realm's database and principals under dir (which must
// exist and should be private, e.g. t.TempDir()) and starts krb5kdc on a
// free loopback port, UDP and TCP. ctx bounds the setup only; the KDC runs
// until Close. The error wraps ErrNoBinaries when MIT Kerberos is not
// installed.
func Start(ctx context.Context, dir string, cfg Config) (*KDC, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("kdc: %w", err)
	}
	// The port is part of kdc.conf; a port taken between choosing it and
	// krb5kdc binding it is rare, and met by trying another with the same
	// database.
	var lastErr error
	var kt []byte
	for attempt := range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		k := &KDC{realm: cfg.Realm, offset: cfg.ClockOffset, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), keytab: kt}
		if err := k.writeConfig(dir); err != nil {
			return nil, err
		}
		if attempt == 0 {
			if err := k.createRealm(ctx, bins, dir, cfg); err != nil {
				return nil, err
			}
			kt = k.keytab
		}
		if lastErr = k.serve(ctx, bins, dir); lastErr == nil {
			return k, nil
		}
		if !strings.Contains(lastErr.Error(), "in use") {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// writeConfig writes kdc.conf and krb5.conf for the programs, and keeps the
// client krb5.conf.
func (k *KDC) writeConfig(dir string) error {
	kdcConf := fmt.Sprintf(`[kdcdefaults]
 kdc_listen = %[2]s
 kdc_tcp_listen = %[2]s

[realms]
 %[1]s = {
  database_name = %[3]s/db/principal
  key_stash_file = %[3]s/db/stash
  acl_file = %[3]s/kadm5.acl
  kdc_listen = %[2]s
  kdc_tcp_listen = %[2]s
  max_life = 10h
  max_renewable_life = 1d
  default_principal_flags = +preauth
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }

[plugins]
 kdcpreauth = {
  disable = spake
 }

[logging]
 kdc = FILE:%[3]s/kdc.log
`, k.realm, k.addr, dir)
	// The programs' own krb5.conf: the realm and nothing from the system.
	progConf := fmt.Sprintf("[libdefaults]\n default_realm = %[1]s\n\n[realms]\n %[1]s = {\n  kdc = %[2]s\n }\n", k.realm, k.addr)
	for name, data := range map[string]string{"kdc.conf": kdcConf, "krb5.conf": progConf, "kadm5.acl": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			return fmt.Errorf("kdc: %w", err)
		}
	}
	return os.MkdirAll(filepath.Join(dir, "db"), 0o700)
}

// env is the environment of the Kerberos programs: ours, with their
// configuration pointed at dir.
func env(dir string) []string {
	return append(os.Environ(),
		"KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"),
		"KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"),
		"KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"),
		"KRB5RCACHEDIR="+dir,
	)
}

// createRealm creates the database and every principal in one kadmin.local
// run, then reads the keytab back and checks it holds every host.
func (k *KDC) createRealm(ctx context.Context, bins binaries, dir string, cfg Config) error {
	master := make([]byte, 16)
	_, _ = rand.Read(master)
	// -W: the weak random source, so creating a realm never waits on entropy.
	if _, err := runTool(ctx, dir, nil, bins.dbUtil, "create", "-s", "-W", "-r", k.realm, "-P", hex.EncodeToString(master)); err != nil {
		return err
	}
	var script strings.Builder
	fmt.Fprintf(&script, "addprinc -pw %s %s\n", cfg.Password, cfg.User)
	var spns []string
	for _, h := range cfg.Hosts {
		spn := "HTTP/" + strings.ToLower(strings.TrimSuffix(h, "."))
		if slices.Contains(spns, spn) {
			continue
		}
		spns = append(spns, spn)
		fmt.Fprintf(&script, "addprinc -randkey %s\n", spn)
	}
	ktPath := filepath.Join(dir, "http.keytab")
	if len(spns) > 0 {
		fmt.Fprintf(&script, "ktadd -k %s %s\n", ktPath, strings.Join(spns, " "))
	}
	out, err := runTool(ctx, dir, strings.NewReader(script.String()), bins.kadmin, "-r", k.realm)
	if err != nil {
		return err
	}
	// kadmin.local exits 0 even when a command on its input failed.
	if want := fmt.Sprintf("Principal %q created", cfg.User+"@"+k.realm); !strings.Contains(out, want) {
		return fmt.Errorf("kdc: kadmin.local did not create %s@%s: %s", cfg.User, k.realm, daemon.LastLines(out, 5))
	}
	k.keytab = []byte{}
	if len(spns) == 0 {
		return nil
	}
	b, err := os.ReadFile(ktPath)
	if err != nil {
		return fmt.Errorf("kdc: reading the keytab: %w", err)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return fmt.Errorf("kdc: the keytab kadmin.local wrote: %w", err)
	}
	have := map[string]bool{}
	for _, e := range kt.Entries {
		have[e.Principal.String()] = true
	}
	for _, spn := range spns {
		if !have[spn+"@"+k.realm] {
			return fmt.Errorf("kdc: the keytab lacks %s: %s", spn, daemon.LastLines(out, 5))
		}
	}
	k.keytab = b
	return nil
}

// serve starts krb5kdc in the foreground and waits until it accepts TCP.
func (k *KDC) serve(ctx context.Context, bins binaries, dir string) error {
	args := []string{"-n", "-r", k.realm}
	if k.offset != 0 {
		args = append(args, "-T", strconv.Itoa(int(k.offset.Seconds())))
	}
	cmd := exec.Command(bins.kdc, args...)
	cmd.Env = env(dir)
	cmd.Dir = dir
	w := &daemon.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kdc: starting krb5kdc: %w", err)
	}
	k.cmd, k.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(k.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", k.addr, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-k.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
			return fmt.Errorf("kdc: krb5kdc exited at start: %s %s", daemon.LastLines(w.String(), 5), daemon.LastLines(string(log), 5))
		case <-ctx.Done():
			k.Close()
			return fmt.Errorf("kdc: waiting for krb5kdc: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			k.Close()
			return fmt.Errorf("kdc: krb5kdc did not listen on %s within 10s", k.addr)
		}
	}
	k.conf = []byte(fmt.Sprintf(`[libdefaults]
 default_realm = %[1]s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
 dns_canonicalize_hostname = false
 udp_preference_limit = 1
 ticket_lifetime = 10h
 forwardable = false

[realms]
 %[1]s = {
  kdc = %[2]s
 }
`, k.realm, k.addr))
	return nil
}

// Realm returns the realm's name.
func (k *KDC) Realm() string { return k.realm }

// Addr returns the KDC's address, 127.0.0.1:port, for UDP and TCP.
func (k *KDC) Addr() string { return k.addr }

// Krb5Conf returns a client krb5.conf for the realm: the KDC's address and
// no DNS (no KDC or realm lookups, no canonicalisation), TCP only. The
// caller owns the result.
func (k *KDC) Krb5Conf() []byte { return bytes.Clone(k.conf) }

// Keytab returns the keytab holding every host's HTTP/ key, in the MIT
// file format. The caller owns the result.
func (k *KDC) Keytab() []byte { return bytes.Clone(k.keytab) }

// Close stops krb5kdc and waits for it to exit. It is safe to call more
// than once.
func (k *KDC) Close() error {
	k.once.Do(func() {
		if k.cmd == nil || k.cmd.Process == nil {
			return
		}
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.exited:
		case <-time.After(5 * time.Second):
			_ = k.cmd.Process.Kill()
			<-k.exited
		}
	})
	return nil
}

// runTool runs one of the database programs in dir's configuration and
// returns its combined output, or an error that quotes the end of it.
func runTool(ctx context.Context, dir string, stdin *strings.Reader, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env(dir)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kdc: %s: %w: %s", filepath.Base(path), err, daemon.LastLines(string(out), 5))
	}
	return string(out), nil
}

// freePort finds a loopback port free for both TCP and UDP.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("kdc: finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port, nil
		}
	}
	return 0, errors.New("kdc: no loopback port free for both TCP and UDP")
}
