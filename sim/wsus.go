package sim

import (
	"regexp"
	"strconv"
	"strings"
)

// What the WSUS server's scripts share: only the fleet's WSUS server has
// the WSUS administration API (wsus_inventory.go answers for it).

// allComputers is the WSUS group every client belongs to besides its own.
const allComputers = "All Computers"

// What the .NET web client says when WSUS cannot be reached; its
// WebException carries COR_E_WEB (0x80131509).
const hrWebException = 0x80131509

var (
	dnsLabel      = `[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?`
	serverPattern = regexp.MustCompile(`(?i)^` + dnsLabel + `(\.` + dnsLabel + `)*$`)
)

// wsusConnectError is why AdminProxy.GetUpdateServer(server, ssl, port)
// fails from the WSUS server itself, or "" when it connects: the server
// must name this host, and WSUS listens on 8530 (HTTP) and 8531 (HTTPS).
func (s *Server) wsusConnectError(server string, port int, ssl bool) string {
	name := strings.ToLower(server)
	self := name == "localhost" || name == "127.0.0.1" ||
		strings.EqualFold(name, s.wsus.name) || strings.EqualFold(name, s.wsus.fqdn)
	switch {
	case !self && s.lookup(name) == nil && net4(name) == "":
		return "The remote name could not be resolved: '" + server + "'"
	case !self || (ssl && port != 8531) || (!ssl && port != 8530):
		return "Unable to connect to the remote server"
	}
	return ""
}

// net4 returns name when it is a dotted IPv4 address, else "".
func net4(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return ""
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 255 {
			return ""
		}
	}
	return name
}
