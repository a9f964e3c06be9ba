package sim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twins of rename.ps1 and cleanup.ps1: the folders in %windir%.

// What a locked SoftwareDistribution looks like to [IO.Directory]::Move: an
// IOException for the sharing violation ERROR_SHARING_VIOLATION.
const (
	hrSharingViolation  = 0x80070020
	msgSharingViolation = "The process cannot access the file because it is being used by another process."
)

// backupPrefix starts the name of every folder rename makes.
const backupPrefix = "SoftwareDistribution.SDTemp-"

var (
	// The scripts match with -match / -notmatch, which ignore case.
	stampPattern  = regexp.MustCompile(`(?i)^[0-9]{8}T[0-9]{6}Z$`)
	backupPattern = regexp.MustCompile(`(?i)^SoftwareDistribution\.SDTemp-[0-9]{8}T[0-9]{6}Z$`)
)

// holdsFolder lists the services that keep files open in
// SoftwareDistribution while they run, so the folder cannot be renamed.
var holdsFolder = []string{"wuauserv", "BITS", "DoSvc"}

// runRename is rename.ps1: skip when the folder is gone, refuse an existing
// target, then try the move up to the attempts, stopping the services again
// between tries.
func runRename(r *psRun, paramsB64 string) int {
	var p scripts.RenameParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	attempts := intParam(p.Attempts, 5, 20)
	delay := intParam(p.RetryDelaySec, 2, 60)
	services, code, ok := r.serviceParams(p.Services)
	if !ok {
		return code
	}
	timeout := intParam(p.TimeoutSec, 60, 600)
	if !stampPattern.MatchString(p.Stamp) {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "stamp must look like 20261123T224501Z")
	}
	backup := backupPrefix + p.Stamp
	from := windowsDir + `\SoftwareDistribution`
	to := windowsDir + `\` + backup

	st := r.m.State()
	targetExists := slices.ContainsFunc(st.Backups, func(b string) bool { return strings.EqualFold(b, backup) })
	if !st.SoftwareDistribution {
		detail := from + " does not exist"
		if targetExists {
			detail = "already renamed to " + to
		}
		r.text("Nothing to rename: " + detail + ".")
		r.line(scripts.RenameAttempt{Header: r.header(scripts.KindRename), From: from, To: to, OK: true, Detail: detail})
		return r.complete(scripts.StatusSkipped, scripts.ReasonAbsent, detail)
	}
	if targetExists {
		r.line(scripts.RenameAttempt{Header: r.header(scripts.KindRename), From: from, To: to, Detail: "the target already exists"})
		return r.complete(scripts.StatusFailed, scripts.ReasonTargetExists, to+" already exists; use a new stamp")
	}

	r.text("Renaming " + from + " to " + to + ".")
	reason, lastError := scripts.ReasonRenameFailed, ""
	for attempt := 1; attempt <= attempts; attempt++ {
		// The services are stopped again before every attempt, the first
		// included: a trigger may have started wuauserv since stop-services.
		if attempt == 1 {
			r.text("Stopping the services once more, in case a trigger started one since the last step.")
		} else {
			if !r.sleep(time.Duration(delay) * time.Second) {
				return exitCtrlC
			}
			r.text("Stopping the services again before the next attempt.")
		}
		for _, name := range services {
			if _, err := r.stopService(name, timeout); err != nil {
				return exitCtrlC
			}
		}
		if !r.sleep(r.vary(20*time.Millisecond, 80*time.Millisecond)) {
			return exitCtrlC
		}
		renamed, exists := r.tryRename(backup, p.Stamp)
		if renamed {
			r.line(scripts.RenameAttempt{Header: r.header(scripts.KindRename), From: from, To: to, Attempt: attempt, OK: true, Detail: "renamed"})
			r.text("Renamed on attempt " + strconv.Itoa(attempt) + ".")
			return r.complete(scripts.StatusOK, "", "renamed "+from+" to "+to)
		}
		hr := uint32(hrSharingViolation)
		lastError, reason = msgSharingViolation, scripts.ReasonRenameLocked
		if !exists {
			// Gone since the check above: another session renamed it.
			hr, lastError = 0x80070003, "Could not find a part of the path '"+from+"'."
		}
		r.line(scripts.RenameAttempt{Header: r.header(scripts.KindRename), From: from, To: to, Attempt: attempt, HResult: hr, Detail: lastError})
		r.text("Attempt " + strconv.Itoa(attempt) + " of " + strconv.Itoa(attempts) + " failed: " + lastError)
	}
	return r.complete(scripts.StatusFailed, reason,
		"could not rename "+from+" after "+strconv.Itoa(attempts)+" attempts: "+lastError)
}

// tryRename is one [IO.Directory]::Move. It fails while FaultFolderLocked
// still has locked attempts to spend, or while a service that holds files
// in the folder runs. Success moves the folder, and with it the agent's
// datastore: QueryHistory then shows nothing older, and the next search
// rebuilds it (the first such search may exceed the server round trips).
func (r *psRun) tryRename(backup, stamp string) (renamed, exists bool) {
	r.m.Update(func(st *HostState) {
		if exists = st.SoftwareDistribution; !exists {
			return
		}
		if st.LockedRenames > 0 {
			st.LockedRenames--
			return
		}
		for _, name := range holdsFolder {
			// A service that refuses to stop is idle here: a DoSvc that does
			// not download holds nothing in SoftwareDistribution
			// (FaultDoSvcStuck). One that holds files is FaultFolderLocked.
			idle := strings.EqualFold(st.StuckService, name) && !strings.EqualFold(name, "wuauserv")
			if svc := st.Service(name); svc != nil && svc.Status != StatusStopped && !idle {
				return
			}
		}
		renamed = true
		st.SoftwareDistribution = false
		st.Backups = append(st.Backups, backup)
		st.HistorySince = time.Now().Add(st.ClockSkew)
		st.Repair = RepairRenamed
		st.Searched = false
		st.SearchTrips = 0
		if fnv(st.Name+stamp)%3 == 0 {
			st.SearchTrips = 1
		}
		if st.CLR == "4.0" {
			// FaultDotNet40: two round-trip failures, which only a
			// correctly read HRESULT retries.
			st.SearchTrips = 2
		}
	})
	return renamed, exists
}

// runCleanup is cleanup.ps1, which never fails: problems become warnings.
func runCleanup(r *psRun, paramsB64 string) int {
	r.neverFail = true
	var p scripts.CleanupParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	keep := intParam(p.Keep, 1, 100)

	var backups []string
	for _, b := range r.m.State().Backups {
		if backupPattern.MatchString(b) {
			backups = append(backups, b)
		}
	}
	// The stamp's fixed width makes name order time order. Sort-Object
	// compares without case, as does this.
	slices.SortFunc(backups, func(a, b string) int { return strings.Compare(strings.ToUpper(b), strings.ToUpper(a)) })
	r.text("Found " + strconv.Itoa(len(backups)) + " backups of SoftwareDistribution; keeping the newest " + strconv.Itoa(keep) + ".")

	var freed int64
	removed := 0
	for i, name := range backups {
		path := windowsDir + `\` + name
		if i < keep {
			r.line(scripts.Folder{Header: r.header(scripts.KindFolder), Path: path, Detail: "kept"})
			continue
		}
		// Deleting tens of thousands of small files takes a while.
		if !r.sleep(r.vary(400*time.Millisecond, 800*time.Millisecond)) {
			return exitCtrlC
		}
		size := backupBytes(r.m.Name(), name)
		r.m.Update(func(st *HostState) {
			st.Backups = slices.DeleteFunc(st.Backups, func(b string) bool { return b == name })
		})
		freed += size
		removed++
		r.text("  removed " + path + " (" + strconv.FormatInt(size>>20, 10) + " MB)")
		r.line(scripts.Folder{Header: r.header(scripts.KindFolder), Path: path, Removed: true, Bytes: size, Detail: "removed"})
	}
	message := fmt.Sprintf("removed %d old backups, %d MB freed", removed, freed>>20)
	if r.warnings > 0 {
		return r.complete(scripts.StatusOK, scripts.ReasonIncomplete, message+"; see the warnings")
	}
	return r.complete(scripts.StatusOK, "", message)
}

// backupBytes is the size of a backup folder: a plausible 300 MB to 3 GB of
// downloads and datastore, the same every time for the same folder.
func backupBytes(host, name string) int64 {
	return 300<<20 + int64(fnv(host+`\`+name)%(2700<<20))
}
