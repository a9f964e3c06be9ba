package sim

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service start modes and states, spelled as Win32_Service reports them.
const (
	StartAuto     = "Auto"
	StartManual   = "Manual"
	StartDisabled = "Disabled"

	StatusRunning = "Running"
	StatusStopped = "Stopped"
	// The transitions in between, visible while a script waits for them.
	StatusStopPending  = "StopPending"
	StatusStartPending = "StartPending"
)

// Repair stages: how far the KB 910336 procedure has got on a host, so a
// later script sees what an earlier one did (see HostState.Repair).
const (
	RepairNone     = ""         // no rename since the last install attempt
	RepairRenamed  = "renamed"  // SoftwareDistribution was renamed; no search has rebuilt it yet
	RepairDetected = "detected" // a search succeeded on the fresh folder: the pending updates can install
)

// SoftwareDistribution is the folder KB 910336 renames, under %windir%.
const SoftwareDistribution = `C:\Windows\SoftwareDistribution`

// Service is one Windows service of a simulated host.
type Service struct {
	Name        string // service name, e.g. "wuauserv"
	DisplayName string // e.g. "Windows Update"
	StartMode   string // StartAuto, StartManual or StartDisabled
	Status      string // StatusRunning, StatusStopped, or a Status*Pending while it changes
}

// HostState is the live, mutable state of one simulated host: what the
// repair scripts read and change. It starts from the fleet's Host and
// persists across shells and commands for the life of the Server. Values
// handed out are copies; change a host through Machine.Update.
type HostState struct {
	Name      string // NetBIOS name, e.g. "FIN-LT-0042"
	FQDN      string
	OSCaption string
	OSBuild   string
	PSVersion string
	Server    bool
	// Group, OtherGroups and LastReport are what the WSUS server knows of
	// the host: its target groups (the first, then the others) and its
	// last report.
	Group       string
	OtherGroups []string
	LastReport  time.Time

	// Services lists the update-related services present on this OS, in the
	// order wuauserv, BITS, DoSvc, CryptSvc, UsoSvc (DoSvc and UsoSvc only on
	// Windows 10 / Server 2016 and later).
	Services []Service

	// SoftwareDistribution reports whether %windir%\SoftwareDistribution
	// exists; Backups names its renamed copies in %windir%, oldest first,
	// e.g. "SoftwareDistribution.SDTemp-20261101T120000Z".
	SoftwareDistribution bool
	Backups              []string

	FreeDiskGB    int
	RebootPending bool
	// History is every update event the host has had, newest first. The
	// agent's own history (QueryHistory) lives in SoftwareDistribution, so
	// it shows only the events since HistorySince: renaming the folder
	// sets that, and the older entries are then readable only from what a
	// caller saved before.
	History      []Event
	HistorySince time.Time // zero: the whole History
	Failure      uint32    // HRESULT of the newest failed installation, 0 if none
	Fixable      bool      // whether a correct repair clears Failure

	// Repair is the repair stage (Repair* constants). SearchTrips counts
	// the searches that will still fail with 0x80244010 (too many round
	// trips), as the first search on a fresh SoftwareDistribution often
	// does.
	Repair      string
	SearchTrips int
	// Searched is set by the first search since the rename: only that one
	// is a full scan (Quirks.FullScan); retries after 0x80244010 go on from
	// what it fetched.
	Searched bool
	// Downloaded are the updates the automatic engine downloaded again
	// after the reset without installing them (AfterScanDownload); an
	// offline search lists them as downloaded.
	Downloaded []Event

	// Fault is the host's current misbehaviour. The fields below are the
	// state some faults stand for, which the simulated scripts honour
	// (scripts_*.go); tests may also set them directly.
	Fault         Fault
	StuckService  string // a service that will not stop (FaultServiceStuck: "wuauserv", FaultDoSvcStuck: "DoSvc")
	LockedRenames int    // rename attempts that still fail on a lock (FaultFolderLocked)
	NoResultStep  string // with FaultNoResult: the one step that answers without a result; "" for every step
	Quirks               // the Windows behaviours of hostfaults.go
}

// Service returns the named service (case-insensitive) or nil when the OS
// has no such service. On a state passed to Machine.Update the pointer may
// be used to change the service.
func (st *HostState) Service(name string) *Service {
	for i := range st.Services {
		if strings.EqualFold(st.Services[i].Name, name) {
			return &st.Services[i]
		}
	}
	return nil
}

// clone returns a deep copy, so callers never share slices with the live state.
func (st HostState) clone() HostState {
	st.Services = slices.Clone(st.Services)
	st.Backups = slices.Clone(st.Backups)
	st.History = slices.Clone(st.History)
	st.Downloaded = slices.Clone(st.Downloaded)
	st.OtherGroups = slices.Clone(st.OtherGroups)
	return st
}

// newHostState builds a host's initial live state from its inventory.
func newHostState(h Host) HostState {
	st := HostState{
		Name:                 h.Name,
		FQDN:                 h.FQDN,
		OSCaption:            h.OSCaption,
		OSBuild:              h.OSBuild,
		PSVersion:            h.PSVersion,
		Server:               h.Server,
		Group:                h.Group,
		OtherGroups:          slices.Clone(h.OtherGroups),
		LastReport:           h.LastReport,
		Services:             defaultServices(h.OSBuild),
		SoftwareDistribution: true,
		FreeDiskGB:           h.FreeDiskGB,
		RebootPending:        h.RebootPending,
		History:              slices.Clone(h.History),
		Failure:              h.Failure(),
	}
	applyFault(&st, h.Fault)
	return st
}

// defaultServices returns the services present on a build, with their
// default start modes, all running as on a host that was just checking for
// updates.
func defaultServices(build string) []Service {
	major, num := parseBuild(build)
	modern := major >= 10
	svcs := []Service{
		{Name: "wuauserv", DisplayName: "Windows Update", StartMode: StartManual, Status: StatusRunning},
		{Name: "BITS", DisplayName: "Background Intelligent Transfer Service", StartMode: StartManual, Status: StatusRunning},
	}
	if !modern {
		svcs[1].StartMode = StartAuto // delayed auto-start before Windows 10
	}
	if modern && num >= 10240 {
		svcs = append(svcs, Service{Name: "DoSvc", DisplayName: "Delivery Optimization", StartMode: StartAuto, Status: StatusRunning})
	}
	svcs = append(svcs, Service{Name: "CryptSvc", DisplayName: "Cryptographic Services", StartMode: StartAuto, Status: StatusRunning})
	if modern && num >= 14393 {
		svcs = append(svcs, Service{Name: "UsoSvc", DisplayName: "Update Orchestrator Service", StartMode: StartAuto, Status: StatusRunning})
	}
	return svcs
}

// parseBuild returns the major version and build number of "10.0.20348.2762"
// (10 and 20348); missing parts are 0.
func parseBuild(build string) (major, num int) {
	parts := strings.Split(build, ".")
	get := func(i int) int {
		if i >= len(parts) {
			return 0
		}
		n, _ := strconv.Atoi(parts[i])
		return n
	}
	return get(0), get(2)
}

// Machine is one simulated host's live state as commands see it. It is safe
// for concurrent use: every access holds the machine's lock, so a command
// runner may read and change state while other shells do the same.
type Machine struct {
	mu    sync.Mutex
	state HostState
}

// Name returns the host's NetBIOS name; it never changes.
func (m *Machine) Name() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.Name
}

// State returns a copy of the host's current state.
func (m *Machine) State() HostState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone()
}

// view lets fn read the host's state under the machine's lock, without
// the copy State makes: the WSUS inventory reads every host of a large
// fleet. fn must not keep or change what it sees, block, or call back
// into the Machine.
func (m *Machine) view(fn func(st *HostState)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.state)
}

// Update changes the host's state atomically: fn runs under the machine's
// lock and must not block or call back into the Machine.
func (m *Machine) Update(fn func(st *HostState)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.state)
}

// Fault returns the host's current fault.
func (m *Machine) Fault() Fault {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.Fault
}

// setFault switches the host's fault and the state that goes with it.
func (m *Machine) setFault(f Fault) {
	m.Update(func(st *HostState) { applyFault(st, f) })
}

// HostState returns a copy of a host's live state (by short name or FQDN,
// case-insensitive) and whether the host exists.
func (s *Server) HostState(name string) (HostState, bool) {
	h := s.lookup(name)
	if h == nil {
		return HostState{}, false
	}
	return h.m.State(), true
}

// Machine returns a host's live state for reading and changing it, e.g. to
// prepare a test, and whether the host exists.
func (s *Server) Machine(name string) (*Machine, bool) {
	h := s.lookup(name)
	if h == nil {
		return nil, false
	}
	return h.m, true
}

// SetFault changes a host's fault at run time and reports whether the host
// exists. Connection-level faults apply to the next request; Receive
// timeouts to commands started afterwards.
func (s *Server) SetFault(name string, f Fault) bool {
	h := s.lookup(name)
	if h == nil {
		return false
	}
	h.m.setFault(f)
	return true
}
