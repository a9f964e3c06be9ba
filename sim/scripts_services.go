package sim

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twins of stop-services.ps1 and start-services.ps1, and of the
// prelude's Stop-WsusfixService and Start-WsusfixService that rename.ps1
// uses too.

// How long a service takes to change state, before Options.ScriptTimeScale:
// Windows Update and its companions stop and start in well under a second
// unless something holds them.
const (
	serviceChangeBase   = 300 * time.Millisecond
	serviceChangeSpread = 700 * time.Millisecond
	servicePoll         = 250 * time.Millisecond // the prelude's Start-Sleep between polls
)

// runStopServices is stop-services.ps1: every service is attempted, even
// after one fails, so the report is complete.
func runStopServices(r *psRun, paramsB64 string) int {
	var p scripts.StopServicesParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	services, code, ok := r.serviceParams(p.Services)
	if !ok {
		return code
	}
	timeout := intParam(p.TimeoutSec, 60, 600)
	for _, n := range p.BestEffort {
		if !serviceNamePattern.MatchString(n) {
			return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "a service name holds characters no service name has")
		}
	}
	r.text("Stopping " + strings.Join(services, ", ") + " (up to " + strconv.Itoa(timeout) + " s each).")
	var stopped, notStopped, skipped []string
	for _, name := range services {
		ok, err := r.stopService(name, timeout)
		switch {
		case err != nil:
			return exitCtrlC
		case ok:
			stopped = append(stopped, name)
		case slices.ContainsFunc(p.BestEffort, func(b string) bool { return strings.EqualFold(b, name) }):
			skipped = append(skipped, name)
			r.warn(scripts.WarnServiceNotStopped, name+" did not stop; it is stopped only where it can be, so the repair goes on")
		default:
			notStopped = append(notStopped, name)
		}
	}
	// A trigger-started wuauserv comes back in the seconds after the
	// command ends, before the next one starts (FaultTriggerStart).
	defer r.triggerStart()
	if len(notStopped) > 0 {
		return r.complete(scripts.StatusFailed, scripts.ReasonStopFailed,
			"did not stop: "+strings.Join(notStopped, ", ")+"; a reboot may be needed")
	}
	message := "stopped: " + strings.Join(stopped, ", ")
	if len(skipped) > 0 {
		message += "; still running (best effort): " + strings.Join(skipped, ", ")
	}
	return r.complete(scripts.StatusOK, "", message)
}

// triggerStart starts wuauserv by itself, once per TriggerStarts, as a
// trigger (UsoSvc's schedule, a policy refresh) does on Windows 10 and
// later.
func (r *psRun) triggerStart() {
	r.m.Update(func(st *HostState) {
		if svc := st.Service("wuauserv"); st.TriggerStarts > 0 && svc != nil && svc.Status == StatusStopped {
			st.TriggerStarts--
			svc.Status = StatusRunning
			st.SoftwareDistribution = true
		}
	})
}

// runStartServices is start-services.ps1.
func runStartServices(r *psRun, paramsB64 string) int {
	var p scripts.StartServicesParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	services, code, ok := r.serviceParams(p.Services)
	if !ok {
		return code
	}
	timeout := intParam(p.TimeoutSec, 60, 600)
	// The script starts them in the reverse of the order they were stopped.
	slices.Reverse(services)
	r.text("Starting " + strings.Join(services, ", ") + " (up to " + strconv.Itoa(timeout) + " s each).")
	firstReason := ""
	var notStarted []string
	for _, name := range services {
		reason, err := r.startService(name, timeout)
		if err != nil {
			return exitCtrlC
		}
		if reason != "" {
			notStarted = append(notStarted, name)
			if firstReason == "" {
				firstReason = reason
			}
		}
	}
	if len(notStarted) > 0 {
		return r.complete(scripts.StatusFailed, firstReason,
			"did not start: "+strings.Join(notStarted, ", ")+"; Windows Update may stay unavailable until they run")
	}
	return r.complete(scripts.StatusOK, "", "running: "+strings.Join(services, ", "))
}

// startModeName is Get-WsusfixStartMode's answer for a service: the
// registry's Start value (and DelayedAutostart) as a word.
func startModeName(st *HostState, svc *Service) string {
	switch svc.StartMode {
	case StartAuto:
		// Before Windows 10, BITS is delayed auto-start (defaultServices).
		if major, _ := parseBuild(st.OSBuild); major < 10 && strings.EqualFold(svc.Name, "BITS") {
			return "auto_delayed"
		}
		return "auto"
	case StartManual:
		return "manual"
	case StartDisabled:
		return "disabled"
	}
	return "unknown"
}

// serviceSnapshot is what the scripts read about a service before acting.
type serviceSnapshot struct {
	present bool
	mode    string // Get-WsusfixStartMode
	status  string
	stuck   bool // FaultServiceStuck: it refuses to stop
}

// setStatus changes a service's status under the host's lock and returns
// the status it had. A service that starts running also does what Windows
// Update does on start: it recreates an absent SoftwareDistribution.
func (r *psRun) setStatus(name string, change func(snap serviceSnapshot) string) serviceSnapshot {
	var snap serviceSnapshot
	r.m.Update(func(st *HostState) {
		svc := st.Service(name)
		if svc == nil {
			return
		}
		snap = serviceSnapshot{present: true, mode: startModeName(st, svc), status: svc.Status,
			stuck: strings.EqualFold(st.StuckService, svc.Name)}
		if change == nil {
			return
		}
		svc.Status = change(snap)
		if svc.Status == StatusRunning && strings.EqualFold(svc.Name, "wuauserv") {
			st.SoftwareDistribution = true
		}
	})
	return snap
}

// serviceStatus reads a service's status ($sc.Refresh()).
func (r *psRun) serviceStatus(name string) string {
	return r.setStatus(name, nil).status
}

// writeService prints Write-WsusfixService's line.
func (r *psRun) writeService(name, action, status, previous, mode string, start time.Duration, ok bool, detail string) {
	r.line(scripts.Service{Header: r.header(scripts.KindService), Name: name, Action: action, Status: status,
		Previous: previous, StartMode: mode, WaitedMS: (r.clock - start).Milliseconds(), OK: ok, Detail: detail,
		Dependents: []string{}})
}

// stopService is Stop-WsusfixService: it stops one service and waits for
// it under timeoutSec, prints the text and "service" lines, and reports
// whether the service is stopped (or absent). Nothing on a simulated host
// depends on the services the repair stops, so dependents stay empty.
//
// The service control manager finishes a stop it accepted whether or not
// the script still waits, so a cancelled wait leaves the service Stopped,
// never half-way; the error is then errCancelled.
func (r *psRun) stopService(name string, timeoutSec int) (bool, error) {
	start := r.clock
	before := r.setStatus(name, func(snap serviceSnapshot) string {
		if snap.stuck || snap.status == StatusStopped {
			return snap.status
		}
		return StatusStopPending
	})
	if !before.present {
		r.text("  " + name + ": not installed, nothing to stop")
		r.writeService(name, "stop", "absent", "absent", "absent", start, true, "not installed on this host")
		return true, nil
	}
	ok, detail := true, ""
	switch {
	case before.status == StatusStopped:
		detail = "was already stopped"
	case before.stuck:
		// The service answers every stop request with error 1061 (it
		// cannot accept control messages), which the script retries until
		// its deadline.
		if !r.sleep(time.Duration(timeoutSec)*time.Second + servicePoll) {
			return false, errCancelled
		}
		ok = false
		detail = "still " + r.serviceStatus(name) + " after " + strconv.Itoa(timeoutSec) + " s"
	default:
		done := r.sleep(r.vary(serviceChangeBase, serviceChangeSpread))
		r.setStatus(name, func(serviceSnapshot) string { return StatusStopped })
		if !done {
			return false, errCancelled
		}
		detail = "stopped"
	}
	status := r.serviceStatus(name)
	if ok {
		r.text("  " + name + ": " + detail + " (" + strconv.FormatInt((r.clock-start).Milliseconds(), 10) + " ms)")
	} else {
		r.text("  " + name + ": did not stop: " + detail)
	}
	r.writeService(name, "stop", status, before.status, before.mode, start, ok, detail)
	return ok, nil
}

// startService is Start-WsusfixService: it starts one service and waits for
// Running under timeoutSec, prints the text and "service" lines, and
// returns "" on success or the reason code (service_disabled,
// start_timeout). A Disabled service is left alone. As with stops, a
// start that was accepted completes even when the wait is cancelled.
func (r *psRun) startService(name string, timeoutSec int) (string, error) {
	start := r.clock
	before := r.setStatus(name, func(snap serviceSnapshot) string {
		if snap.status == StatusStopped && snap.mode != "disabled" {
			return StatusStartPending
		}
		return snap.status
	})
	if !before.present {
		r.text("  " + name + ": not installed, nothing to start")
		r.writeService(name, "start", "absent", "absent", "absent", start, true, "not installed on this host")
		return "", nil
	}
	if before.mode == "disabled" && before.status != StatusRunning {
		detail := "start mode is Disabled; not changed"
		r.text("  " + name + ": " + detail)
		r.writeService(name, "start", before.status, before.status, before.mode, start, false, detail)
		return scripts.ReasonServiceDisabled, nil
	}
	reason, detail := "", ""
	switch before.status {
	case StatusRunning:
		detail = "was already running"
	case StatusStopped, StatusStartPending:
		done := r.sleep(r.vary(serviceChangeBase, serviceChangeSpread))
		r.setStatus(name, func(serviceSnapshot) string { return StatusRunning })
		if !done {
			return "", errCancelled
		}
		detail = "running"
	default:
		// Still stopping (another session's stop): it cannot be started
		// before it has stopped, and the script gives up at its deadline.
		if !r.sleep(time.Duration(timeoutSec)*time.Second + servicePoll) {
			return "", errCancelled
		}
		reason = scripts.ReasonStartTimeout
		detail = "still " + r.serviceStatus(name) + " after " + strconv.Itoa(timeoutSec) + " s"
	}
	status := r.serviceStatus(name)
	if reason == "" {
		r.text("  " + name + ": " + detail + " (" + strconv.FormatInt((r.clock-start).Milliseconds(), 10) + " ms)")
	} else {
		r.text("  " + name + ": did not start: " + detail)
	}
	r.writeService(name, "start", status, before.status, before.mode, start, reason == "", detail)
	return reason, nil
}
