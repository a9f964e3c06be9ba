package sim

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// osProfile is one Windows release as it appears in an estate.
type osProfile struct {
	caption string
	build   string // major.minor.build; the revision is added per host
	family  string // used in update titles
	server  bool
	ps      string // Windows PowerShell version prefix
	weight  int
}

// osProfiles is the estate's OS mix: mostly current workstations, a tail of
// older servers that still need care.
var osProfiles = []osProfile{
	{"Microsoft Windows 11 Enterprise", "10.0.26100", "Windows 11 Version 24H2", false, "5.1.26100", 30},
	{"Microsoft Windows 11 Enterprise", "10.0.22631", "Windows 11 Version 23H2", false, "5.1.22621", 18},
	{"Microsoft Windows 10 Enterprise", "10.0.19045", "Windows 10 Version 22H2", false, "5.1.19041", 22},
	{"Microsoft Windows 10 Enterprise LTSC", "10.0.19044", "Windows 10 Version 21H2", false, "5.1.19041", 4},
	{"Microsoft Windows Server 2025 Standard", "10.0.26100", "Microsoft server operating system version 24H2", true, "5.1.26100", 4},
	{"Microsoft Windows Server 2022 Standard", "10.0.20348", "Microsoft server operating system version 21H2", true, "5.1.20348", 9},
	{"Microsoft Windows Server 2022 Datacenter", "10.0.20348", "Microsoft server operating system version 21H2", true, "5.1.20348", 3},
	{"Microsoft Windows Server 2019 Standard", "10.0.17763", "Windows Server 2019", true, "5.1.17763", 6},
	{"Microsoft Windows Server 2016 Standard", "10.0.14393", "Windows Server 2016", true, "5.1.14393", 3},
	{"Microsoft Windows Server 2012 R2 Standard", "6.3.9600", "Windows Server 2012 R2", true, "4.0", 1},
}

// site prefixes and workstation kinds give names like "FIN-LT-0042".
var (
	sites       = []string{"HQ", "FIN", "OPS", "LAB", "SLS", "WH1", "BRN"}
	wsKinds     = []string{"LT", "WS", "VD"}
	serverRoles = []string{"SQL", "FS", "APP", "WEB", "RDS", "PRN", "DC", "CA", "SCCM", "HV"}
)

// failureMix is how a failing host's error is chosen: the two codes KB
// 910336 fixes dominate, as they do in real estates, with the usual tail of
// network, server-side and component-store problems.
var failureMix = []struct {
	code   uint32
	weight int
}{
	{0x80070002, 30}, {0x80070003, 14}, {0x80244022, 6}, {0x80073712, 5},
	{0x80070643, 5}, {0x800F0922, 4}, {0x8024402C, 3}, {0x80072EE2, 3},
	{0x80240034, 3}, {0x80246002, 2}, {0x80070005, 2}, {0x80070070, 2},
	{0x800F081F, 2}, {0x8024A105, 2}, {0x80242016, 1}, {0x80070BC9, 1},
	{0x80248007, 1}, {0x80072EFD, 1},
}

// update is one monthly release a host may install.
type update struct {
	id, kb, title string
	day           time.Time
}

// NewFleet builds the fleet cfg describes. It is deterministic: the same
// configuration always gives the same hosts, histories and faults.
func NewFleet(cfg FleetConfig) *Fleet {
	if cfg.Months <= 0 {
		cfg.Months = 6
	}
	end := cfg.End.UTC().Truncate(24 * time.Hour)
	if cfg.End.IsZero() {
		end = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	cfg.End = end
	// Names come from one stream; each host's attributes and history from
	// streams of their own, so End (which trims history) never changes
	// which hosts exist: a demo database seeded last week still matches.
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5753_5553_4649_58)) // "WSUSFIX"
	f := &Fleet{Config: cfg, Domain: "corp.contoso.test", WSUSServer: "WSUS01"}
	used := map[string]bool{f.WSUSServer: true}
	rc := releaseCache{}
	for i := 0; len(f.Hosts) < cfg.Hosts; i++ {
		p := pickOS(r)
		name := hostName(r, p)
		if used[name] {
			continue
		}
		used[name] = true
		hr := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)<<1|1))
		hist := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)<<1))
		f.Hosts = append(f.Hosts, newHost(hr, hist, rc, f.Domain, name, p, cfg))
	}
	sort.Slice(f.Hosts, func(i, j int) bool { return f.Hosts[i].Name < f.Hosts[j].Name })
	return f
}

// Host returns the host with that name (exact, upper case) and whether it exists.
func (f *Fleet) Host(name string) (*Host, bool) {
	i := sort.Search(len(f.Hosts), func(i int) bool { return f.Hosts[i].Name >= name })
	if i < len(f.Hosts) && f.Hosts[i].Name == name {
		return &f.Hosts[i], true
	}
	return nil, false
}

func pickOS(r *rand.Rand) osProfile {
	total := 0
	for _, p := range osProfiles {
		total += p.weight
	}
	n := r.IntN(total)
	for _, p := range osProfiles {
		if n < p.weight {
			return p
		}
		n -= p.weight
	}
	return osProfiles[0]
}

func hostName(r *rand.Rand, p osProfile) string {
	site := sites[r.IntN(len(sites))]
	if p.server {
		return fmt.Sprintf("%s-%s%02d", site, serverRoles[r.IntN(len(serverRoles))], 1+r.IntN(20))
	}
	return fmt.Sprintf("%s-%s-%04d", site, wsKinds[r.IntN(len(wsKinds))], 1+r.IntN(9999))
}

func group(r *rand.Rand, p osProfile, name string) string {
	switch {
	case p.server && r.IntN(3) == 0:
		return "Servers - Tier 1"
	case p.server:
		return "Servers - Tier 2"
	case r.IntN(10) == 0:
		return "Workstations - Pilot"
	case name[len(name)-7:len(name)-5] == "LT":
		return "Laptops - Remote"
	default:
		return "Workstations - Broad"
	}
}

// otherGroups are the groups a computer is in besides its first. A WSUS
// computer may be in several target groups (IComputerTarget.
// GetComputerTargetGroups returns a collection; Microsoft's WSUS API
// reference). The names, a patch ring across the kinds of computer and a
// maintenance window for servers, are this simulator's own invention. They come from a hash of the name, not
// from r, so adding them left every other generated value as it was.
func otherGroups(p osProfile, name string) []string {
	h := fnv("groups:" + name)
	var out []string
	if h%5 == 0 {
		out = append(out, "Patch Ring - Early")
	}
	if p.server && h/5%3 == 0 {
		out = append(out, "Maintenance - Sunday 02:00")
	}
	return out
}

func newHost(r, hist *rand.Rand, rc releaseCache, domain, name string, p osProfile, cfg FleetConfig) Host {
	rev := 1000 + r.IntN(6000)
	h := Host{
		Name:        name,
		FQDN:        fmt.Sprintf("%s.%s", strings.ToLower(name), domain),
		OSCaption:   p.caption,
		OSBuild:     fmt.Sprintf("%s.%d", p.build, rev),
		PSVersion:   p.ps,
		Group:       group(r, p, name),
		OtherGroups: otherGroups(p, name),
		Server:      p.server,
		FreeDiskGB:  8 + r.IntN(200),
		LastReport:  cfg.End.Add(-time.Duration(r.IntN(72*60)) * time.Minute),
	}
	if p.ps != "4.0" {
		h.PSVersion = fmt.Sprintf("%s.%d", p.ps, rev)
	}
	failing := r.IntN(100) < 38
	code := pickFailure(r)
	if r.IntN(100) < 9 {
		h.Fault = generatedFaults[r.IntN(len(generatedFaults))]
	}
	h.History = history(hist, rc, p, cfg, failing, code)
	h.RebootPending = h.Fault == FaultRebootPending
	return h
}

func pickFailure(r *rand.Rand) uint32 {
	total := 0
	for _, m := range failureMix {
		total += m.weight
	}
	n := r.IntN(total)
	for _, m := range failureMix {
		if n < m.weight {
			return m.code
		}
		n -= m.weight
	}
	return failureMix[0].code
}

// history builds a host's months of updates, newest first: each month's
// cumulative update, .NET update and Malicious Software Removal Tool, plus a
// Defender definition update most weeks. A failing host's latest cumulative
// (or .NET update, for MSI errors) failed, usually after earlier retries.
func history(r *rand.Rand, rc releaseCache, p osProfile, cfg FleetConfig, failing bool, code uint32) []Event {
	var out []Event
	for m := cfg.Months - 1; m >= 0; m-- {
		for _, u := range rc.month(p, cfg.End, m) {
			at := u.day.Add(time.Duration(2+r.IntN(96)) * time.Hour).Add(time.Duration(r.IntN(3600)) * time.Second)
			if at.After(cfg.End) {
				continue
			}
			out = append(out, Event{Time: at, UpdateID: u.id, KB: u.kb, Title: u.title,
				Operation: OperationInstallation, Result: ResultSucceeded})
		}
		for w := 0; w < 4; w++ {
			if r.IntN(4) == 0 {
				continue
			}
			day := monthStart(cfg.End, m).AddDate(0, 0, 7*w+r.IntN(7))
			at := day.Add(time.Duration(r.IntN(86400)) * time.Second)
			if at.After(cfg.End) {
				continue
			}
			ver := fmt.Sprintf("1.4%02d.%d.0", 10+int(day.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).Hours()/24/30), 100+r.IntN(900))
			out = append(out, Event{Time: at,
				UpdateID: guid(r), KB: "KB2267602",
				Title:     fmt.Sprintf("Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version %s)", ver),
				Operation: OperationInstallation, Result: ResultSucceeded})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if failing {
		out = injectFailure(r, out, code)
	}
	return out
}

// injectFailure turns the newest attempt at one update into a failure with
// code (and sometimes adds earlier failed retries), keeping the order.
func injectFailure(r *rand.Rand, ev []Event, code uint32) []Event {
	wantNET := code == 0x80070643
	for i := range ev {
		isNET := strings.Contains(ev[i].Title, ".NET")
		isCU := strings.Contains(ev[i].Title, "Cumulative Update for")
		if (wantNET && isNET) || (!wantNET && isCU && !isNET) {
			ev[i].Result, ev[i].HResult = ResultFailed, code
			for k := 1; k <= r.IntN(3); k++ {
				retry := ev[i]
				retry.Time = ev[i].Time.Add(-time.Duration(k*(20+r.IntN(40))) * time.Hour)
				ev = append(ev, retry)
			}
			sort.SliceStable(ev, func(a, b int) bool { return ev[a].Time.After(ev[b].Time) })
			return ev
		}
	}
	return ev
}

// releaseCache remembers monthUpdates' answers for one NewFleet: every
// host of a profile installs the same releases, and making their ids and
// titles again for each host was most of the time a large fleet took to
// build. Its answers are shared and must not be changed.
type releaseCache map[releaseKey][]update

type releaseKey struct {
	family string
	month  int
}

// month is monthUpdates(p, end, m), made once per family and month.
func (c releaseCache) month(p osProfile, end time.Time, m int) []update {
	k := releaseKey{p.family, m}
	u, ok := c[k]
	if !ok {
		u = monthUpdates(p, end, m)
		c[k] = u
	}
	return u
}

// monthUpdates returns the monthly releases for the month m months before end.
func monthUpdates(p osProfile, end time.Time, m int) []update {
	start := monthStart(end, m)
	tuesday := patchTuesday(start)
	stamp := start.Format("2006-01")
	seq := start.Year()*12 + int(start.Month())
	kb := func(base int) string { return fmt.Sprintf("KB5%06d", (base+seq*37)%1000000) }
	cu, net, mrt := kb(int(fnv(p.family))%9000), kb(500000), kb(890830)
	return []update{
		{id: uuidFrom(p.family + stamp + "cu"), kb: cu, day: tuesday,
			title: fmt.Sprintf("%s Cumulative Update for %s for x64-based Systems (%s)", stamp, p.family, cu)},
		{id: uuidFrom(p.family + stamp + "net"), kb: net, day: tuesday,
			title: fmt.Sprintf("%s Cumulative Update for .NET Framework 3.5 and 4.8.1 for %s for x64 (%s)", stamp, p.family, net)},
		{id: uuidFrom(stamp + "mrt"), kb: mrt, day: tuesday,
			title: fmt.Sprintf("Windows Malicious Software Removal Tool x64 - v5.%d (%s)", 100+seq%100, mrt)},
	}
}

func monthStart(end time.Time, m int) time.Time {
	return time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -m, 0)
}

// patchTuesday is the second Tuesday of the month that starts at first.
func patchTuesday(first time.Time) time.Time {
	d := first
	for d.Weekday() != time.Tuesday {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 7).Add(18 * time.Hour)
}

// guid returns a random update GUID from r.
func guid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff,
		0x4000|r.Uint32()&0x0fff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

// uuidFrom derives a stable GUID from s, so every host that installs the same
// release records the same update ID.
func uuidFrom(s string) string {
	a, b := fnv(s), fnv(s+"#")
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a), uint16(a>>32),
		0x4000|uint16(a>>48)&0x0fff, 0x8000|uint16(b)&0x3fff, b>>16&0xffffffffffff)
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
