package sim

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Kerberos, as a domain-joined Windows WinRM listener does it: a Negotiate
// token wrapping a Kerberos AP-REQ (SPNEGO, or a bare Kerberos GSS token)
// is verified with the host's key from Options.Keytab. The ticket must be
// for HTTP/<the host's FQDN> (the host the Host header names; a ticket for
// another host is refused even when the keytab holds that host's key too),
// issued to Options.User in Options.Realm, fresh (clock skew within five
// minutes) and not replayed. Success authenticates the connection, as NTLM
// does, and the answer carries the mutual-authentication token Windows
// sends: a SPNEGO accept-completed holding an AP-REP. No message
// encryption: plain HTTP is accepted as if AllowUnencrypted=true.

// maxClockSkew is Windows' default Kerberos tolerance.
const maxClockSkew = 5 * time.Minute

// kerberosState is the Server's Kerberos acceptor: the keytab, parsed on
// first use, and the replay cache. Safe for concurrent use.
type kerberosState struct {
	once   sync.Once
	keytab *keytab.Keytab
	err    error

	mu   sync.Mutex
	seen map[string]time.Time // authenticators accepted within maxClockSkew
}

// keys returns the parsed keytab, or why there is none.
func (s *Server) keys() (*keytab.Keytab, error) {
	k := &s.krb
	k.once.Do(func() {
		if len(s.opt.Keytab) == 0 {
			k.err = errors.New("no keytab: Kerberos is off")
			return
		}
		kt := keytab.New()
		if err := kt.Unmarshal(s.opt.Keytab); err != nil {
			k.err = fmt.Errorf("sim: Options.Keytab: %w", err)
			s.opt.Logger.Error("kerberos disabled", "error", k.err)
			return
		}
		k.keytab = kt
	})
	return k.keytab, k.err
}

// isGSSToken reports whether a Negotiate token is a GSS-API one (SPNEGO
// or Kerberos, ASN.1 [APPLICATION 0]) or a SPNEGO NegTokenResp, rather
// than raw NTLMSSP.
func isGSSToken(msg []byte) bool {
	return len(msg) > 2 && (msg[0] == 0x60 || msg[0] == 0xa1)
}

// authenticateKerberos verifies a GSS Negotiate token for host h. On
// success it marks the connection authenticated, sets the mutual
// authentication answer and returns the account; otherwise it answers 401.
func (s *Server) authenticateKerberos(w http.ResponseWriter, r *http.Request, h *host, cs *connState, msg []byte) (string, bool) {
	reply, err := s.acceptKerberos(r, h, msg)
	if err != nil {
		s.opt.Logger.Debug("kerberos refused", "host", h.name, "error", err)
		unauthorized(w, r, h)
		return "", false
	}
	cs.mu.Lock()
	cs.authed = h
	cs.mu.Unlock()
	w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(reply))
	return s.opt.User, true
}

// acceptKerberos checks the AP-REQ in msg and returns the SPNEGO answer.
func (s *Server) acceptKerberos(r *http.Request, h *host, msg []byte) ([]byte, error) {
	kt, err := s.keys()
	if err != nil {
		return nil, err
	}
	mech, apReq, err := parseAPReq(msg)
	if err != nil {
		return nil, err
	}
	// The ticket names the service it is for; Windows only accepts its own.
	want := "HTTP/" + h.fqdn
	if got := apReq.Ticket.SName.PrincipalNameString(); h.fqdn == "" || !strings.EqualFold(got, want) {
		return nil, fmt.Errorf("ticket for %s presented to %s", got, want)
	}
	if !strings.EqualFold(apReq.Ticket.Realm, s.opt.Realm) {
		return nil, fmt.Errorf("ticket from realm %s, want %s", apReq.Ticket.Realm, s.opt.Realm)
	}
	addr, _ := types.GetHostAddress(r.RemoteAddr)
	sname := types.NewPrincipalName(apReq.Ticket.SName.NameType, want)
	if ok, err := apReq.Verify(kt, maxClockSkew, addr, &sname); !ok || err != nil {
		return nil, fmt.Errorf("AP-REQ not valid: %v", err)
	}
	enc := apReq.Ticket.DecryptedEncPart
	if !strings.EqualFold(enc.CName.PrincipalNameString(), s.opt.User) || !strings.EqualFold(enc.CRealm, s.opt.Realm) {
		return nil, fmt.Errorf("client %s@%s is not the account %s@%s", enc.CName.PrincipalNameString(), enc.CRealm, s.opt.User, s.opt.Realm)
	}
	if h.m.Fault() == FaultAuthRefused {
		return nil, errors.New("host refuses the account")
	}
	if s.krb.replayed(apReq) {
		return nil, errors.New("authenticator replayed")
	}
	return apRepToken(mech, apReq)
}

// parseAPReq unwraps the AP-REQ from a SPNEGO NegTokenInit or a bare
// Kerberos GSS token, and returns the mechanism it came under.
func parseAPReq(msg []byte) (asn1.ObjectIdentifier, messages.APReq, error) {
	krb5, legacy := gssapi.OIDKRB5.OID(), gssapi.OIDMSLegacyKRB5.OID()
	mech, token := krb5, msg
	var tok spnego.SPNEGOToken
	if err := tok.Unmarshal(msg); err == nil {
		if !tok.Init || tok.NegTokenInit.MechTokenBytes == nil {
			return nil, messages.APReq{}, errors.New("SPNEGO token without an initial Kerberos token")
		}
		mech = nil
		for _, m := range tok.NegTokenInit.MechTypes {
			if m.Equal(krb5) || m.Equal(legacy) {
				mech = m
				break
			}
		}
		// The optimistic token is for the client's first mechanism.
		if len(tok.NegTokenInit.MechTypes) == 0 || !tok.NegTokenInit.MechTypes[0].Equal(mech) {
			return nil, messages.APReq{}, errors.New("SPNEGO offers no Kerberos token")
		}
		token = tok.NegTokenInit.MechTokenBytes
	}
	var kt spnego.KRB5Token
	if err := kt.Unmarshal(token); err != nil {
		return nil, messages.APReq{}, fmt.Errorf("kerberos token: %w", err)
	}
	if !kt.IsAPReq() {
		return nil, messages.APReq{}, errors.New("kerberos token is not an AP-REQ")
	}
	return mech, kt.APReq, nil
}

// replayed reports whether an authenticator was already accepted (RFC 4120
// 3.2.3), and remembers it otherwise.
func (k *kerberosState) replayed(a messages.APReq) bool {
	now := time.Now()
	key := a.Ticket.SName.PrincipalNameString() + "|" + a.Authenticator.CName.PrincipalNameString() + "@" + a.Authenticator.CRealm +
		"|" + a.Authenticator.CTime.UTC().Format(time.RFC3339) + "." + strconv.Itoa(a.Authenticator.Cusec)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen == nil {
		k.seen = map[string]time.Time{}
	}
	if len(k.seen) > 4096 {
		for s, at := range k.seen {
			if now.Sub(at) > maxClockSkew {
				delete(k.seen, s)
			}
		}
	}
	if _, ok := k.seen[key]; ok {
		return true
	}
	k.seen[key] = now
	return false
}

// apRepToken is Windows' answer to a good AP-REQ: a NegTokenResp,
// accept-completed, whose response token is a Kerberos AP-REP proving the
// host holds the ticket's key (RFC 4121 4.1, RFC 4120 5.5.2).
func apRepToken(mech asn1.ObjectIdentifier, req messages.APReq) ([]byte, error) {
	part := messages.EncAPRepPart{CTime: req.Authenticator.CTime, Cusec: req.Authenticator.Cusec,
		SequenceNumber: req.Authenticator.SeqNumber}
	b, err := asn1.Marshal(part)
	if err != nil {
		return nil, fmt.Errorf("marshal EncAPRepPart: %w", err)
	}
	b = asn1tools.AddASNAppTag(b, asnAppTag.EncAPRepPart)
	ed, err := crypto.GetEncryptedData(b, req.Ticket.DecryptedEncPart.Key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, fmt.Errorf("encrypt AP-REP: %w", err)
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, fmt.Errorf("marshal AP-REP: %w", err)
	}
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	inner := append(oid, 0x02, 0x00) // TOK_ID KRB_AP_REP
	inner = append(inner, asn1tools.AddASNAppTag(rep, asnAppTag.APREP)...)
	resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateAcceptCompleted), SupportedMech: mech,
		ResponseToken: asn1tools.AddASNAppTag(inner, 0)}
	return resp.Marshal()
}
