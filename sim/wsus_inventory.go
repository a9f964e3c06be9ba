package sim

import (
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twin of wsus-inventory.ps1, the inventory sync's collector. It
// answers from the clients' live state as the WSUS server would know it
// from their reports (which the simulator treats as immediate), minus the
// computers removed from WSUS (wsus_role.go). Each API call the script
// makes costs Options.WSUSCallLatency of simulated time.

// wsusRowCost is what each row a listing call returns adds to its latency.
const wsusRowCost = 10 * time.Microsecond

// inventoryComputer is one computer as the WSUS database holds it, with its
// failed updates' error events.
type inventoryComputer struct {
	rec     scripts.InventoryComputer
	pending []Event // updates whose newest installation failed, newest first
}

// runWSUSInventory is wsus-inventory.ps1.
func runWSUSInventory(r *psRun, paramsB64 string) int {
	var p scripts.WSUSInventoryParams
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
	batchSize := intParam(p.BatchSize, 200, 500)
	eventDays := intParam(p.EventDays, 15, 90)
	if len(server) > 253 || !serverPattern.MatchString(server) {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "server must be a host name")
	}
	var since time.Time
	if p.Since != "" {
		t, err := time.Parse(time.RFC3339, p.Since)
		if err != nil {
			return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "since must be an RFC 3339 time such as 2026-11-23T22:45:01Z")
		}
		since = t.UTC()
	}

	// Looking for the assembly, then for the module, takes a moment.
	if !r.sleep(r.vary(300*time.Millisecond, 500*time.Millisecond)) {
		return exitCtrlC
	}
	wsus := r.s.wsus
	fault := r.m.Fault()
	if wsus == nil || wsus.m != r.m || fault == FaultWSUSAPIMissing {
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSAPIMissing,
			`the WSUS administration API is not installed here (install the WSUS role or the "WSUS API and PowerShell cmdlets" feature)`)
	}

	scheme := "http"
	if p.UseSSL {
		scheme = "https"
	}
	r.text("Connecting to WSUS at " + scheme + "://" + server + ":" + strconv.Itoa(port) + ".")
	// GetUpdateServer, then GetComputerTargetGroups.
	if !r.apiCall(2, 0) {
		return exitCtrlC
	}
	if msg := r.s.wsusConnectError(server, port, p.UseSSL); msg != "" {
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSConnectFailed,
			"could not connect to WSUS: "+msg+" ("+hresultText(hrWebException)+")")
	}
	if fault == FaultWSUSNoRights {
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSAccessDenied,
			"the account is in neither WSUS Administrators nor WSUS Reporters on this server: "+unauthorizedText)
	}

	serverTime := r.now().UTC()
	from := since
	if since.IsZero() {
		r.text("Reading every computer (full reconcile).")
		from = serverTime.AddDate(0, 0, -eventDays)
	} else {
		r.text("Reading the computers that reported since " + psDate(since) + ".")
	}
	computers := r.s.inventory(since)
	// GetComputerTargets, then GetSummariesPerComputerTarget.
	if !r.apiCall(1, len(computers)) {
		return exitCtrlC
	}
	if fault == FaultWSUSTimeout {
		if !r.sleep(sqlCommandTimeout) {
			return exitCtrlC
		}
		return r.complete(scripts.StatusFailed, scripts.ReasonWSUSTimeout, "the WSUS query timed out: "+sqlTimeoutText)
	}
	codes, events := r.s.errorEvents(from, serverTime)
	// The summaries and the event history.
	if !r.apiCall(2, len(computers)+events) {
		return exitCtrlC
	}
	r.text(strconv.Itoa(len(computers)) + " computers, " + strconv.Itoa(events) + " error events.")

	updates := map[string]bool{} // update id -> known (false: a ghost), as the script's $updates
	failing, ghosts, batchNo := 0, 0, 0
	batch := make([]scripts.InventoryComputer, 0, batchSize)
	for _, c := range computers {
		rec := c.rec
		rec.Failed = []scripts.FailedUpdate{}
		if rec.FailedCount > 0 {
			// GetUpdateInstallationInfoPerUpdate, one per failing computer.
			if !r.apiCall(1, len(c.pending)) {
				return exitCtrlC
			}
			failing++
		}
		for _, e := range c.pending {
			id := strings.ToLower(e.UpdateID)
			known, seen := updates[id]
			if !seen {
				// GetUpdate, once per update.
				if !r.apiCall(1, 0) {
					return exitCtrlC
				}
				known = !r.s.role.ghost(id)
				updates[id] = known
				if !known {
					ghosts++
					r.warn(scripts.WarnGhostUpdate, "update "+id+" is missing from the WSUS database; skipped")
				}
			}
			if !known {
				continue
			}
			f := scripts.FailedUpdate{UpdateID: id, KB: eventKB(e), Title: e.Title}
			if ev, ok := codes[rec.ID+"|"+id]; ok {
				f.HResult, f.Time = ev.HResult, psDate(ev.Time)
			}
			rec.Failed = append(rec.Failed, f)
		}
		batch = append(batch, rec)
		if len(batch) >= batchSize {
			r.line(scripts.ComputerBatch{Header: r.header(scripts.KindComputers), Batch: batchNo, Total: len(computers), Computers: batch})
			batchNo++
			batch = make([]scripts.InventoryComputer, 0, batchSize)
		}
	}
	if len(batch) > 0 {
		r.line(scripts.ComputerBatch{Header: r.header(scripts.KindComputers), Batch: batchNo, Total: len(computers), Computers: batch})
	}
	res := scripts.Result{Header: r.header(scripts.KindResult), Status: scripts.StatusOK,
		Message:    "listed " + strconv.Itoa(len(computers)) + " computers, " + strconv.Itoa(failing) + " with failed updates",
		ServerTime: psDate(serverTime), Computers: len(computers), Failing: failing, Events: events, Ghosts: ghosts}
	r.line(res)
	return scripts.ExitOK
}

// apiCall lets calls API calls returning rows rows in all take their time.
func (r *psRun) apiCall(calls, rows int) bool {
	return r.sleep(time.Duration(calls)*r.s.opt.WSUSCallLatency + time.Duration(rows)*wsusRowCost)
}

// inventory is what GetComputerTargets answers: every computer WSUS
// lists, or with a since those whose LastReportedStatusTime is at or after
// it (ComputerTargetScope.FromLastReportedStatusTime, aa351824), with the
// counts GetSummariesPerComputerTarget gives for all updates. The API's
// documentation promises no order, so the computers come in the fleet's
// order, unsorted, and the client must not depend on one.
func (s *Server) inventory(since time.Time) []inventoryComputer {
	var out []inventoryComputer
	done := map[string]bool{} // scratch for each host's updates, reused
	for _, h := range s.hosts {
		if !s.role.listed(h) {
			continue
		}
		h.m.view(func(st *HostState) {
			if !since.IsZero() && st.LastReport.Before(since) {
				return
			}
			// pending is a new slice of copied events: nothing of the
			// state leaves the lock.
			pending := pendingUpdatesInto(done, st.History)
			out = append(out, inventoryComputer{rec: s.inventoryRecord(h, st, len(pending), done), pending: pending})
		})
	}
	return out
}

// inventoryRecord is one computer target: its identity as WSUS stores it
// (IComputerTarget: Id, FullDomainName, IPAddress, OSDescription, OSInfo)
// and its IUpdateSummary counts. Needed is NotInstalledCount plus
// DownloadedCount, as the console's "needed" column adds them; the updates
// not yet installed are made up per computer, as the history holds only
// what the client attempted.
// failed is how many updates the host failed (pendingUpdates), and done a
// map to reuse.
func (s *Server) inventoryRecord(h *host, st *HostState, failed int, done map[string]bool) scripts.InventoryComputer {
	fqdn := wsusFQDN(h)
	short, _, _ := strings.Cut(fqdn, ".")
	// Every computer is in All Computers, and in each group it was put
	// in, which may be several: GetComputerTargetGroups returns "the
	// collection of computer groups to which this computer belongs", and
	// ComputerTargetGroupIds their ids, which the collector reads
	// (https://learn.microsoft.com/en-us/previous-versions/windows/desktop/aa349540(v=vs.85)).
	// The list's order is the simulator's own, as Microsoft documents
	// none: All Computers, the group the fleet calls primary, the others.
	// The store keeps a stored primary whatever the order, so a real
	// server's order decides only a host's first primary.
	groups := []string{allComputers}
	if st.Group != "" {
		groups = append(groups, st.Group)
	}
	groups = append(groups, st.OtherGroups...)
	_, build := parseBuild(st.OSBuild)
	installed := 0
	clear(done)
	for _, e := range st.History {
		if e.Operation != OperationInstallation || done[e.UpdateID] {
			continue
		}
		done[e.UpdateID] = true
		if e.Result == ResultSucceeded || e.Result == ResultSucceededWithErrors {
			installed++
		}
	}
	pendingReboot := 0
	if st.RebootPending {
		pendingReboot = 1
	}
	return scripts.InventoryComputer{
		ID: wsusComputerID(h), Name: short, FQDN: fqdn, IP: h.ip.String(),
		OS: strings.TrimPrefix(st.OSCaption, "Microsoft "), OSBuild: build, OSVersion: osVersion(st.OSBuild), // OSInfo.Version is an OSVersion: Major.Minor.Build, no UBR (ms752750)
		Groups:   groups,
		LastSync: psDate(st.LastReport), LastReported: psDate(st.LastReport),
		FailedCount: failed, NeededCount: len(st.Downloaded) + int(fnv("needed:"+fqdn)%4),
		PendingRebootCount: pendingReboot, InstalledCount: installed,
	}
}

// errorEvent is the newest error a client reported for one update.
type errorEvent struct {
	HResult uint32
	Time    time.Time
}

// errorEvents is GetUpdateEventHistory(from, to) filtered on IsError as the
// script does: the newest error per computer id and update id, and how many
// error events there were. Events older than ClientEventExpirationTime
// (15 days, bb294835) are gone whatever the window, and computers removed
// from WSUS take their events with them.
func (s *Server) errorEvents(from, to time.Time) (map[string]errorEvent, int) {
	expired := to.Add(-clientEventExpiration)
	codes := map[string]errorEvent{}
	n := 0
	for _, h := range s.hosts {
		if !s.role.listed(h) {
			continue
		}
		id := wsusComputerID(h)
		h.m.view(func(st *HostState) {
			for _, e := range st.History {
				if e.Result != ResultFailed || e.HResult == 0 || e.Time.Before(from) || e.Time.Before(expired) || e.Time.After(to) {
					continue
				}
				n++
				key := id + "|" + strings.ToLower(e.UpdateID)
				if old, ok := codes[key]; !ok || old.Time.Before(e.Time) {
					codes[key] = errorEvent{HResult: e.HResult, Time: e.Time}
				}
			}
		})
	}
	return codes, n
}

// wsusFQDN is a computer's FullDomainName: the name the client reported
// (the FullDomainName property of IComputerTarget, in Microsoft's WSUS
// administration API reference), in whatever case it was
// given; no documentation promises a case, so the simulator does not fold
// it and the store matches names without case.
func wsusFQDN(h *host) string {
	if h.fqdn == "" {
		return h.name
	}
	return h.fqdn
}

// wsusComputerID is the computer target's Id: a GUID WSUS gives a computer
// when it first registers, made up here from its name so it is stable.
func wsusComputerID(h *host) string {
	return h.wsusID
}
