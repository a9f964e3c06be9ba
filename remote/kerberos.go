package remote

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"wsusfix/store/secret"
)

// Kerberos, as WinRM does it: SPNEGO in "Authorization: Negotiate", one
// AP-REQ per request for the service principal HTTP/<host name>, and the
// host's AP-REP checked when it sends one (mutual authentication). There
// is no Kerberos message encryption, so Validate requires HTTPS.

// ticketRefresh is how long a service ticket is reused before a new
// sign-in: well inside the ten hours Active Directory issues them for, so
// a long run never presents an expired one.
const ticketRefresh = time.Hour

// kerberosProblems checks what Kerberos needs beyond HTTPS: a krb5.conf
// that parses, a realm for the user and a KDC for that realm.
func (c Config) kerberosProblems() []error {
	if len(c.Krb5Conf) == 0 {
		return []error{errors.New("kerberos needs a krb5.conf naming the realm and its KDCs: set -winrm-krb5-conf (WSUSFIX_WINRM_KRB5_CONF) or KRB5_CONFIG")}
	}
	conf, err := config.NewFromString(string(c.Krb5Conf))
	if err != nil {
		return []error{fmt.Errorf("the krb5.conf does not parse: %w", err)}
	}
	if c.User == "" {
		return nil // reported with the other settings
	}
	_, realm, err := kerberosPrincipal(c.User, conf)
	if err != nil {
		return []error{err}
	}
	if _, _, err := conf.GetKDCs(realm, true); err != nil && !conf.LibDefaults.DNSLookupKDC {
		return []error{fmt.Errorf("the krb5.conf lists no KDC for realm %s: add it under [realms] (kdc = dc01.example.com) or set dns_lookup_kdc = true", realm)}
	}
	return nil
}

// kerberosPrincipal reads the account as a Kerberos principal: user@REALM
// (the realm upper-cased), or DOMAIN\user and a bare user in the
// krb5.conf's default_realm, since a NetBIOS domain is not a realm.
func kerberosPrincipal(user string, conf *config.Config) (name, realm string, err error) {
	switch {
	case strings.Contains(user, "@"):
		i := strings.LastIndex(user, "@")
		name, realm = user[:i], strings.ToUpper(user[i+1:])
	case strings.Contains(user, `\`):
		_, name, _ = strings.Cut(user, `\`)
		realm = conf.LibDefaults.DefaultRealm
	default:
		name, realm = user, conf.LibDefaults.DefaultRealm
	}
	if name == "" {
		return "", "", fmt.Errorf("WinRM user %q: no account name for Kerberos", user)
	}
	if realm == "" {
		return "", "", fmt.Errorf("WinRM user %q names no realm and the krb5.conf has no default_realm: write the user as name@REALM", user)
	}
	return name, realm, nil
}

// kerberos is the transport's RoundTripper for AuthKerberos. It signs in
// once, lazily, on the first request, and reuses the service ticket.
// Safe for concurrent use.
type kerberos struct {
	next     http.RoundTripper // dials the inventory address, keeps the name for TLS
	conf     *config.Config
	name     string
	realm    string
	password secret.Secret
	spn      string
	host     string

	mu  sync.Mutex
	cur *ticket // the sign-in under way or done
}

// ticket is one sign-in: its result is set before done is closed.
type ticket struct {
	done chan struct{}
	at   time.Time
	tkt  messages.Ticket
	key  types.EncryptionKey
	err  error
}

// newKerberos wraps next for target under cfg, which Validate accepted.
func newKerberos(cfg Config, target Target, next http.RoundTripper) (*kerberos, error) {
	conf, err := config.NewFromString(string(cfg.Krb5Conf))
	if err != nil {
		return nil, fmt.Errorf("remote: krb5.conf: %w", err)
	}
	name, realm, err := kerberosPrincipal(cfg.User, conf)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	return &kerberos{next: next, conf: conf, name: name, realm: realm, password: cfg.Password,
		spn: "HTTP/" + strings.ToLower(strings.TrimSuffix(target.Name, ".")), host: target.Name}, nil
}

// RoundTrip sends req with a fresh AP-REQ, and checks the host's AP-REP.
func (k *kerberos) RoundTrip(req *http.Request) (*http.Response, error) {
	t, err := k.ticket(req.Context())
	if err != nil {
		return nil, err
	}
	token, auth, err := k.apReq(t)
	if err != nil {
		return nil, &Error{Host: k.host, Kind: ErrAuth, Help: "could not build the Kerberos request for " + k.spn, Err: err}
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(token))
	resp, err := k.next.RoundTrip(req)
	if err != nil || resp.StatusCode == http.StatusUnauthorized {
		return resp, err
	}
	if err := checkAPRep(resp.Header.Values("WWW-Authenticate"), t.key, auth); err != nil {
		resp.Body.Close()
		return nil, &Error{Host: k.host, Kind: ErrAuth, Err: err,
			Help: "the host's Kerberos answer does not prove it holds the key of " + k.spn + "; it may not be the host it claims to be"}
	}
	return resp, nil
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (k *kerberos) CloseIdleConnections() {
	if c, ok := k.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ticket returns the service ticket, signing in first if there is none,
// the last sign-in failed or its ticket is old. The KDC exchanges take no
// context, so they run on their own goroutine (each bounded by the
// library's per-KDC timeouts) and a cancelled caller returns at once; a
// sign-in that completes after its caller left serves the next request.
func (k *kerberos) ticket(ctx context.Context) (*ticket, error) {
	k.mu.Lock()
	t := k.cur
	if t == nil || t.expired() {
		t = &ticket{done: make(chan struct{})}
		k.cur = t
		go k.signIn(t)
	}
	k.mu.Unlock()
	select {
	case <-t.done:
		if t.err != nil {
			return nil, t.err
		}
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// expired reports whether a finished sign-in failed or is due a refresh.
func (t *ticket) expired() bool {
	select {
	case <-t.done:
		return t.err != nil || time.Since(t.at) > ticketRefresh
	default:
		return false
	}
}

// signIn gets a TGT with the password, then the service ticket, and
// forgets the TGT (Destroy also stops the library's renewal goroutine).
func (k *kerberos) signIn(t *ticket) {
	defer close(t.done)
	t.at = time.Now()
	if ip := net.ParseIP(strings.Trim(k.host, "[]")); ip != nil {
		t.err = &Error{Host: k.host, Kind: ErrAuth, Help: "Kerberos needs the host's name, not an IP address: put the FQDN its HTTP/ SPN is registered under (" +
			"for example host01.corp.example.com) in the inventory, or use NTLM"}
		return
	}
	cl := client.NewWithPassword(k.name, k.realm, string(k.password), k.conf, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		t.err = k.kdcError(err, false)
		return
	}
	tkt, key, err := cl.GetServiceTicket(k.spn)
	if err != nil {
		t.err = k.kdcError(err, true)
		return
	}
	t.tkt, t.key = tkt, key
}

// apReq builds the SPNEGO NegTokenInit carrying a new AP-REQ for t, with
// mutual authentication requested, and returns the authenticator so the
// answer can be checked against it.
func (k *kerberos) apReq(t *ticket) ([]byte, types.Authenticator, error) {
	auth, err := types.NewAuthenticator(k.realm, types.NewPrincipalName(1, k.name)) // 1: KRB_NT_PRINCIPAL
	if err != nil {
		return nil, auth, err
	}
	// RFC 4121 4.1.1: the GSS checksum carries the requested context flags.
	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum, 16)
	binary.LittleEndian.PutUint32(cksum[20:], gssapi.ContextFlagMutual|gssapi.ContextFlagInteg|gssapi.ContextFlagConf)
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: cksum}
	req, err := messages.NewAPReq(t.tkt, t.key, auth)
	if err != nil {
		return nil, auth, err
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	b, err := req.Marshal()
	if err != nil {
		return nil, auth, err
	}
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	mech := append(oid, 0x01, 0x00) // TOK_ID KRB_AP_REQ
	mech = asn1tools.AddASNAppTag(append(mech, b...), 0)
	tok := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
		MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()}, MechTokenBytes: mech}}
	out, err := tok.Marshal()
	return out, auth, err
}

// checkAPRep verifies the host's mutual-authentication token, when it
// sent one: an AP-REP sealed with the session key that repeats the
// authenticator's time (RFC 4120 3.2.5).
func checkAPRep(offered []string, key types.EncryptionKey, auth types.Authenticator) error {
	b := negotiateToken(offered)
	if b == nil {
		return nil
	}
	var resp spnego.NegTokenResp
	if err := resp.Unmarshal(b); err != nil {
		return fmt.Errorf("negotiate answer: %w", err)
	}
	if resp.State() != spnego.NegStateAcceptCompleted {
		return fmt.Errorf("negotiate answer in state %d, want accept-completed", resp.State())
	}
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(resp.ResponseToken); err != nil || !mt.IsAPRep() {
		return fmt.Errorf("negotiate answer holds no AP-REP: %v", err)
	}
	plain, err := crypto.DecryptEncPart(mt.APRep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("AP-REP does not open with the session key: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("AP-REP: %w", err)
	}
	if !part.CTime.Truncate(time.Second).Equal(auth.CTime.Truncate(time.Second)) || part.Cusec != auth.Cusec {
		return errors.New("AP-REP answers another authenticator")
	}
	return nil
}
