// Package sim is a simulated Windows fleet: a deterministic inventory with
// months of update history (fleet.go, fleetgen.go), and a WS-Management
// server that answers WinRM for every host in it and runs the product's
// scripts on its state (server.go lists the rest). The demo and the tests stand on it; no
// Windows machine is needed. It must never be imported by handlers or store.
package sim

import (
	"slices"
	"time"

	"wsusfix/store/run"
)

// Fleet is a deterministic simulated estate. The same FleetConfig always
// yields the same Fleet. Hosts are sorted by Name.
type Fleet struct {
	Config     FleetConfig
	Domain     string // DNS suffix of every host, e.g. "corp.contoso.test"
	WSUSServer string // Name of the host that plays the WSUS server role
	Hosts      []Host
}

// FleetConfig chooses a fleet. End anchors the history: the newest events
// lie shortly before it, so a demo always looks current while a fixed End
// keeps tests reproducible.
type FleetConfig struct {
	Seed   int64
	Hosts  int       // number of client hosts (the WSUS server is extra)
	Months int       // months of history per host; 0 means 6
	End    time.Time // newest possible event time; truncated to the day
}

// Host is one simulated computer's inventory and history, as the dashboard
// would import it. Live, mutable state (services, folders) lives elsewhere.
type Host struct {
	Name      string // NetBIOS-style name, upper case, e.g. "FIN-LT-0042"
	FQDN      string
	OSCaption string // e.g. "Microsoft Windows Server 2022 Standard"
	OSBuild   string // e.g. "10.0.20348.2762"
	PSVersion string // Windows PowerShell version, e.g. "5.1.20348.2762"
	Group     string // WSUS computer target group, the computer's first
	// OtherGroups are the further target groups the computer is in: WSUS
	// lets a computer belong to several (IComputerTarget.
	// GetComputerTargetGroups, "the collection of computer groups to which
	// this computer belongs", and ComputerTargetGroupIds;
	// https://learn.microsoft.com/en-us/previous-versions/windows/desktop/aa349540(v=vs.85)).
	OtherGroups   []string
	Server        bool // a server OS rather than a workstation
	LastReport    time.Time
	FreeDiskGB    int
	RebootPending bool
	Fault         Fault   // simulated misbehaviour, FaultNone for most hosts
	History       []Event // newest first
}

// AllGroups is every target group of h but All Computers: its primary
// group first (when it has one), then the others.
func (h Host) AllGroups() []string {
	if h.Group == "" {
		return slices.Clone(h.OtherGroups)
	}
	return append([]string{h.Group}, h.OtherGroups...)
}

// Failure returns the HRESULT of the host's newest failed installation, or 0
// when its newest attempt at every update succeeded.
func (h Host) Failure() uint32 {
	done := map[string]bool{}
	for _, e := range h.History {
		if done[e.UpdateID] {
			continue
		}
		done[e.UpdateID] = true
		if e.Result == ResultFailed {
			return e.HResult
		}
	}
	return 0
}

// Event is one entry of a host's Windows Update history, shaped like an
// IUpdateHistoryEntry from Microsoft.Update.Session's QueryHistory.
type Event struct {
	Time      time.Time
	UpdateID  string // update GUID, lower case
	KB        string // "KB5044277", or "" for updates without one
	Title     string
	Operation string // OperationInstallation or OperationUninstallation
	Result    run.UpdateResult
	HResult   uint32 // 0 on success
}

// History operation names, as QueryHistory reports them.
const (
	OperationInstallation   = "Installation"
	OperationUninstallation = "Uninstallation"
)

// Result names of the history, the product's own (store/run), under the
// short names the simulator's code uses.
const (
	ResultSucceeded           = run.ResultSucceeded
	ResultSucceededWithErrors = run.ResultSucceededWithErrors
	ResultFailed              = run.ResultFailed
	ResultAborted             = run.ResultAborted
)

// Fault is a way a simulated host misbehaves. The catalogue is fixed; the
// fleet seed assigns faults to a small share of hosts, and tests may set
// them per host.
type Fault string

// The fault catalogue.
const (
	FaultNone           Fault = ""
	FaultUnreachable    Fault = "unreachable"     // connection refused
	FaultSlow           Fault = "slow"            // latency with jitter on every request
	FaultAuthRefused    Fault = "auth-refused"    // 401 for the fleet's credentials
	FaultAccessDenied   Fault = "access-denied"   // account is not an administrator
	FaultQuota          Fault = "quota"           // shell quota already exhausted
	FaultReceiveTimeout Fault = "receive-timeout" // Receives time out before output arrives
	FaultServiceStuck   Fault = "service-stuck"   // wuauserv will not stop within the timeout
	FaultFolderLocked   Fault = "folder-locked"   // SoftwareDistribution locked for the first rename attempts
	FaultNotFixable     Fault = "not-fixable"     // the failure survives the repair
	FaultDropConnection Fault = "drop-connection" // connection dropped mid-command
	FaultRebootPending  Fault = "reboot-pending"  // a reboot is pending; preflight should refuse
	// FaultNoResult: the host runs each step's command and answers "hi",
	// exit 0, without the step's result line (HostState.NoResultStep
	// narrows it to one step). It is what a host whose PowerShell never ran
	// the script looks like, and what the real captures answer when
	// replayed for our commands (sim/replay).
	FaultNoResult Fault = "no-result"
)

// Faults lists the catalogue in a stable order (FaultNone excluded): the
// faults the fleet seed assigns, then the Windows behaviours of
// hostfaults.go and FaultNoResult, which only a caller assigns.
var Faults = append(append(append([]Fault(nil), generatedFaults...), windowsFaults...), FaultNoResult)

// generatedFaults are the faults the fleet seed draws from. The list is
// frozen: a longer one would give every seed another fleet.
var generatedFaults = []Fault{
	FaultUnreachable, FaultSlow, FaultAuthRefused, FaultAccessDenied, FaultQuota,
	FaultReceiveTimeout, FaultServiceStuck, FaultFolderLocked, FaultNotFixable,
	FaultDropConnection, FaultRebootPending,
}
