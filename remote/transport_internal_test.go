package remote

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// TestTransport_EmptyOK ensures an HTTP 200 without a body is an error:
// the library would take "" for a reply and crash parsing it.
func TestTransport_EmptyOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	cfg := Config{Auth: AuthBasic, User: "u", Password: "p",
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		}}.withDefaults()
	tr := newTransport(cfg, Target{Name: "pc1.corp.example"})
	if err := tr.Transport(&winrm.Endpoint{Host: "pc1.corp.example", Port: 5985}); err != nil {
		t.Fatal(err)
	}
	body, err := tr.Post(nil, soap.NewMessage())
	if !errors.Is(err, ErrFault) || body != "" {
		t.Fatalf("Post = %q, %v; want an ErrFault", body, err)
	}
}
