package sim

import "time"

// This file holds the faults that are Windows behaviours rather than
// network or account trouble: what real hosts do that a repair must cope
// with. Each cites where the behaviour is documented or which widely used
// tool handles it, since no Windows host is here to confirm it. The fleet
// seed never assigns them (generatedFaults); tests and `sim -fault` do.
const (
	// FaultConstrainedLanguage: PowerShell runs in Constrained Language
	// Mode under a WDAC or AppLocker policy ("about_Language_Modes",
	// learn.microsoft.com), where [Console], COM objects and most .NET
	// calls are refused. Ansible's PowerShell bootstrap wrapper checks the
	// language mode first for this reason. The bootstrap refuses.
	FaultConstrainedLanguage Fault = "constrained-language"

	// FaultDotNet40: Windows PowerShell 3.0 on .NET Framework 4.0 (Windows
	// Management Framework 3.0 on Windows 7 / Server 2008 R2), where
	// Exception.HResult is not public (it became public in .NET 4.5,
	// "Exception.HResult Property", learn.microsoft.com), so the scripts
	// read COMException.ErrorCode instead. Its first searches after the
	// reset exceed the server round trips (0x80244010), which only a
	// correctly read HRESULT retries.
	FaultDotNet40 Fault = "dotnet40"

	// FaultPendingRenames: only PendingFileRenameOperations is set, as
	// many installers and antivirus products leave it; the PendingReboot
	// module offers -SkipPendingFileRenameOperationsCheck for this reason.
	// Preflight warns and goes on.
	FaultPendingRenames Fault = "pending-file-renames"

	// FaultTrustedInstallerIdle: TrustedInstaller.exe runs with no
	// servicing under way. It is a demand-start service (Windows Modules
	// Installer) that stays up for a while after any servicing call, so
	// its process alone proves nothing. Preflight warns and goes on.
	FaultTrustedInstallerIdle Fault = "trustedinstaller-idle"

	// FaultInstallerBusy: TiWorker.exe, the Windows Modules Installer
	// Worker that TrustedInstaller starts to install a package, is running.
	// Preflight refuses: renaming SoftwareDistribution under a servicing
	// transaction can corrupt it (notes: domain.md 1.3 and 5.4).
	FaultInstallerBusy Fault = "installer-busy"

	// FaultDoSvcStuck: Delivery Optimization will not stop. Whether an
	// administrator can always stop DoSvc on Windows 10 1809 and later is
	// not established, so the repair treats it as best effort: a warning,
	// and the repair goes on. (The Reset Windows Update Tool stops it; its
	// issue #24 is a rename that failed until DoSvc was stopped, which the
	// rename's retries cover.)
	FaultDoSvcStuck Fault = "dosvc-stuck"

	// FaultTriggerStart: wuauserv is Manual (Trigger Start) on Windows 10
	// and later (`sc qtriggerinfo wuauserv` lists its triggers) and comes
	// back in the seconds between stop-services and rename, as UsoSvc's
	// scheduled scans and group policy refreshes start it (notes:
	// domain.md 1.4 and 5.3).
	FaultTriggerStart Fault = "trigger-start"

	// FaultFullScan: after the reset the client has lost its sync state
	// and does a full scan; KB 4490414 ("Windows Update scan storms" on
	// WSUS) warns a full scan can move over 1 GB of metadata per client.
	// The first search takes FullScanDuration of simulated time.
	FaultFullScan Fault = "full-scan"

	// FaultDefinitionUpdate: after the rename the automatic engine installs
	// a Microsoft Defender definition update (KB2267602, released several
	// times a day) but has not yet retried the failing update. A success
	// in the history must not be read as a repair.
	FaultDefinitionUpdate Fault = "definition-update"

	// FaultDownloadOnly: the failing update is downloaded again but its
	// installation is not attempted yet (policy "Auto download and notify
	// for install", AUOptions 3). 0x80070002/3 fail at install time, so a
	// download proves nothing; verify says "downloaded".
	FaultDownloadOnly Fault = "download-only"

	// FaultSuperseded: after the rename the automatic engine installs a
	// newer cumulative update that supersedes the failed one, which is no
	// longer offered ("Updates operations: superseded updates", WSUS docs
	// on learn.microsoft.com). Its KB differs, its kind does not: a repair
	// judged by kind counts it; one judged by the failed KB cannot.
	FaultSuperseded Fault = "superseded"
)

// windowsFaults is their order in Faults.
var windowsFaults = []Fault{
	FaultConstrainedLanguage, FaultDotNet40, FaultPendingRenames, FaultTrustedInstallerIdle,
	FaultInstallerBusy, FaultDoSvcStuck, FaultTriggerStart, FaultFullScan, FaultDefinitionUpdate,
	FaultDownloadOnly, FaultSuperseded,
}

// FullScanDuration is how long a FaultFullScan host's first search after
// the reset takes: well past the old 10-minute step bound, within the
// detect step's default hour.
const FullScanDuration = 40 * time.Minute

// What the automatic engine does once a search on the fresh folder has
// succeeded (Quirks.AfterScan).
const (
	AfterScanInstall    = ""           // retries the failing updates (the default)
	AfterScanDefinition = "definition" // installs a definition update only
	AfterScanDownload   = "download"   // downloads the failing updates, installs nothing
	AfterScanSupersede  = "supersede"  // installs newer updates of the failing ones' kind
)

// DefinitionKB is the Microsoft Defender Antivirus security intelligence
// update's KB number, the same on every release.
const DefinitionKB = "KB2267602"

// Quirks are the Windows behaviours of hostfaults.go as host state, which
// the simulated scripts honour; applyFault sets them and tests may set them
// directly.
type Quirks struct {
	ConstrainedLanguage  bool          // the bootstrap refuses
	CLR                  string        // .NET runtime, "4.0" on FaultDotNet40; "" means 4.8
	PendingFileRenames   int           // entries of PendingFileRenameOperations
	TrustedInstallerIdle bool          // TrustedInstaller.exe runs, nothing installs
	InstallerBusy        string        // what installs right now, e.g. "TiWorker"
	TriggerStarts        int           // times wuauserv starts itself after stop-services ends
	FullScan             time.Duration // the first search's length on a fresh folder; 0 is the usual seconds
	AfterScan            string        // AfterScan*
	// ClockSkew is how far the host's clock is off the dashboard's
	// (negative: behind). Every time the host prints or records is on its
	// own clock. No fault sets it; tests do.
	ClockSkew time.Duration
}

// applyQuirks sets the quirks a fault stands for.
func applyQuirks(st *HostState, f Fault) {
	st.Quirks = Quirks{ClockSkew: st.ClockSkew}
	switch f {
	case FaultConstrainedLanguage:
		st.ConstrainedLanguage = true
	case FaultDotNet40:
		st.CLR = "4.0"
	case FaultPendingRenames:
		st.PendingFileRenames = 3
	case FaultTrustedInstallerIdle:
		st.TrustedInstallerIdle = true
	case FaultInstallerBusy:
		st.InstallerBusy = "TiWorker"
	case FaultDoSvcStuck:
		st.StuckService = "DoSvc"
	case FaultTriggerStart:
		st.TriggerStarts = 1
	case FaultFullScan:
		st.FullScan = FullScanDuration
	case FaultDefinitionUpdate:
		st.AfterScan = AfterScanDefinition
	case FaultDownloadOnly:
		st.AfterScan = AfterScanDownload
	case FaultSuperseded:
		st.AfterScan = AfterScanSupersede
	}
}
