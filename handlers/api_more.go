package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/remote/wsus"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/views"
)

// apiBatch is a batch as the API shows it.
type apiBatch struct {
	ID          int64          `json:"id"`
	Procedure   string         `json:"procedure"`
	Description string         `json:"description"`
	RequestedBy string         `json:"requested_by"`
	CreatedAt   time.Time      `json:"created_at"`
	Runs        int            `json:"runs"`
	Ended       int            `json:"ended"`
	Outcomes    map[string]int `json:"outcomes"`
	Page        string         `json:"page"`
}

func toAPIBatch(b store.Batch, runs, ended int, outcomes map[run.Outcome]int) apiBatch {
	a := apiBatch{ID: b.ID, Procedure: string(b.Procedure), Description: b.Description, RequestedBy: b.RequestedBy,
		CreatedAt: b.CreatedAt, Runs: runs, Ended: ended, Outcomes: map[string]int{}, Page: string(views.BatchHref(b.ID))}
	for o, n := range outcomes {
		a.Outcomes[string(o)] = n
	}
	return a
}

// handleAPIStartBatch answers POST /api/v1/batches: a bulk run (form:
// procedure repair or check, and host fields or triage's filters code,
// group, q), as the bulk confirmation starts one. 201 with the batch.
func (h *handler) handleAPIStartBatch(w http.ResponseWriter, r *http.Request) {
	hosts, q, _, err := h.bulkHosts(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	procedure := run.Procedure(r.PostFormValue("procedure"))
	switch procedure {
	case run.ProcedureRepair, run.ProcedureCheck:
	default:
		h.fail(w, r, badRequest{"procedure must be repair or check."})
		return
	}
	b, queued, err := h.startBatch(r, hosts, procedure, bulkDescription(len(hosts), q))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/batches/"+strconv.FormatInt(b.ID, 10))
	writeJSON(w, r, http.StatusCreated, toAPIBatch(b, queued, 0, nil))
}

// handleAPIBatches answers GET /api/v1/batches, newest first.
func (h *handler) handleAPIBatches(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := apiPage(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, total, err := h.store.Batches(r.Context(), limit, offset)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]apiBatch, len(list))
	for i, b := range list {
		out[i] = toAPIBatch(b.Batch, b.Runs, b.Ended, b.Outcomes)
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"batches": out, "total": total, "next_cursor": nextCursor(offset, limit, len(list), total)})
}

// handleAPIBatch answers GET /api/v1/batches/{id}: the batch, its counts
// by state and outcome, and its runs with each active one's step.
func (h *handler) handleAPIBatch(w http.ResponseWriter, r *http.Request) {
	p, err := h.batchProps(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	runs := make([]map[string]any, len(p.Runs))
	for i, rn := range p.Runs {
		runs[i] = map[string]any{"run": toAPIRun(rn), "step": string(p.Steps[rn.ID])}
	}
	states := map[string]int{}
	for s, n := range p.States {
		states[string(s)] = n
	}
	b := toAPIBatch(p.Batch, len(p.Runs), p.Ended, p.Outcomes)
	var eta *time.Time
	if !p.ETA.IsZero() {
		eta = &p.ETA
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"batch": b, "states": states, "eta": eta, "runs": runs})
}

// handleAPIReport answers GET /api/v1/reports/{list}: one list of the
// report (compliance, activity, codes) as JSON, under the reports page's
// filters: the same rows as /reports/{list}.json.
func (h *handler) handleAPIReport(w http.ResponseWriter, r *http.Request) {
	h.reportList(w, r, sheet.FormatJSON)
}

// handleAPISync answers GET /api/v1/sync (admins): the WSUS server, the
// schedule, the sync running now and the last syncs.
func (h *handler) handleAPISync(w http.ResponseWriter, r *http.Request) {
	syncs, err := h.store.Syncs(r.Context(), syncsShown)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type apiSync struct {
		ID         int64            `json:"id"`
		Server     string           `json:"server"`
		Full       bool             `json:"full"`
		StartedBy  string           `json:"started_by"`
		StartedAt  time.Time        `json:"started_at"`
		FinishedAt *time.Time       `json:"finished_at,omitempty"`
		Outcome    string           `json:"outcome"`
		Counts     store.SyncCounts `json:"counts"`
		Error      string           `json:"error,omitempty"`
	}
	out := map[string]any{"configured": h.syncer != nil}
	last := make([]apiSync, len(syncs))
	for i, y := range syncs {
		last[i] = apiSync{ID: y.ID, Server: y.Server, Full: y.Full, StartedBy: y.StartedBy, StartedAt: y.StartedAt,
			Outcome: string(y.Outcome), Counts: y.Counts, Error: y.Error}
		if !y.FinishedAt.IsZero() {
			t := y.FinishedAt
			last[i].FinishedAt = &t
		}
	}
	out["syncs"] = last
	if h.syncer != nil {
		cur, next := h.syncer.State()
		out["server"], out["interval_seconds"] = h.syncer.Server(), int64(h.syncer.Interval()/time.Second)
		if !next.IsZero() {
			out["next"] = next
		}
		if cur != nil {
			out["running"] = map[string]any{"id": cur.ID, "full": cur.Full, "started_by": cur.StartedBy, "started_at": cur.StartedAt,
				"read": cur.Progress.Read, "committed": cur.Progress.Committed, "total": cur.Progress.Total}
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}

// handleAPISyncStart answers POST /api/v1/sync (admins; form full=1 for
// a full reconcile): 202 with the sync's id, or 409 while one runs.
func (h *handler) handleAPISyncStart(w http.ResponseWriter, r *http.Request) {
	if h.syncer == nil {
		h.fail(w, r, unavailable{"No WSUS server is configured: start wsusfix serve with -wsus-server."})
		return
	}
	id, err := h.syncer.Start(h.actor(r), r.PostFormValue("full") == "1")
	if errors.Is(err, wsus.ErrBusy) {
		h.problem(w, r, http.StatusConflict, "Already syncing", "A sync is already running; follow it at /api/v1/sync.")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusAccepted, map[string]any{"id": id, "page": string(views.SyncHref(id))})
}
