package store

import (
	"context"
	"database/sql"
	"time"

	"wsusfix/store/run"
)

// ExportHost is a failing host as the hosts export lists it: the triage
// columns and the host's newest run.
type ExportHost struct {
	Name, FQDN, Address, OSCaption, OSBuild, Group string
	Others                                         []string // its groups but the primary, sorted; nil for most hosts
	KB, Title                                      string
	HResult                                        uint32
	FailedAt                                       time.Time
	LastRun                                        int64 // 0: the host has no run
	LastProcedure                                  run.Procedure
	LastOutcome                                    run.Outcome
	LastFinishedAt                                 time.Time // zero while it runs
}

// AllGroups is every WSUS group of h, the primary first, as Host.AllGroups
// gives a host's.
func (h *ExportHost) AllGroups() []string {
	if h.Group == "" {
		return h.Others
	}
	return append([]string{h.Group}, h.Others...)
}

// EachExportHost calls fn for every host the filter selects, in its order,
// with the host's newest run, as FailingHosts and LastRuns would give them.
// It reads only the columns the export writes, from the hosts alone (each
// host's row holds its newest run, migration 0014), and fills one
// ExportHost for every row: fn must not keep it. fn's error stops the walk
// and is returned.
func (s *Store) EachExportHost(ctx context.Context, f TriageFilter, fn func(*ExportHost) error) error {
	if err := checkFilterText("export hosts", f.Search, f.Group); err != nil {
		return err
	}
	where, args := f.where()
	q := `SELECT name, fqdn, address, os_caption, os_build, wsus_group, fail_kb, fail_title, ifnull(fail_hresult, 0), fail_at,
			ifnull(last_run_id, 0), last_run_procedure, last_run_outcome, last_run_finished_at, ` + groupsColumn + `
		FROM hosts` + where + f.orderBy()
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.exports.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr("export hosts", err)
	}
	defer rows.Close()
	var (
		h                ExportHost
		code             int64
		failed, finished sql.NullInt64
		others           string
	)
	for rows.Next() {
		if err := rows.Scan(&h.Name, &h.FQDN, &h.Address, &h.OSCaption, &h.OSBuild, &h.Group, &h.KB, &h.Title, &code, &failed,
			&h.LastRun, &h.LastProcedure, &h.LastOutcome, &finished, &others); err != nil {
			return mapErr("export hosts", err)
		}
		h.HResult, h.FailedAt, h.LastFinishedAt = uint32(code), fromMS(failed), fromMS(finished)
		more, err := parseGroups(others)
		if err != nil {
			return mapErr("export hosts", err)
		}
		h.Others = allGroups("", more) // sorted as a Host's are

		if err := fn(&h); err != nil {
			return err
		}
	}
	return mapErr("export hosts", rows.Err())
}
