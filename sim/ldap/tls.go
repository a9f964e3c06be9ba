package ldap

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	simpki "wsusfix/sim/internal/pki"
)

// pki is a test CA and the server certificate it issued, as PEM.
type pki struct {
	caPEM, certPEM, keyPEM []byte
}

// newPKI makes a CA named name and a server certificate for 127.0.0.1 and
// localhost, the names a client on loopback verifies.
func newPKI(name string) (pki, error) {
	ca, err := simpki.New(name, 7*24*time.Hour)
	if err != nil {
		return pki{}, err
	}
	key, err := simpki.NewKey()
	if err != nil {
		return pki{}, err
	}
	der, err := ca.Issue(key, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, 7*24*time.Hour)
	if err != nil {
		return pki{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pki{}, err
	}
	return pki{
		caPEM:   ca.PEM,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// write puts the three files in dir for slapd's TLS directives.
func (p pki) write(dir string) error {
	for name, b := range map[string][]byte{"ca.pem": p.caPEM, "server.pem": p.certPEM, "server.key": p.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return fmt.Errorf("ldap: %w", err)
		}
	}
	return nil
}

// OtherCA returns a CA certificate (PEM) that signed nothing this server
// presents: a client trusting only it must refuse the server.
func OtherCA() ([]byte, error) {
	p, err := newPKI("wsusfix sim unrelated CA")
	return p.caPEM, err
}
