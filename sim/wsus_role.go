package sim

import (
	"strings"
	"sync"
	"time"
)

// This file is the WSUS server's own state, apart from its clients': which
// computers it lists, which updates vanished from its database, and the
// faults of its administration API. The answers themselves are in
// wsus_inventory.go.

// Faults of the WSUS server role, set on the fleet's WSUS server with
// SetFault like any other; on a client they change nothing, since only the
// WSUS server runs the inventory. They are kept out of Faults, whose
// catalogue is about repairing clients.
const (
	// FaultWSUSAPIMissing: the host answers WinRM but has neither the WSUS
	// role nor the "WSUS API and PowerShell cmdlets" feature, so the
	// Microsoft.UpdateServices.Administration assembly is not there
	// ("UpdateServices module", learn.microsoft.com, lists the feature
	// that installs it).
	FaultWSUSAPIMissing Fault = "wsus-api-missing"
	// FaultWSUSNoRights: the account is in neither WSUS Administrators nor
	// WSUS Reporters ("Securing WSUS with the principle of least
	// privilege", learn.microsoft.com). AdminProxy.GetUpdateServer talks
	// to the server's ApiRemoting30 web service, which answers 401, and the
	// API throws a WebException saying so.
	FaultWSUSNoRights Fault = "wsus-no-rights"
	// FaultWSUSTimeout: the API's SQL queries run with a command timeout the
	// caller cannot change (ralish/PSWsusSpringClean#1), and on a large or
	// unmaintained database GetSummariesPerComputerTarget runs past it; the
	// API throws the SqlException of an expired timeout (number -2).
	FaultWSUSTimeout Fault = "wsus-timeout"
)

// WSUSFaults lists the WSUS server role's faults in a stable order.
var WSUSFaults = []Fault{FaultWSUSAPIMissing, FaultWSUSNoRights, FaultWSUSTimeout}

// Texts the simulated API throws, as .NET words them.
const (
	unauthorizedText = "The request failed with HTTP status 401: Unauthorized."
	sqlTimeoutText   = "Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding."
)

// sqlCommandTimeout is SqlCommand.CommandTimeout's default, 30 seconds
// ("SqlCommand.CommandTimeout Property", learn.microsoft.com): how long a
// query that times out takes to say so.
const sqlCommandTimeout = 30 * time.Second

// clientEventExpiration is IUpdateServerConfiguration.ClientEventExpirationTime's
// default (bb294835 lists 15 days): WSUS deletes client events older than
// that, so GetUpdateEventHistory never returns them.
const clientEventExpiration = 15 * 24 * time.Hour

// defaultWSUSCallLatency is what one API call on the WSUS server costs when
// Options.WSUSCallLatency is zero, before ScriptTimeScale.
const defaultWSUSCallLatency = 20 * time.Millisecond

// wsusRole is the WSUS server's state; safe for concurrent use.
type wsusRole struct {
	mu      sync.Mutex
	removed map[*host]bool  // computers deleted from WSUS (or never registered)
	ghosts  map[string]bool // update ids whose metadata left the database
}

func (w *wsusRole) listed(h *host) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.removed[h]
}

func (w *wsusRole) ghost(updateID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ghosts[strings.ToLower(updateID)]
}

// RemoveFromWSUS deletes a computer from the WSUS server's list, as the
// console's Delete or the Server Cleanup Wizard's "computers not contacting
// the server" does; the host itself is untouched. It reports whether the
// host exists.
func (s *Server) RemoveFromWSUS(name string) bool {
	h := s.lookup(name)
	if h == nil {
		return false
	}
	s.role.mu.Lock()
	defer s.role.mu.Unlock()
	if s.role.removed == nil {
		s.role.removed = map[*host]bool{}
	}
	s.role.removed[h] = true
	return true
}

// AddToWSUS registers a computer with the WSUS server (again), as its
// Windows Update client does on its next detection: it reports at once, so
// its last report time becomes now. It reports whether the host exists.
func (s *Server) AddToWSUS(name string) bool {
	h := s.lookup(name)
	if h == nil {
		return false
	}
	s.role.mu.Lock()
	delete(s.role.removed, h)
	s.role.mu.Unlock()
	h.m.Update(func(st *HostState) { st.LastReport = time.Now().UTC() })
	return true
}

// SetGhostUpdate makes an update a "ghost": computers still report it as
// failed, but its metadata is gone from the WSUS database, so
// IUpdateInstallationInfo.GetUpdate throws WsusObjectNotFoundException, as
// after an interrupted cleanup.
func (s *Server) SetGhostUpdate(updateID string) {
	s.role.mu.Lock()
	defer s.role.mu.Unlock()
	if s.role.ghosts == nil {
		s.role.ghosts = map[string]bool{}
	}
	s.role.ghosts[strings.ToLower(updateID)] = true
}
