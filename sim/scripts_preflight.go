package sim

import (
	"strconv"
	"strings"
	"time"

	"wsusfix/remote/scripts"
)

// The twin of preflight.ps1: read-only checks, in the script's order, that
// refuse with the first failed check's reason.

// runPreflight is preflight.ps1.
func runPreflight(r *psRun, paramsB64 string) int {
	var p scripts.PreflightParams
	if code, ok := r.decode(paramsB64, &p); !ok {
		return code
	}
	minFreeGB := intParam(p.MinFreeGB, 10, 1000)

	type failure struct{ name, reason, detail string }
	var failed []failure
	check := func(name string, ok bool, reason, detail string) {
		if ok {
			reason = ""
		} else {
			failed = append(failed, failure{name, reason, detail})
		}
		mark := "ok  "
		if !ok {
			mark = "FAIL"
		}
		r.text("  [" + mark + "] " + name + ": " + detail)
		r.line(scripts.Check{Header: r.header(scripts.KindCheck), Name: name, OK: ok, Reason: reason, Detail: detail})
	}

	r.text("Preflight: checking that this host can be repaired (read-only).")
	// WMI, the registry and the drive: a moment's work.
	if !r.sleep(r.vary(300*time.Millisecond, 400*time.Millisecond)) {
		return exitCtrlC
	}
	st := r.m.State()
	_, build := parseBuild(st.OSBuild)
	psVersion := st.PSVersion
	if psVersion == "" {
		psVersion = "5.1"
	}
	// Access-denied hosts refuse the shell before any script runs; were one
	// to get this far, this is what it would see.
	isAdmin := st.Fault != FaultAccessDenied
	freeMB := int64(st.FreeDiskGB) * 1024
	r.line(scripts.Facts{Header: r.header(scripts.KindFacts), Computer: st.Name, OSCaption: st.OSCaption,
		OSVersion: osVersion(st.OSBuild), OSBuild: build, OS64Bit: true, PSVersion: psVersion, PSEdition: "Desktop",
		Process64Bit: true, IsAdmin: isAdmin, SystemDrive: "C:", FreeMB: freeMB})

	if isAdmin {
		check("admin", true, scripts.ReasonNotAdmin, "running as an elevated administrator")
	} else {
		check("admin", false, scripts.ReasonNotAdmin, "the account is not an elevated administrator; "+
			"over WinRM a local account other than the built-in Administrator gets a filtered token unless LocalAccountTokenFilterPolicy is 1")
	}
	check("process_64bit", true, scripts.ReasonNot64Bit, "the PowerShell process matches the OS (64-bit)")
	major, _, _ := strings.Cut(psVersion, ".")
	n, _ := strconv.Atoi(major)
	check("ps_version", n >= 3, scripts.ReasonPSTooOld, "PowerShell "+psVersion+" Desktop")
	osName := st.OSCaption
	if osName == "" {
		osName = "Windows"
	}
	check("os_version", build >= 7600, scripts.ReasonOSUnsupported, osName+" build "+strconv.Itoa(build))
	needMB := int64(minFreeGB) * 1024
	check("free_disk", freeMB >= needMB, scripts.ReasonLowDisk,
		"C: has "+strconv.FormatInt(freeMB, 10)+" MB free; "+strconv.FormatInt(needMB, 10)+" MB required")
	for _, name := range []string{"wuauserv", "BITS"} {
		id := "start_mode_" + strings.ToLower(name)
		svc := st.Service(name)
		if svc == nil {
			check(id, false, scripts.ReasonServiceMissing, name+" is not installed")
			continue
		}
		mode := startModeName(&st, svc)
		check(id, mode != "disabled", scripts.ReasonServiceDisabled, name+" start mode is "+mode)
	}
	// TiWorker installing refuses; TrustedInstaller.exe alone only warns
	// (hostfaults.go: FaultInstallerBusy, FaultTrustedInstallerIdle).
	if st.InstallerBusy != "" {
		check("install_in_progress", false, scripts.ReasonInstallInProgress,
			"busy: "+st.InstallerBusy+" (pid "+strconv.Itoa(pidOf(st.Name, st.InstallerBusy))+"); try again when it has finished")
	} else {
		if st.TrustedInstallerIdle {
			r.warn(scripts.WarnTrustedInstaller, "TrustedInstaller (pid "+strconv.Itoa(pidOf(st.Name, "TrustedInstaller"))+
				") runs, but nothing installs: it stays up a while after servicing; going on")
		}
		check("install_in_progress", true, scripts.ReasonInstallInProgress, "no installation is running")
	}
	// PendingFileRenameOperations alone warns (FaultPendingRenames).
	if st.PendingFileRenames > 0 {
		r.warn(scripts.WarnPendingFileRenames, "PendingFileRenameOperations holds "+strconv.Itoa(st.PendingFileRenames)+
			" entries; applications and antivirus often leave them, so the repair goes on")
	}
	if st.RebootPending {
		check("reboot_pending", false, scripts.ReasonRebootPending,
			`a reboot is pending: WindowsUpdate\Auto Update\RebootRequired; reboot first`)
	} else {
		check("reboot_pending", true, scripts.ReasonRebootPending, "no reboot is pending")
	}

	if len(failed) > 0 {
		names := make([]string, len(failed))
		for i, f := range failed {
			names[i] = f.name
		}
		r.text("Preflight refused: " + failed[0].detail)
		return r.complete(scripts.StatusRefused, failed[0].reason,
			failed[0].detail+" (failed checks: "+strings.Join(names, ", ")+")")
	}
	r.text("Preflight passed.")
	return r.complete(scripts.StatusOK, "", "all checks passed")
}

// osVersion is Win32_OperatingSystem.Version: "10.0.20348" of
// "10.0.20348.2762".
func osVersion(build string) string {
	parts := strings.Split(build, ".")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return strings.Join(parts, ".")
}

// pidOf is a plausible process id for a host's process, the same every
// time.
func pidOf(host, process string) int {
	return 1000 + 4*int(fnv(host+"|"+process)%5000)
}
