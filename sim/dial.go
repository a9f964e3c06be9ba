package sim

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
)

// DialContext connects to the simulator for any host name: it is the dial
// function a client uses in place of the network's, so the product can use
// real host names (winrm.Parameters.Dial, or an http.Transport's
// DialContext). addr is "name:port"; any port is accepted. A name that is no
// host of the fleet fails like a failed DNS lookup (*net.DNSError, "no such
// host"); a host with FaultUnreachable fails like a refused connection
// (errors.Is(err, syscall.ECONNREFUSED)).
func (s *Server) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	name, port, err := net.SplitHostPort(addr)
	if err != nil {
		name = addr
	}
	h := s.lookup(name)
	if h == nil {
		return nil, &net.OpError{Op: "dial", Net: network,
			Err: &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}}
	}
	if h.m.Fault() == FaultUnreachable {
		h.ctr.dropped.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Addr: &net.TCPAddr{IP: h.ip, Port: portOr(port)},
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	target := s.Addr()
	if target == "" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("sim: server not listening")}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", target)
}

// portOr reads a port number, defaulting to WinRM's 5985.
func portOr(port string) int {
	if n, err := strconv.Atoi(port); err == nil {
		return n
	}
	return 5985
}

// Dial is DialContext without a context, the signature of
// winrm.Parameters.Dial and winrm.NewClientNTLMWithDial.
func (s *Server) Dial(network, addr string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, addr)
}
