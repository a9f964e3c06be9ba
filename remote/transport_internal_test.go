package remote

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// TestTransport_EmptyOK ensures an HTTP 200 without a body is an error:
// the library would take "" for a reply and crash parsing it.
func TestTransport_EmptyOK(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tr := plainTransport(t, srv, Config{Auth: AuthBasic, User: "u", Password: "p"})
	body, err := tr.Post(nil, soap.NewMessage())
	if !errors.Is(err, ErrFault) || body != "" {
		t.Fatalf("Post = %q, %v; want an ErrFault", body, err)
	}
}

// TestSealer_HostWithoutSealing ensures a host whose NTLM challenge does not
// grant sign, seal and key exchange is refused with advice, rather than
// sent messages in clear as the library's own transport would.
func TestSealer_HostWithoutSealing(t *testing.T) {
	t.Parallel()
	var posts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		// A CHALLENGE with NTLM, Unicode and extended session security only.
		challenge := make([]byte, 48)
		copy(challenge, "NTLMSSP\x00")
		challenge[8] = 2
		binary.LittleEndian.PutUint32(challenge[20:], 0x00000001|0x00000200|0x00080000)
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(challenge))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	tr := plainTransport(t, srv, Config{Auth: AuthNTLM, User: `CORP\u`, Password: "p"})
	_, err := tr.Post(nil, soap.NewMessage())
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrAuth || !strings.Contains(e.Help, "would not agree to NTLM message encryption") || e.Host != "pc1.corp.example" {
		t.Fatalf("Post = %v; want ErrAuth naming the missing encryption", err)
	}
	if posts != 1 {
		t.Fatalf("%d requests reached the host; want only the NEGOTIATE, nothing in clear", posts)
	}
}

// plainTransport is our transport for cfg on plain HTTP, with every
// connection going to srv whatever the host name.
func plainTransport(t *testing.T, srv *httptest.Server, cfg Config) *transport {
	t.Helper()
	cfg.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	tr := newTransport(cfg.withDefaults(), Target{Name: "pc1.corp.example"})
	if err := tr.Transport(&winrm.Endpoint{Host: "pc1.corp.example", Port: 5985}); err != nil {
		t.Fatal(err)
	}
	return tr
}
