package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"wsusfix/store"
	"wsusfix/views"
)

// historyPerPage is how many history entries one host page lists.
const historyPerPage = 200

// handleHostShow renders GET /hosts/{name}: facts and update history.
func (h *handler) handleHostShow(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	events, total, err := h.store.History(r.Context(), host.ID, historyPerPage, (page-1)*historyPerPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.HostProps{Host: host, HistoryTotal: total, Page: page,
		Pages: max(1, (total+historyPerPage-1)/historyPerPage), Back: backQuery(r)}
	if host.Failure != nil {
		in := decode(host.Failure.HResult)
		p.Failure = &in
		since := evidenceSince()
		all, err := h.store.RepairEvidence(r.Context(), store.ReportFilter{Since: since})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Evidence = views.EvidenceFor(all, host.Failure.HResult, since)
	}
	for _, e := range events {
		p.History = append(p.History, views.HistoryRow{Event: e, Error: decode(e.HResult)})
	}
	if p.Runs, _, err = h.store.Runs(r.Context(), store.RunFilter{HostID: host.ID, Limit: 20}); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(p.Runs) > 0 && p.Runs[0].Active() {
		p.ActiveRun = &p.Runs[0]
	}
	p.RepairOff, p.CanRepair = h.repairOff(), h.can(r, permRepair)
	h.render(w, r, http.StatusOK, views.HostPage(p))
}

// handleHostRepairConfirm renders GET /hosts/{name}/repair: what a repair
// of this host will change, flagged when the host is a server or when its
// failure is not one KB 910336 is expected to fix, with the form that
// starts it. Check only needs no confirmation: it changes nothing.
func (h *handler) handleHostRepairConfirm(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.RepairConfirmProps{Host: host, RepairOff: h.repairOff()}
	if p.Critical, err = h.store.CriticalGroups(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if host.Failure != nil {
		in := decode(host.Failure.HResult)
		p.Failure = &in
	}
	h.render(w, r, http.StatusOK, views.RepairConfirmPage(p))
}

// hostsPerPage is the length of a page of the host search.
const hostsPerPage = 50

// handleHostList renders GET /hosts?q=: every host whose name contains q,
// healthy ones too (triage lists only failing hosts).
func (h *handler) handleHostList(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	hosts, total, err := h.store.SearchHosts(r.Context(), q, hostsPerPage, (page-1)*hostsPerPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.HostsPage(views.HostsProps{Query: q, Hosts: hosts, Total: total, Page: page,
		Pages: max(1, (total+hostsPerPage-1)/hostsPerPage)}))
}

// backQuery is the triage view a host page was opened from (its ?back=),
// read through the triage's own parser so only its filters come back; a
// missing or malformed one is the plain triage page.
func backQuery(r *http.Request) views.TriageQuery {
	v, err := url.ParseQuery(r.URL.Query().Get("back"))
	if err != nil {
		return views.TriageQuery{}
	}
	q, _, err := parseTriageQuery(v)
	if err != nil {
		return views.TriageQuery{}
	}
	return q
}
