package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/views"
)

// bulkLimit caps one bulk repair: beyond this a filter is almost surely
// too broad, and the queue would run for days.
const bulkLimit = 2000

// bulkHosts resolves the hosts a bulk request names: explicit host names,
// or every failing host matching the triage filter in the form.
func (h *handler) bulkHosts(r *http.Request) ([]store.Host, views.TriageQuery, bool, error) {
	if err := r.ParseForm(); err != nil {
		return nil, views.TriageQuery{}, false, badRequest{"The form could not be read."}
	}
	names := r.Form["host"]
	if len(names) > 0 {
		if len(names) > bulkLimit {
			return nil, views.TriageQuery{}, false, badRequest{fmt.Sprintf("At most %d hosts at once.", bulkLimit)}
		}
		var hosts []store.Host
		for _, n := range names {
			host, err := h.store.HostByName(r.Context(), n)
			if err != nil {
				return nil, views.TriageQuery{}, false, err
			}
			hosts = append(hosts, host)
		}
		return hosts, views.TriageQuery{}, false, nil
	}
	q, f, err := parseTriageQuery(r.Form) // the URL's query and, on POST, the form fields
	if err != nil {
		return nil, q, true, err
	}
	if !q.Filtered() {
		return nil, q, true, badRequest{"Choose hosts, or filter the list (by error code, group or name) before repairing all of them."}
	}
	f.Sort, f.Desc, f.Limit = store.SortName, false, bulkLimit+1
	hosts, err := h.store.FailingHosts(r.Context(), f)
	if err == nil && len(hosts) > bulkLimit {
		err = badRequest{fmt.Sprintf("The filter matches more than %d hosts; narrow it down.", bulkLimit)}
	}
	return hosts, q, true, err
}

// handleRepairNew renders GET /repairs/new: the confirmation before a bulk
// repair, naming how many hosts and what will be done. It starts nothing.
func (h *handler) handleRepairNew(w http.ResponseWriter, r *http.Request) {
	hosts, q, fromQuery, err := h.bulkHosts(r)
	var br badRequest
	p := views.BulkProps{Query: q, FromQuery: fromQuery, Shown: 100, Limit: bulkLimit, Procedure: r.FormValue("procedure")}
	switch {
	case errors.As(err, &br):
		p.Problem = br.msg
	case err != nil:
		h.fail(w, r, err)
		return
	case len(hosts) == 0:
		p.Problem = "No failing hosts match; nothing to repair."
	case h.repairOff() != "":
		p.Problem = h.repairOff()
	}
	critical, err := h.store.CriticalGroups(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, host := range hosts {
		p.Hosts = append(p.Hosts, host.Name)
		if why := views.HostFlag(host, critical); why != "" {
			p.Flagged = append(p.Flagged, views.FlaggedHost{Name: host.Name, Why: why})
		}
	}
	h.render(w, r, http.StatusOK, views.BulkConfirmPage(p))
}

// handleRepairCreate handles POST /repairs: one batch, a run per host, then
// 303 to the batch page. Hosts already being repaired are left to their run.
func (h *handler) handleRepairCreate(w http.ResponseWriter, r *http.Request) {
	hosts, q, _, err := h.bulkHosts(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	procedure := run.Procedure(r.PostFormValue("procedure"))
	if procedure != run.ProcedureCheck {
		procedure = run.ProcedureRepair
	}
	batch, _, err := h.startBatch(r, hosts, procedure, bulkDescription(len(hosts), q))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, string(views.BatchHref(batch.ID)), http.StatusSeeOther)
}

// bulkDescription names a bulk run of n hosts chosen by q.
func bulkDescription(n int, q views.TriageQuery) string {
	if q.Code != "" {
		return fmt.Sprintf("%d hosts with %s", n, q.Code)
	}
	return fmt.Sprintf("%d hosts", n)
}

// startBatch creates a batch and queues a run for each host, and returns
// how many it queued: a host already being repaired is left to its run.
func (h *handler) startBatch(r *http.Request, hosts []store.Host, procedure run.Procedure, desc string) (store.Batch, int, error) {
	if off := h.repairOff(); off != "" {
		return store.Batch{}, 0, unavailable{off}
	}
	if len(hosts) == 0 {
		return store.Batch{}, 0, badRequest{"No hosts to repair."}
	}
	batch, err := h.store.CreateBatch(r.Context(), store.Batch{Procedure: procedure, RequestedBy: h.actor(r), Description: desc})
	if err != nil {
		return batch, 0, err
	}
	queued := 0
	for _, host := range hosts {
		switch _, err := h.startRun(r, host, procedure, batch.ID); {
		case err == nil:
			queued++
		case !errors.Is(err, store.ErrConflict):
			return batch, queued, err
		}
	}
	return batch, queued, nil
}

// handleBatchShow renders GET /batches/{id}: counts and runs.
func (h *handler) handleBatchShow(w http.ResponseWriter, r *http.Request) {
	p, err := h.batchProps(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.BatchPage(p))
}

func (h *handler) batchProps(r *http.Request) (views.BatchProps, error) {
	var p views.BatchProps
	var err error
	if p.Batch, p.Runs, err = h.batchRuns(r); err != nil {
		return p, err
	}
	if p.States, p.Outcomes, err = h.store.BatchCounts(r.Context(), p.Batch.ID); err != nil {
		return p, err
	}
	active := p.States[run.StateQueued] + p.States[run.StateRunning]
	p.Active = active > 0
	p.Failed = p.States[run.StateFailed] + p.States[run.StateInterrupted]
	p.Ended, p.Now = len(p.Runs)-active, time.Now()
	p.ETA = views.BatchETA(p.Batch.CreatedAt, p.Now, p.Ended, len(p.Runs))
	p.CanAct = h.can(r, permRepair)
	var going []int64
	for _, rn := range p.Runs {
		if rn.Active() {
			going = append(going, rn.ID)
		}
	}
	if p.Steps, err = h.store.CurrentSteps(r.Context(), going); err != nil {
		return p, err
	}
	return p, nil
}

// batchRuns reads the batch the path names, and its runs: what cancel,
// re-run and the batch's event stream need, without the page's counts,
// steps and estimate.
func (h *handler) batchRuns(r *http.Request) (store.Batch, []store.Run, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Batch{}, nil, err
	}
	b, err := h.store.Batch(r.Context(), id)
	if err != nil {
		return b, nil, err
	}
	runs, _, err := h.store.Runs(r.Context(), store.RunFilter{BatchID: id})
	return b, runs, err
}

// handleBatchCancel handles POST /batches/{id}/cancel, cancel-all: every
// run of the batch still queued or running is cancelled as one would be
// (its host's services restored), and the batch page shows them ending.
func (h *handler) handleBatchCancel(w http.ResponseWriter, r *http.Request) {
	b, runs, err := h.batchRuns(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, rn := range runs {
		if rn.Active() {
			h.cancelRun(r, rn)
		}
	}
	http.Redirect(w, r, string(views.BatchHref(b.ID)), http.StatusSeeOther)
}

// handleBatchRerun handles POST /batches/{id}/rerun: a new batch of the
// hosts whose runs failed or were interrupted.
func (h *handler) handleBatchRerun(w http.ResponseWriter, r *http.Request) {
	b, runs, err := h.batchRuns(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var hosts []store.Host
	for _, done := range runs {
		if done.State == run.StateFailed || done.State == run.StateInterrupted {
			host, err := h.store.HostByID(r.Context(), done.HostID)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			hosts = append(hosts, host)
		}
	}
	batch, _, err := h.startBatch(r, hosts, b.Procedure,
		fmt.Sprintf("re-run of %d failed from batch %s", len(hosts), strconv.FormatInt(b.ID, 10)))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, string(views.BatchHref(batch.ID)), http.StatusSeeOther)
}

// batchesPerPage is the length of a page of the list of batches.
const batchesPerPage = 50

// handleBatchList renders GET /batches: every batch, newest first, with
// its progress and outcomes.
func (h *handler) handleBatchList(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	batches, total, err := h.store.Batches(r.Context(), batchesPerPage, (page-1)*batchesPerPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.BatchesPage(views.BatchesProps{Batches: batches, Total: total, Page: page,
		Pages: max(1, (total+batchesPerPage-1)/batchesPerPage)}))
}
