package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/runner"
	"wsusfix/store"
	"wsusfix/store/hresult"
	"wsusfix/store/run"
	"wsusfix/views"
)

// runsPerPage is how many runs the runs list shows at once.
const runsPerPage = 50

// repairOff says why repairs cannot start, or "" when they can.
func (h *handler) repairOff() string {
	if h.runner == nil {
		return "Repair is not configured: start wsusfix with WinRM settings (see README, 'Running it for real')."
	}
	return ""
}

// handleHostRepair starts POST /hosts/{name}/repair and answers 303 to the
// run's page, or 409 with a link to the run already active on the host.
func (h *handler) handleHostRepair(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	procedure := run.Procedure(r.PostFormValue("procedure"))
	if procedure == "" {
		procedure = run.ProcedureRepair
	}
	if procedure != run.ProcedureRepair && procedure != run.ProcedureCheck {
		h.fail(w, r, badRequest{"Unknown procedure " + strconv.Quote(string(procedure)) + ": choose repair or check."})
		return
	}
	rn, err := h.startRun(r, host, procedure, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, string(views.RunHref(rn.ID)), http.StatusSeeOther)
}

// handleHostRefresh starts POST /hosts/{name}/refresh, Refresh history:
// a run of its own that reads the host's update history and stores it,
// followed live on its run page like any other.
func (h *handler) handleHostRefresh(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rn, err := h.startRun(r, host, run.ProcedureHistory, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, string(views.RunHref(rn.ID)), http.StatusSeeOther)
}

// startRun records a queued run and hands it to the executor.
func (h *handler) startRun(r *http.Request, host store.Host, procedure run.Procedure, batchID int64) (store.Run, error) {
	if off := h.repairOff(); off != "" {
		return store.Run{}, unavailable{off}
	}
	rn, err := h.store.CreateRun(r.Context(), store.RunInput{HostID: host.ID, BatchID: batchID,
		Procedure: procedure, RequestedBy: h.actor(r)})
	if err != nil {
		return store.Run{}, err
	}
	job := runner.Job{RunID: rn.ID, HostID: host.ID, Procedure: procedure,
		Target: remote.Target{Name: targetName(host), Address: host.Address}}
	if host.Failure != nil && host.Failure.KB != "" {
		job.FailingKBs = []string{host.Failure.KB}
	}
	if err := h.runner.Submit(job); err != nil {
		// Shutting down: close the run rather than leave it queued forever.
		_, _ = h.store.FinishRun(r.Context(), rn.ID, store.RunResult{State: run.StateCancelled,
			Outcome: run.OutcomeCancelled, Summary: "The server was shutting down."})
		return store.Run{}, unavailable{"The server is shutting down; try again in a minute."}
	}
	return rn, nil
}

// targetName is the name to reach a host by: its FQDN when known, which
// is what certificates and Kerberos expect.
func targetName(h store.Host) string {
	if h.FQDN != "" {
		return h.FQDN
	}
	return h.Name
}

// runFromPath loads the run that the {id} path value names.
func (h *handler) runFromPath(r *http.Request) (store.Run, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Run{}, err
	}
	return h.store.Run(r.Context(), id)
}

// handleRunShow renders GET /runs/{id}: steps, output and outcome.
func (h *handler) handleRunShow(w http.ResponseWriter, r *http.Request) {
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.store.RunEvents(r.Context(), rn.ID, 0, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.RunProps{Run: rn, Steps: views.BuildSteps(rn.Procedure.Steps(), events),
		CanCancel: h.runner != nil && h.can(r, permRepair), Admin: h.can(r, permAdmin)}
	if len(events) > 0 {
		p.LastSeq = events[len(events)-1].Seq
	}
	if !rn.Active() {
		if p.Next, err = h.nextSteps(r, rn); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, views.RunPage(p))
}

// nextSteps is what a finished run's page offers next: run it again, a
// Check, and the next host failing with the same code, for the roles that
// may start runs.
func (h *handler) nextSteps(r *http.Request, rn store.Run) (*views.RunNext, error) {
	if h.runner == nil || !h.can(r, permRepair) || h.repairOff() != "" {
		return nil, nil
	}
	host, err := h.store.HostByID(r.Context(), rn.HostID)
	if err != nil {
		return nil, err
	}
	next := &views.RunNext{Host: host.Name, Procedure: rn.Procedure}
	if host.Failure == nil {
		return next, nil
	}
	code := host.Failure.HResult
	next.Code = hresult.Code(code).String()
	// The top of the triage list for the code, this host aside.
	others, err := h.store.FailingHosts(r.Context(), store.TriageFilter{HResult: &code, Limit: 2})
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.ID != host.ID {
			next.NextHost = o.Name
			break
		}
	}
	return next, nil
}

// handleRunCancel handles POST /runs/{id}/cancel and returns to the run.
func (h *handler) handleRunCancel(w http.ResponseWriter, r *http.Request) {
	rn, err := h.runFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rn.Active() {
		h.cancelRun(r, rn)
	}
	http.Redirect(w, r, string(views.RunHref(rn.ID)), http.StatusSeeOther)
}

// cancelRun asks the executor to cancel an active run. One the executor
// does not know (left active by a crash the start-up sweep has not seen)
// is closed honestly as interrupted.
func (h *handler) cancelRun(r *http.Request, rn store.Run) {
	if h.runner != nil && h.runner.Cancel(rn.ID) {
		return
	}
	_, _ = h.store.FinishRun(r.Context(), rn.ID, store.RunResult{State: run.StateInterrupted,
		Outcome: run.OutcomeInterrupted, Summary: "No worker was running it; its host's state is unknown."})
}

// handleRunList renders GET /runs with its filters.
func (h *handler) handleRunList(w http.ResponseWriter, r *http.Request) {
	q, f, err := parseRunsQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Limit, f.Offset = runsPerPage, (q.Page-1)*runsPerPage
	runs, total, err := h.store.Runs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.RunsPage(views.RunsProps{Runs: runs, Total: total, Filter: q, Page: q.Page,
		Pages: max(1, (total+runsPerPage-1)/runsPerPage)}))
}

// parseRunsQuery reads the runs list's filters, shared by the page and
// its exports.
func parseRunsQuery(r *http.Request) (views.RunsQuery, store.RunFilter, error) {
	v := r.URL.Query()
	q := views.RunsQuery{Host: v.Get("host"), State: v.Get("state"), Who: v.Get("who"), From: v.Get("from"), To: v.Get("to")}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	f := store.RunFilter{Host: q.Host, State: run.State(q.State), Who: q.Who}
	if s := v.Get("code"); s != "" {
		c, err := parseCode(s)
		if err != nil {
			return q, f, err
		}
		q.Code, f.Code = c.String(), uint32(c)
	}
	if s := v.Get("batch"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, f, badRequest{"batch must be a batch number."}
		}
		q.Batch, f.BatchID = n, n
	}
	var err error
	if f.Since, err = parseDay(q.From, "From"); err != nil {
		return q, f, err
	}
	if f.Until, err = parseDay(q.To, "To"); err != nil {
		return q, f, err
	}
	if !f.Until.IsZero() {
		f.Until = f.Until.AddDate(0, 0, 1) // the To day is included
	}
	return q, f, nil
}

// parseDay reads a YYYY-MM-DD filter value; empty is no bound.
func parseDay(s, label string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, badRequest{fmt.Sprintf("%s date %q: use the form 2026-11-23.", label, s)}
	}
	return t, nil
}

// unavailable is a request that cannot be served now, with a message for
// people (503).
type unavailable struct{ msg string }

// Error returns the message.
func (e unavailable) Error() string { return e.msg }
