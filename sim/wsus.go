package sim

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twin of wsus-failed-computers.ps1. Only the fleet's WSUS server has
// the WSUS administration API; there the script lists every simulated host
// that still has failed updates, from the hosts' live state: WSUS learns of
// failures and of repairs from the clients' reports, which the simulator
// treats as immediate.

// allComputers is the WSUS group every client belongs to besides its own.
const allComputers = "All Computers"

// eventRetention is how far back the script reads WSUS's event history,
// where the clients' error codes are.
const eventRetention = 90 * 24 * time.Hour

// What the .NET web client says when WSUS cannot be reached; its
// WebException carries COR_E_WEB (0x80131509).
const hrWebException = 0x80131509

var (
	dnsLabel      = `[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?`
	serverPattern = regexp.MustCompile(`(?i)^` + dnsLabel + `(\.` + dnsLabel + `)*$`)
)

// runWSUSFailedComputers is wsus-failed-computers.ps1.
func runWSUSFailedComputers(r *psRun, paramsB64 string) int {
	var p scripts.WSUSFailedComputersParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	server := p.Server
	if server == "" {
		server = "localhost"
	}
	port := 8530
	if p.UseSSL {
		port = 8531
	}
	port = intParam(p.Port, port, 65535)
	max := intParam(p.Max, 1000, 100000)
	if len(server) > 253 || !serverPattern.MatchString(server) {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "server must be a host name")
	}

	// Looking for the assembly, then for the module, takes a moment.
	if !r.sleep(r.vary(300*time.Millisecond, 500*time.Millisecond)) {
		return exitCtrlC
	}
	wsus := r.s.wsus
	if wsus == nil || wsus.m != r.m {
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSAPIMissing,
			`the WSUS administration API is not installed here (install the WSUS role or the "WSUS API and PowerShell cmdlets" feature)`)
	}

	scheme := "http"
	if p.UseSSL {
		scheme = "https"
	}
	r.text("Connecting to WSUS at " + scheme + "://" + server + ":" + strconv.Itoa(port) + ".")
	if !r.sleep(r.vary(200*time.Millisecond, 300*time.Millisecond)) {
		return exitCtrlC
	}
	if msg := r.s.wsusConnectError(server, port, p.UseSSL); msg != "" {
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: "+msg+" ("+hresultText(hrWebException)+")")
	}

	computers := r.s.failedComputers(time.Now())
	total := len(computers)
	r.text(strconv.Itoa(total) + " computers have failed updates.")
	listed := 0
	for _, c := range computers {
		if listed >= max {
			break
		}
		// Two API calls per computer (event history, installation info).
		if !r.sleep(r.vary(15*time.Millisecond, 25*time.Millisecond)) {
			return exitCtrlC
		}
		c.Header = r.header(scripts.KindComputer)
		r.line(c)
		listed++
	}
	if total > listed && listed >= max {
		r.warn(scripts.WarnTruncated, "listed "+strconv.Itoa(listed)+" of "+strconv.Itoa(total)+" computers (max "+strconv.Itoa(max)+")")
	}
	return r.complete(scripts.StatusOK, "", "listed "+strconv.Itoa(listed)+" computers with failed updates")
}

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

// failedComputers is what GetComputerTargets with the Failed installation
// state answers, with each computer's failed updates and, from the event
// history of the last 90 days before now, the client's error codes. The
// order is by FQDN, as WSUS lists computers.
func (s *Server) failedComputers(now time.Time) []scripts.Computer {
	var out []scripts.Computer
	for _, h := range s.hosts {
		st := h.m.State()
		pending := pendingUpdates(st.History)
		if len(pending) == 0 {
			continue
		}
		failed := make([]scripts.FailedUpdate, 0, len(pending))
		for _, e := range pending {
			f := scripts.FailedUpdate{UpdateID: e.UpdateID, KB: eventKB(e), Title: e.Title}
			if age := now.Sub(e.Time); age <= eventRetention {
				f.HResult, f.Time = e.HResult, psDate(e.Time)
			}
			failed = append(failed, f)
		}
		groups := []string{allComputers}
		if st.Group != "" {
			groups = append(groups, st.Group)
		}
		fqdn := strings.ToLower(h.fqdn)
		if fqdn == "" {
			fqdn = strings.ToLower(h.name)
		}
		short, _, _ := strings.Cut(fqdn, ".")
		out = append(out, scripts.Computer{
			ID: uuidFrom("wsus-computer:" + fqdn), Name: short, FQDN: fqdn, IP: h.ip.String(),
			OS: strings.TrimPrefix(st.OSCaption, "Microsoft "), Groups: groups,
			LastSync: psDate(st.LastReport), LastReported: psDate(st.LastReport), Failed: failed,
		})
	}
	slices.SortFunc(out, func(a, b scripts.Computer) int { return strings.Compare(a.FQDN, b.FQDN) })
	return out
}
