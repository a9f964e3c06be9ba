package sim

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
)

// TestTLS_Client ensures HTTPS verifies against the simulator's CA for
// every name a host answers to, and fails without the CA.
func TestTLS_Client(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{TLS: true})
	tests := []struct {
		name, host string
		ca         []byte
		wantErr    string
	}{
		{"short name", "HOST-0001", s.CACertPEM(), ""},
		{"FQDN in mixed case", "Host-0002.Corp.Contoso.Test", s.CACertPEM(), ""},
		{"WSUS server", "wsus01", s.CACertPEM(), ""},
		{"no CA", "HOST-0001", nil, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClientWith(t, s, tt.host, clientConfig{https: true, ca: tt.ca})
			stdout, _, _, err := runCmd(t, c, "hostname")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.EqualFold(strings.TrimSpace(stdout), strings.Split(tt.host, ".")[0]) {
				t.Errorf("hostname = %q, %v", stdout, err)
			}
		})
	}
}

// TestTLS_Handshake ensures a name that is no host gets no certificate,
// and a client without SNI gets the default one for 127.0.0.1.
func TestTLS_Handshake(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{TLS: true})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CACertPEM is not PEM")
	}
	tests := []struct {
		name, serverName string
		wantErr          bool
	}{
		{"known host", "host-0001.corp.contoso.test", false},
		{"unknown name", "intruder.example", true},
		{"IP address, no SNI", "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: pool, ServerName: tt.serverName})
			if err == nil {
				conn.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("handshake err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
