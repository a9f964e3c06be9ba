package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM is defined on MD4
)

// Authentication, as a Windows WinRM listener with Basic enabled does it:
//
//   - Basic: the configured User (bare name; "DOMAIN\user" and UPNs are
//     refused, as Windows only takes local accounts over Basic) and Password.
//   - Negotiate with raw NTLMSSP tokens (what Azure/go-ntlmssp, and so
//     winrm.ClientNTLM, sends): NTLMv2 only, verified per MS-NLMP 3.3.2.
//     The connection stays authenticated afterwards, as on Windows, so the
//     client's anonymous first try succeeds. A client that asks for SIGN,
//     SEAL and KEY_EXCH gets them, and the connection then carries WinRM
//     message encryption (sealing.go).
//   - Negotiate with a GSS token (SPNEGO or bare Kerberos) when
//     Options.Keytab is set: a Kerberos AP-REQ, verified in kerberos.go.
//     SPNEGO-wrapped NTLM (most non-Go clients) gets 401.
//   - Anything else, or the right password on a FaultAuthRefused host: 401
//     with an empty body and "WWW-Authenticate: Negotiate" plus
//     `WWW-Authenticate: Basic realm="WSMAN"`.

// connState is what a connection has negotiated; a Negotiate exchange and
// its result belong to one TCP connection.
type connState struct {
	mu        sync.Mutex
	challenge []byte       // outstanding NTLM server challenge
	negotiate []byte       // the client's NEGOTIATE and our CHALLENGE, for the MIC
	offered   []byte       // the CHALLENGE message sent
	flags     uint32       // negotiated NTLM flags
	authed    *host        // host this connection authenticated to
	session   *ntlmSession // message sealing, when negotiated
}

type connKey struct{}

// connContext gives each connection its connState (http.Server.ConnContext).
func connContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// authenticate checks a request's credentials. It returns the account name
// and true, or answers the request itself (401, or an NTLM challenge) and
// returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, h *host) (string, bool) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		if user, pass, ok := r.BasicAuth(); ok && s.checkBasic(h, user, pass) {
			return s.opt.User, true
		}
	case strings.EqualFold(scheme, "Negotiate") && cs != nil:
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
		if err == nil && isGSSToken(msg) {
			return s.authenticateKerberos(w, r, h, cs, msg)
		}
		if err != nil || len(msg) < 12 || !bytes.Equal(msg[:8], ntlmSignature) {
			break
		}
		switch binary.LittleEndian.Uint32(msg[8:]) {
		case 1:
			s.challenge(w, r, h, cs, msg)
			return "", false
		case 3:
			cs.mu.Lock()
			ok := cs.challenge != nil && s.verifyNTLM(h, cs, msg)
			cs.challenge = nil
			if ok {
				cs.authed = h
			}
			cs.mu.Unlock()
			if ok {
				return s.opt.User, true
			}
		}
	case scheme == "" && cs != nil:
		cs.mu.Lock()
		ok := cs.authed == h && h.m.Fault() != FaultAuthRefused
		cs.mu.Unlock()
		if ok {
			return s.opt.User, true
		}
	}
	unauthorized(w, r, h)
	return "", false
}

// checkBasic verifies Basic credentials in constant time.
func (s *Server) checkBasic(h *host, user, pass string) bool {
	if strings.ContainsAny(user, `\@`) || !strings.EqualFold(user, s.opt.User) {
		return false
	}
	ok := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opt.Password)) == 1
	return ok && h.m.Fault() != FaultAuthRefused
}

// unauthorized answers 401 the way Windows does: empty body, no
// Content-Type, both schemes offered.
func unauthorized(w http.ResponseWriter, r *http.Request, h *host) {
	h.ctr.unauthorized.Add(1)
	// Read the body so the connection can carry the client's next attempt,
	// which NTLM needs.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
	w.Header().Add("WWW-Authenticate", "Negotiate")
	w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	emptyStatus(w, http.StatusUnauthorized)
}

// NTLM negotiate flags used in the CHALLENGE message.
const (
	ntlmUnicode        = 0x00000001
	ntlmRequestTarget  = 0x00000004
	ntlmNTLM           = 0x00000200
	ntlmAlwaysSign     = 0x00008000
	ntlmTargetDomain   = 0x00010000
	ntlmTargetServer   = 0x00020000
	ntlmExtendedSecur  = 0x00080000
	ntlmTargetInfo     = 0x00800000
	ntlmVersion        = 0x02000000
	ntlm128            = 0x20000000
	ntlm56             = 0x80000000
	ntlmChallengeFlags = ntlmUnicode | ntlmRequestTarget | ntlmNTLM | ntlmAlwaysSign | ntlmExtendedSecur |
		ntlmTargetInfo | ntlmVersion | ntlm128 | ntlm56
)

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmTarget is the authority that owns the account: the domain, or the
// host itself for a local account.
func (s *Server) ntlmTarget(h *host) (string, uint32) {
	if s.opt.Domain != "" {
		return strings.ToUpper(s.opt.Domain), ntlmTargetDomain
	}
	return strings.ToUpper(h.name), ntlmTargetServer
}

// challenge answers an NTLM NEGOTIATE with a CHALLENGE (MS-NLMP 2.2.1.2).
// SIGN, SEAL and KEY_EXCH are granted only when the client asked for them,
// as Windows does: a client that wants message encryption asks for all
// three, and the Azure client (authentication only) asks for none and
// refuses a challenge with KEY_EXCH. LM_KEY is never offered.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, h *host, cs *connState, negotiate []byte) {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	var asked uint32
	if len(negotiate) >= 16 {
		asked = binary.LittleEndian.Uint32(negotiate[12:])
	}
	flags := uint32(ntlmChallengeFlags) | asked&ntlmSealing

	target, targetType := s.ntlmTarget(h)
	name := utf16le(target)
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100+116444736000000000))
	var info []byte
	for _, av := range []struct {
		id  uint16
		val []byte
	}{
		{2, name}, {1, utf16le(strings.ToUpper(h.name))}, {4, utf16le(s.domain)},
		{3, utf16le(h.fqdn)}, {7, ts}, {0, nil},
	} {
		info = binary.LittleEndian.AppendUint16(info, av.id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(av.val)))
		info = append(info, av.val...)
	}
	const header = 56
	msg := make([]byte, header, header+len(name)+len(info))
	copy(msg, ntlmSignature)
	le := binary.LittleEndian
	le.PutUint32(msg[8:], 2)
	le.PutUint16(msg[12:], uint16(len(name)))
	le.PutUint16(msg[14:], uint16(len(name)))
	le.PutUint32(msg[16:], header)
	le.PutUint32(msg[20:], flags|targetType)
	copy(msg[24:32], nonce)
	le.PutUint16(msg[40:], uint16(len(info)))
	le.PutUint16(msg[42:], uint16(len(info)))
	le.PutUint32(msg[44:], uint32(header+len(name)))
	msg[48], msg[49] = 10, 0 // version 10.0.20348, NTLM revision 15
	le.PutUint16(msg[50:], 20348)
	msg[55] = 15
	msg = append(msg, name...)
	msg = append(msg, info...)
	cs.mu.Lock()
	cs.challenge, cs.negotiate, cs.offered, cs.flags = nonce, append([]byte(nil), negotiate...), msg, flags|targetType
	cs.session = nil
	cs.mu.Unlock()

	h.ctr.unauthorized.Add(1)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
	w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(msg))
	emptyStatus(w, http.StatusUnauthorized)
}

// verifyNTLM checks an AUTHENTICATE message (MS-NLMP 2.2.1.3) against the
// challenge held in cs: the NTLMv2 proof must be HMAC-MD5(NTOWFv2,
// challenge || blob) with NTOWFv2 = HMAC-MD5(MD4(UTF-16LE(password)),
// UTF-16LE(UPPER(user) + domain)), using the user and domain the client
// sent. NTLMv1 responses (24 bytes) are refused, as current Windows does.
// When SIGN, SEAL and KEY_EXCH were negotiated it also recovers the
// client's session key, checks the MIC if the client sent one, and gives
// the connection its session security. Called with cs.mu held.
func (s *Server) verifyNTLM(h *host, cs *connState, msg []byte) bool {
	if len(msg) < 64 {
		return false
	}
	le := binary.LittleEndian
	field := func(off int) ([]byte, bool) {
		n, at := int(le.Uint16(msg[off:])), int(le.Uint32(msg[off+4:]))
		if at < 0 || n < 0 || at+n > len(msg) {
			return nil, false
		}
		return msg[at : at+n], true
	}
	nt, ok1 := field(20)
	dom, ok2 := field(28)
	usr, ok3 := field(36)
	encKey, ok4 := field(52)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(nt) < 16+28 {
		return false
	}
	unicode := le.Uint32(msg[60:])&ntlmUnicode != 0
	user, domain := decodeNTLMString(usr, unicode), decodeNTLMString(dom, unicode)
	if !s.ntlmAccount(h, user, domain) || h.m.Fault() == FaultAuthRefused {
		return false
	}
	hash := md4.New()
	hash.Write(utf16le(s.opt.Password))
	ntowf := hmacMD5(hash.Sum(nil), utf16le(strings.ToUpper(user)+domain))
	proof := hmacMD5(ntowf, cs.challenge, nt[16:])
	if !hmac.Equal(proof, nt[:16]) {
		return false
	}
	if cs.flags&ntlmSealing != ntlmSealing {
		return true
	}
	// MS-NLMP 3.3.2 and 3.4.5.1: with NTLMv2 the key exchange key is the
	// session base key, and the client's random key arrives RC4-encrypted
	// under it.
	if len(encKey) != 16 {
		return false
	}
	exported := make([]byte, 16)
	c, _ := rc4.NewCipher(hmacMD5(ntowf, proof))
	c.XORKeyStream(exported, encKey)
	if sendsMIC(nt[16+28:]) {
		if len(msg) < 88 {
			return false
		}
		zeroed := append([]byte(nil), msg...)
		clear(zeroed[72:88])
		if !hmac.Equal(hmacMD5(exported, cs.negotiate, cs.offered, zeroed), msg[72:88]) {
			return false
		}
	}
	cs.session = newNTLMSession(exported)
	return true
}

// sendsMIC reports whether the AV pairs of an NTLMv2 response carry
// MsvAvFlags with bit 0x2: the AUTHENTICATE message then holds a MIC.
func sendsMIC(av []byte) bool {
	le := binary.LittleEndian
	for len(av) >= 4 {
		id, n := le.Uint16(av), int(le.Uint16(av[2:]))
		if id == 0 || len(av) < 4+n {
			return false
		}
		if id == 6 && n == 4 {
			return le.Uint32(av[4:])&0x2 != 0
		}
		av = av[4+n:]
	}
	return false
}

// ntlmAccount reports whether user (bare or UPN) in domain names the
// configured account: the domain may be empty (UPN), ".", the host, the
// account's domain or the fleet's DNS domain.
func (s *Server) ntlmAccount(h *host, user, domain string) bool {
	bare, _, _ := strings.Cut(user, "@")
	if !strings.EqualFold(bare, s.opt.User) {
		return false
	}
	for _, ok := range []string{"", ".", h.name, s.opt.Domain, s.domain} {
		if strings.EqualFold(domain, ok) {
			return true
		}
	}
	return false
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func decodeNTLMString(b []byte, unicode bool) string {
	if !unicode {
		return string(b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
