package sim

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"wsusfix/remote/sealed"
)

// WinRM message encryption over plain HTTP (MS-WSMV 2.2.9.1), the server's
// half: after an NTLM handshake that negotiated SIGN, SEAL and KEY_EXCH,
// every message on the connection is a multipart/encrypted body holding an
// NTLM signature and the RC4-sealed SOAP (MS-NLMP 3.4, "connection-oriented"
// session security with extended session security and 128-bit keys).
//
// This is written from the specifications, independently of the client
// library's code, so a test that passes proves two implementations agree.

// NTLM flags that session security needs (MS-NLMP 2.2.2.5).
const (
	ntlmSign    = 0x00000010
	ntlmSeal    = 0x00000020
	ntlmKeyExch = 0x40000000
	ntlmSealing = ntlmSign | ntlmSeal | ntlmKeyExch
)

// Magic constants of MS-NLMP 3.4.5.2 and 3.4.5.3, NUL included.
var (
	clientSignMagic = []byte("session key to client-to-server signing key magic constant\x00")
	serverSignMagic = []byte("session key to server-to-client signing key magic constant\x00")
	clientSealMagic = []byte("session key to client-to-server sealing key magic constant\x00")
	serverSealMagic = []byte("session key to server-to-client sealing key magic constant\x00")
)

// ntlmSession is the server's session security for one authenticated
// connection: one RC4 stream and sequence number per direction, which run
// on from message to message, so messages must be handled in order.
type ntlmSession struct {
	mu              sync.Mutex
	inSign, outSign []byte
	in, out         *rc4.Cipher
	inSeq, outSeq   uint32
}

// newNTLMSession derives the server's keys from the exported session key
// (MS-NLMP 3.4.5: SIGNKEY and SEALKEY with extended session security and
// NEGOTIATE_128).
func newNTLMSession(exportedKey []byte) *ntlmSession {
	key := func(magic []byte) []byte {
		h := md5.Sum(append(append([]byte(nil), exportedKey...), magic...))
		return h[:]
	}
	in, _ := rc4.NewCipher(key(clientSealMagic)) // a 16-byte key cannot be refused
	out, _ := rc4.NewCipher(key(serverSealMagic))
	return &ntlmSession{inSign: key(clientSignMagic), outSign: key(serverSignMagic), in: in, out: out}
}

// errBadSeal is a message whose signature does not verify: tampered with,
// out of order, or sealed with other keys.
var errBadSeal = errors.New("sim: sealed message signature does not verify")

// unseal decrypts a client message and checks its signature (MS-NLMP
// 3.4.4.2 and 3.4.3: the message is decrypted first, then the checksum is
// taken over the plaintext and RC4-encrypted with the same stream).
func (s *ntlmSession) unseal(ciphertext, signature []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := make([]byte, len(ciphertext))
	s.in.XORKeyStream(msg, ciphertext)
	want := signature16(s.in, s.inSign, s.inSeq, msg)
	if !hmac.Equal(want, signature) {
		return nil, errBadSeal
	}
	s.inSeq++
	return msg, nil
}

// seal encrypts a reply and signs it.
func (s *ntlmSession) seal(msg []byte) (ciphertext, signature []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ciphertext = make([]byte, len(msg))
	s.out.XORKeyStream(ciphertext, msg)
	signature = signature16(s.out, s.outSign, s.outSeq, msg)
	s.outSeq++
	return ciphertext, signature
}

// signature16 is NTLMSSP_MESSAGE_SIGNATURE with extended session security
// and key exchange: version 1, RC4(HMAC_MD5(SignKey, seq || msg)[:8]), seq.
func signature16(stream *rc4.Cipher, signKey []byte, seq uint32, msg []byte) []byte {
	var seqBytes [4]byte
	binary.LittleEndian.PutUint32(seqBytes[:], seq)
	sum := hmacMD5(signKey, seqBytes[:], msg)[:8]
	sig := make([]byte, 16)
	binary.LittleEndian.PutUint32(sig, 1)
	stream.XORKeyStream(sig[4:12], sum)
	copy(sig[12:], seqBytes[:])
	return sig
}

// openSealed replaces an encrypted request's body with its plaintext. It
// fails if the connection has no session security or the message does not
// verify; the caller then answers 400 and drops the connection, since the
// RC4 streams can no longer be trusted to be in step.
func openSealed(r *http.Request, sess *ntlmSession) error {
	if sess == nil {
		return errors.New("sim: encrypted message on a connection without NTLM session security")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1024))
	if err != nil {
		return err
	}
	sig, ciphertext, length, err := sealed.Parse(raw)
	if err != nil {
		return err
	}
	msg, err := sess.unseal(ciphertext, sig)
	if err != nil {
		return err
	}
	if len(msg) != length {
		return fmt.Errorf("sim: encrypted body: OriginalContent says %d bytes, message has %d", length, len(msg))
	}
	r.Body = io.NopCloser(bytes.NewReader(msg))
	r.Header.Set("Content-Type", soapContentType)
	return nil
}

// sealWriter holds back a reply to seal it whole when the handler is done.
// Empty replies (401, 413) go out as they are, as Windows sends them.
type sealWriter struct {
	w        http.ResponseWriter
	sess     *ntlmSession
	status   int
	body     bytes.Buffer
	hijacked bool
}

// Header is the real writer's header, so handlers set it as usual.
func (s *sealWriter) Header() http.Header { return s.w.Header() }

// WriteHeader records the status for finish.
func (s *sealWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// Write buffers the plaintext reply.
func (s *sealWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.body.Write(p)
}

// Hijack passes through, so a dropped-connection fault still drops it.
func (s *sealWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("sim: connection cannot be hijacked")
	}
	s.hijacked = true
	return hj.Hijack()
}

// finish seals and sends the reply.
func (s *sealWriter) finish() {
	if s.hijacked || s.status == 0 {
		return
	}
	if s.body.Len() == 0 {
		s.w.WriteHeader(s.status)
		return
	}
	ciphertext, sig := s.sess.seal(s.body.Bytes())
	framed := sealed.Frame(sig, ciphertext, s.body.Len())
	h := s.w.Header()
	h.Set("Content-Type", sealed.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(framed)))
	s.w.WriteHeader(s.status)
	_, _ = s.w.Write(framed)
}
