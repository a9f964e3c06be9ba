package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Host states.
const (
	StateFailing  = "failing"
	StateOK       = "ok"
	StateRepaired = "repaired"
	StateUnknown  = "unknown"
)

// Host is one computer of the inventory.
type Host struct {
	ID                 int64
	Name               string
	FQDN               string
	Address            string // IP or IP:port to dial; empty means resolve Name
	OSCaption          string
	OSBuild            string
	Group              string   // primary WSUS computer target group: the first of Groups
	Groups             []string // every WSUS group the host is in: Group first, then by name
	LastReportAt       time.Time
	HistoryRefreshedAt time.Time
	State              string
	Failure            *Failure // newest failed installation; nil when none
	// WSUS is what the last WSUS sync that listed the host said of it; nil
	// for a host no sync has listed.
	WSUS *WSUSFacts
	// GoneAt is when a full reconcile no longer found the host in its WSUS
	// server; zero while it is there. A gone host keeps its history and
	// runs but leaves triage.
	GoneAt time.Time
}

// Failure is a host's newest failed update installation.
type Failure struct {
	EventID int64
	HResult uint32
	At      time.Time
	KB      string
	Title   string
}

// HostInput is a host as an import supplies it.
type HostInput struct {
	Name      string
	FQDN      string
	Address   string // a sync (WSUS set) keeps a stored host's address
	OSCaption string
	OSBuild   string
	Group     string // the primary WSUS group; the first of Groups when empty
	// Groups is every WSUS group the host is in, the primary among them or
	// not; empty means Group alone. Repeats (without case) count once.
	Groups       []string
	LastReportAt time.Time
	// WSUS, when set, is what a WSUS sync read of the host; it also brings
	// a gone host back. Nil leaves the stored WSUS facts alone, as an
	// import does.
	WSUS *WSUSFacts
}

// UpsertCounts says what an upsert did with its rows.
type UpsertCounts struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// MaxHostName is the longest host name, in bytes, that DNS allows.
const MaxHostName = 253

// HostNameError says why a text is not a host name. It wraps
// ErrInvalidHostName.
type HostNameError struct {
	Name   string // the text refused
	Reason string // why, such as "starts with a hyphen"; never quotes an overlong Name
}

// Error names the text, cut to 64 characters, and the reason.
func (e *HostNameError) Error() string {
	return fmt.Sprintf("host name %.64q: %s", e.Name, e.Reason)
}

// Unwrap returns ErrInvalidHostName.
func (e *HostNameError) Unwrap() error { return ErrInvalidHostName }

// ValidateHostName accepts a NetBIOS name or an FQDN: dot-separated labels
// of 1 to 63 letters, digits and hyphens, not starting or ending with a
// hyphen (RFC 1123), MaxHostName characters at most. Every host the store
// holds passed it, since UpsertHosts refuses any other; it returns a
// *HostNameError.
func ValidateHostName(s string) error {
	refuse := func(format string, a ...any) error {
		return &HostNameError{Name: s, Reason: fmt.Sprintf(format, a...)}
	}
	switch {
	case s == "":
		return refuse("is empty")
	case len(s) > MaxHostName:
		return refuse("is longer than %d characters", MaxHostName)
	}
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return refuse("has an empty label (two dots, or a dot at an end)")
		case len(label) > 63:
			return refuse("label %q is longer than 63 characters", label)
		case label[0] == '-':
			return refuse("label %q starts with a hyphen", label)
		case label[len(label)-1] == '-':
			return refuse("label %q ends with a hyphen", label)
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return refuse("has %q: only letters, digits, hyphens and dots are allowed", r)
			}
		}
	}
	return nil
}

// checkHostInput refuses a host whose name, or FQDN when given, is not a
// host name.
func checkHostInput(h HostInput) error {
	if err := ValidateHostName(h.Name); err != nil {
		return err
	}
	if err := CheckGroups(h); err != nil {
		return err
	}
	if h.FQDN != "" {
		if err := ValidateHostName(h.FQDN); err != nil {
			return fmt.Errorf("fqdn of %.64q: %w", h.Name, err)
		}
	}
	if h.WSUS != nil {
		if err := ValidateHostName(h.WSUS.Server); err != nil {
			return fmt.Errorf("wsus server of %.64q: %w", h.Name, err)
		}
	}
	return nil
}

const hostColumns = `id, name, fqdn, address, os_caption, os_build, wsus_group, last_report_at,
	history_refreshed_at, state, fail_event_id, fail_hresult, fail_at, fail_kb, fail_title,
	wsus_server, wsus_computer_id, wsus_failed, wsus_needed, wsus_pending_reboot, wsus_unknown, wsus_seen_at, gone_at,
	` + groupsColumn

// scanHost reads hostColumns from one row.
func scanHost(sc interface{ Scan(...any) error }) (Host, error) {
	var (
		h                          Host
		lastReport, refreshed      sql.NullInt64
		failID, failCode, failTime sql.NullInt64
		failKB, failTitle          string
		w                          WSUSFacts
		wFailed, wNeeded, wReboot  sql.NullInt64
		wUnknown, wSeen, gone      sql.NullInt64
		groups                     string
	)
	err := sc.Scan(&h.ID, &h.Name, &h.FQDN, &h.Address, &h.OSCaption, &h.OSBuild, &h.Group,
		&lastReport, &refreshed, &h.State, &failID, &failCode, &failTime, &failKB, &failTitle,
		&w.Server, &w.ComputerID, &wFailed, &wNeeded, &wReboot, &wUnknown, &wSeen, &gone, &groups)
	if err != nil {
		return Host{}, err
	}
	if h.Groups, err = parseGroups(groups); err != nil {
		return Host{}, err
	}
	h.Groups = allGroups(h.Group, h.Groups)
	if w.Server != "" {
		w.Failed, w.Needed, w.PendingReboot = int(wFailed.Int64), int(wNeeded.Int64), int(wReboot.Int64)
		w.Unknown, w.SeenAt = int(wUnknown.Int64), fromMS(wSeen)
		h.WSUS = &w
	}
	h.GoneAt = fromMS(gone)
	h.LastReportAt, h.HistoryRefreshedAt = fromMS(lastReport), fromMS(refreshed)
	if failCode.Valid {
		h.Failure = &Failure{EventID: failID.Int64, HResult: uint32(failCode.Int64),
			At: fromMS(failTime), KB: failKB, Title: failTitle}
	}
	return h, nil
}

// HostByName returns the host with that name (case-insensitive).
func (s *Store) HostByName(ctx context.Context, name string) (Host, error) {
	row := s.read.QueryRowContext(ctx, "SELECT "+hostColumns+" FROM hosts WHERE name = ?", name)
	h, err := scanHost(row)
	return h, mapErr(fmt.Sprintf("host %q", name), err)
}

// HostByID returns the host with that ID.
func (s *Store) HostByID(ctx context.Context, id int64) (Host, error) {
	row := s.read.QueryRowContext(ctx, "SELECT "+hostColumns+" FROM hosts WHERE id = ?", id)
	h, err := scanHost(row)
	return h, mapErr(fmt.Sprintf("host %d", id), err)
}

// CountHosts returns how many hosts the inventory holds.
func (s *Store) CountHosts(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM hosts").Scan(&n)
	return n, mapErr("count hosts", err)
}

// FailingGroups returns the distinct WSUS groups that have failing hosts,
// any of their groups, sorted: the choices that make sense in the triage
// filter.
func (s *Store) FailingGroups(ctx context.Context) ([]string, error) {
	// Skip-scans: one index seek per distinct group instead of reading
	// every host, since estates have a handful of groups and many hosts.
	// A host's other groups count when one failing host is in them, which
	// a third of hosts are.
	rows, err := s.read.QueryContext(ctx, `WITH RECURSIVE g (name) AS (
			SELECT min(wsus_group) FROM hosts WHERE state = 'failing' AND gone_at IS NULL AND wsus_group > ''
			UNION ALL
			SELECT (SELECT min(wsus_group) FROM hosts WHERE state = 'failing' AND gone_at IS NULL AND wsus_group > g.name)
			FROM g WHERE g.name IS NOT NULL
		), o (name) AS (
			SELECT min(name) FROM host_groups
			UNION ALL
			SELECT (SELECT min(name) FROM host_groups WHERE name > o.name) FROM o WHERE o.name IS NOT NULL
		)
		SELECT name FROM g WHERE name IS NOT NULL
		UNION
		SELECT name FROM o WHERE name IS NOT NULL AND EXISTS (SELECT 1 FROM host_groups x JOIN hosts h ON h.id = x.host_id
			WHERE x.name = o.name AND h.state = 'failing' AND h.gone_at IS NULL)
		ORDER BY name`)
	if err != nil {
		return nil, mapErr("groups", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, mapErr("groups", err)
		}
		out = append(out, g)
	}
	return out, mapErr("groups", rows.Err())
}

// likePattern turns free text into a LIKE pattern matching it anywhere,
// escaping the wildcards so "%" and "_" match themselves.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// SearchHosts returns one page of every host whose name contains search
// (all hosts when it is empty), healthy ones included, by name, and how
// many match in all.
func (s *Store) SearchHosts(ctx context.Context, search string, limit, offset int) ([]Host, int, error) {
	if err := checkFilterText("hosts", search); err != nil {
		return nil, 0, err
	}
	where, args := "", []any{}
	if c, a := nameSearch(search); c != "" {
		where, args = " WHERE "+c, append(args, a)
	}
	var total int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM hosts"+where, args...).Scan(&total); err != nil {
		return nil, 0, mapErr("search hosts", err)
	}
	rows, err := s.read.QueryContext(ctx, "SELECT "+hostColumns+" FROM hosts"+where+" ORDER BY name COLLATE NOCASE, id LIMIT ? OFFSET ?",
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, mapErr("search hosts", err)
	}
	defer rows.Close()
	var hosts []Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, 0, mapErr("search hosts", err)
		}
		hosts = append(hosts, h)
	}
	return hosts, total, mapErr("search hosts", rows.Err())
}
