package store

import (
	"context"
	"database/sql"
	"maps"
	"strings"

	"wsusfix/store/run"
)

// Evidence is what the KB 910336 repair did in this estate for one error
// code within a window: each host's latest finished repair of a failure
// with that code, by how it ended. It is the estate's own answer to "does
// the suggested action work here?".
type Evidence struct {
	HResult      uint32
	Hosts        int // hosts repaired at least once for the code
	Repaired     int // the latest repair was verified
	StillFailing int // it ran and the update still failed
	CouldNotRun  int // refused, unreachable, credentials: nothing was tried
	NoProof      int // it ran; nothing proves the update installs yet
	Stopped      int // cancelled, interrupted, or stopped on an error
}

// evidenceKind sorts a repair's outcome into the evidence's groups.
func evidenceKind(o run.Outcome) func(*Evidence) *int {
	switch o {
	case run.OutcomeRepaired:
		return func(e *Evidence) *int { return &e.Repaired }
	case run.OutcomeStillFailing:
		return func(e *Evidence) *int { return &e.StillFailing }
	case run.OutcomeRefused, run.OutcomeUnreachable, run.OutcomeAuth, run.OutcomeQuota, run.OutcomeNotConfigured:
		return func(e *Evidence) *int { return &e.CouldNotRun }
	case run.OutcomeUnknown, run.OutcomeDownloaded, run.OutcomeScanRunning:
		return func(e *Evidence) *int { return &e.NoProof }
	}
	return func(e *Evidence) *int { return &e.Stopped }
}

// RepairEvidence returns, by error code, what the repair did to hosts
// failing with it in runs created in f's window (of f's group and code
// when set): one count per host, from its latest finished repair for that
// code. Runs from before the store recorded a run's failure are not
// counted.
func (s *Store) RepairEvidence(ctx context.Context, f ReportFilter) (map[uint32]Evidence, error) {
	// Triage and host pages ask for the same window whenever they are
	// drawn; its answer is kept while the store's generation stands, so a
	// page drawn again after an import counts it once, and a run finished
	// by another process is seen as soon as any other change is.
	plain := f.Group == "" && f.Code == 0 && f.Until.IsZero()
	gen := s.Generation()
	if plain {
		if m, ok := s.evidence.get(f.Since.UnixMilli(), gen); ok {
			return maps.Clone(m), nil
		}
	}
	m, err := s.repairEvidence(ctx, f)
	if err == nil && plain {
		s.evidence.put(f.Since.UnixMilli(), gen, maps.Clone(m))
	}
	return m, err
}

// repairEvidence counts the evidence. A window open to now is read from
// repair_latest (each host's latest finished repair of each code, kept by
// triggers), or from its counts by day (repair_latest_days) when it begins
// at a day's start; one that ends in the past groups the runs themselves,
// since a host's latest repair may then lie after it.
func (s *Store) repairEvidence(ctx context.Context, f ReportFilter) (map[uint32]Evidence, error) {
	join, group := f.hostJoin()
	var rows *sql.Rows
	var err error
	since, whole := f.sinceDay()
	switch current := f.current(s.now()); {
	case current && whole:
		rows, err = s.read.QueryContext(ctx, `SELECT code, outcome, sum(hosts) FROM repair_latest_days
			WHERE code <> 0 AND day >= ?1 AND (?3 = '' OR grp = ?3) AND (?4 = 0 OR code = ?4)
			GROUP BY code, outcome`, f.dayArgs(since, 0)...)
	case current:
		join = strings.ReplaceAll(join, "r.host_id", "l.host_id")
		rows, err = s.read.QueryContext(ctx, `SELECT l.code, l.outcome, count(*) FROM repair_latest l`+join+`
			WHERE l.code <> 0 AND l.created_at >= ?1 AND (?4 = 0 OR l.code = ?4)`+group+`
			GROUP BY l.code, l.outcome`, f.args()...)
	default:
		// Each host's latest repair of a code: SQLite gives a bare column
		// of an aggregate with max() the value of the row holding the
		// maximum (sqlite.org/lang_select.html, "bare columns").
		rows, err = s.read.QueryContext(ctx, `SELECT code, outcome, count(*) FROM (
				SELECT r.fail_hresult AS code, r.outcome AS outcome, max(r.created_at)
				FROM runs r`+join+`
				WHERE r.procedure = 'repair' AND r.fail_hresult IS NOT NULL AND r.created_at >= ?1 AND r.created_at < ?2
					AND r.state NOT IN ('queued', 'running') AND (?4 = 0 OR r.fail_hresult = ?4)`+group+`
				GROUP BY r.fail_hresult, r.host_id
			) GROUP BY code, outcome`,
			f.args()...)
	}
	if err != nil {
		return nil, mapErr("repair evidence", err)
	}
	defer rows.Close()
	out := map[uint32]Evidence{}
	for rows.Next() {
		var code int64
		var outcome run.Outcome
		var n int
		if err := rows.Scan(&code, &outcome, &n); err != nil {
			return nil, mapErr("repair evidence", err)
		}
		e := out[uint32(code)]
		e.HResult = uint32(code)
		e.Hosts += n
		*evidenceKind(outcome)(&e) += n
		out[uint32(code)] = e
	}
	return out, mapErr("repair evidence", rows.Err())
}
