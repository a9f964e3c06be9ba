package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
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
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pem     []byte
	leafKey *ecdsa.PrivateKey // shared by all leaves: issuing stays cheap
	domain  string

	mu     sync.Mutex
	leaves map[string]*tls.Certificate // by lower-case name; "" is the default
}

func newCertAuthority(domain string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "wsusfix simulated fleet CA", Organization: []string{"wsusfix sim"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{
		cert:    cert,
		key:     key,
		pem:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		leafKey: leafKey,
		domain:  strings.ToLower(domain),
		leaves:  map[string]*tls.Certificate{},
	}, nil
}

// serial returns a random 128-bit certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
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
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: dns[0]},
		DNSNames:     dns,
		IPAddresses:  ips,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 3, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leafKey.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ca.leafKey}
	ca.leaves[name] = c
	return c, nil
}
