package sealed

import (
	"bytes"
	"strings"
	"testing"
)

// TestFrame pins the framing byte for byte to MS-WSMV 2.2.9.1.1's layout,
// as Windows sends it: tab-indented part headers, the plaintext's length,
// a little-endian signature length of 16.
func TestFrame(t *testing.T) {
	t.Parallel()
	sig := bytes.Repeat([]byte{0xAB}, 16)
	got := Frame(sig, []byte("SEALED"), 1234)
	want := "--Encrypted Boundary\r\n" +
		"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
		"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=1234\r\n" +
		"--Encrypted Boundary\r\n" +
		"\tContent-Type: application/octet-stream\r\n" +
		"\x10\x00\x00\x00" + strings.Repeat("\xab", 16) + "SEALED" +
		"--Encrypted Boundary--\r\n"
	if string(got) != want {
		t.Fatalf("Frame:\n got %q\nwant %q", got, want)
	}
	s, m, n, err := Parse(got)
	if err != nil || !bytes.Equal(s, sig) || string(m) != "SEALED" || n != 1234 {
		t.Fatalf("Parse(Frame) = %x, %q, %d, %v", s, m, n, err)
	}
}

// TestParse_Malformed ensures a broken body is an error, never a panic or
// a short read passed on as a message.
func TestParse_Malformed(t *testing.T) {
	t.Parallel()
	good := string(Frame(make([]byte, 16), []byte("x"), 1))
	for name, body := range map[string]string{
		"empty":              "",
		"no boundary":        strings.TrimPrefix(good, "--Encrypted Boundary\r\n"),
		"no closing":         strings.TrimSuffix(good, "--Encrypted Boundary--\r\n"),
		"bad length":         strings.Replace(good, "Length=1", "Length=-1", 1),
		"other protocol":     strings.Replace(good, "HTTP-SPNEGO", "HTTP-CredSSP", 1),
		"signature too long": strings.Replace(good, "\x10\x00\x00\x00", "\x11\x00\x00\x00", 1),
		"truncated":          good[:len(good)-len("--Encrypted Boundary--\r\n")-10] + "--Encrypted Boundary--\r\n",
	} {
		if _, _, _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	for ct, want := range map[string]bool{
		ContentType: true,
		`Multipart/Encrypted;protocol="application/http-spnego-session-encrypted";boundary="Encrypted Boundary"`: true,
		"application/soap+xml;charset=UTF-8":                                        false,
		`multipart/encrypted;protocol="application/HTTP-CredSSP-session-encrypted"`: false,
	} {
		if Is(ct) != want {
			t.Errorf("Is(%q) = %v", ct, !want)
		}
	}
}
