package sim

import (
	"crypto/ecdsa"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"wsusfix/sim/internal/pki"
)

// HTTPS certificates. A CA is generated when the Server is built; clients
// trust it through CACertPEM. Leaf certificates are issued on demand in
// GetCertificate for the exact name the client asked for (its SNI), so every
// short name and FQDN of the fleet verifies, in any case, without one
// certificate listing thousands of names. Names that are no host get no
// certificate: the handshake fails. A client that sends no SNI (it dialled
// an IP address) gets a default certificate for 127.0.0.1, "localhost" and
// the fleet's wildcard "*.<domain>".

// certAuthority issues and caches the simulator's certificates. It is safe
// for concurrent use.
type certAuthority struct {
	ca      *pki.CA
	pem     []byte
	leafKey *ecdsa.PrivateKey // shared by all leaves: issuing stays cheap
	domain  string

	mu     sync.Mutex
	leaves map[string]*tls.Certificate // by lower-case name; "" is the default
}

func newCertAuthority(domain string) (*certAuthority, error) {
	ca, err := pki.New("wsusfix simulated fleet CA", 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	leafKey, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	return &certAuthority{
		ca:      ca,
		pem:     ca.PEM,
		leafKey: leafKey,
		domain:  strings.ToLower(domain),
		leaves:  map[string]*tls.Certificate{},
	}, nil
}

// serverConfig is the TLS configuration of the listener; known reports
// whether a name is a host of the fleet.
func (ca *certAuthority) serverConfig(known func(string) *host) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}, // hijacking (dropped connections) needs HTTP/1
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
			if name != "" && known(name) == nil {
				return nil, fmt.Errorf("sim: no host named %q", hello.ServerName)
			}
			return ca.leaf(name)
		},
	}
}

// leaf returns the cached certificate for name, issuing it on first use.
func (ca *certAuthority) leaf(name string) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c := ca.leaves[name]; c != nil {
		return c, nil
	}
	dns := []string{name}
	var ips []net.IP
	if name == "" {
		dns = []string{"localhost"}
		if ca.domain != "" {
			dns = append(dns, "*."+ca.domain)
		}
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := ca.ca.Issue(ca.leafKey, dns, ips, 90*24*time.Hour)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ca.leafKey}
	ca.leaves[name] = c
	return c, nil
}
