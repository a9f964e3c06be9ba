// Package sealed is the framing of WinRM's encrypted messages (MS-WSMV
// 2.2.9.1.1): the multipart body that carries an NTLM signature and a
// sealed SOAP message on plain HTTP. Both the client (remote) and the
// simulated fleet (sim) use it; the cryptography is theirs, each written
// separately, so a test between the two checks one against the other.
package sealed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Protocol is the encryption protocol both ends announce for NTLM.
const Protocol = "application/HTTP-SPNEGO-session-encrypted"

// ContentType is the HTTP Content-Type of an encrypted message.
const ContentType = `multipart/encrypted;protocol="` + Protocol + `";boundary="Encrypted Boundary"`

// SOAPContentType is the type of the plaintext inside.
const SOAPContentType = "application/soap+xml;charset=UTF-8"

// SignatureSize is the size of an NTLM message signature.
const SignatureSize = 16

const boundary = "--Encrypted Boundary"

// Is reports whether an HTTP Content-Type announces an encrypted message.
func Is(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "multipart/encrypted") && strings.Contains(ct, strings.ToLower(Protocol))
}

// Frame builds an encrypted body around a sealed message; length is the
// plaintext's, which the receiver checks after unsealing:
//
//	--Encrypted Boundary\r\n
//	\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n
//	\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=N\r\n
//	--Encrypted Boundary\r\n
//	\tContent-Type: application/octet-stream\r\n
//	<uint32 LE signature length><signature><sealed message>
//	--Encrypted Boundary--\r\n
func Frame(signature, sealed []byte, length int) []byte {
	var b bytes.Buffer
	b.Grow(len(sealed) + 256)
	fmt.Fprintf(&b, "%s\r\n\tContent-Type: %s\r\n\tOriginalContent: type=%s;Length=%d\r\n%s\r\n\tContent-Type: application/octet-stream\r\n",
		boundary, Protocol, SOAPContentType, length, boundary)
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(signature)))
	b.Write(signature)
	b.Write(sealed)
	b.WriteString(boundary + "--\r\n")
	return b.Bytes()
}

// Parse takes the signature, sealed message and announced plaintext
// length out of an encrypted body. The parts' headers begin with a tab,
// which net/textproto refuses, so it is parsed by hand.
func Parse(body []byte) (signature, sealed []byte, length int, err error) {
	bad := func(what string) ([]byte, []byte, int, error) {
		return nil, nil, 0, fmt.Errorf("encrypted message: %s", what)
	}
	rest, ok := bytes.CutPrefix(body, []byte(boundary+"\r\n"))
	if !ok {
		return bad("no opening boundary")
	}
	head, rest, ok := bytes.Cut(rest, []byte(boundary+"\r\n"))
	if !ok {
		return bad("no second boundary")
	}
	_, lenText, ok := bytes.Cut(head, []byte("Length="))
	if !ok || !bytes.Contains(head, []byte(Protocol)) {
		return bad("no " + Protocol + " header with the original length")
	}
	if length, err = strconv.Atoi(string(bytes.TrimSpace(lenText))); err != nil || length < 0 {
		return bad("bad original length")
	}
	if rest, ok = bytes.CutPrefix(rest, []byte("\tContent-Type: application/octet-stream\r\n")); !ok {
		return bad("no octet-stream part")
	}
	if rest, ok = bytes.CutSuffix(rest, []byte(boundary+"--\r\n")); !ok {
		return bad("no closing boundary")
	}
	if len(rest) < 4+SignatureSize || binary.LittleEndian.Uint32(rest) != SignatureSize {
		return bad("bad signature")
	}
	return rest[4 : 4+SignatureSize], rest[4+SignatureSize:], length, nil
}
