package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"wsusfix/store"
	"wsusfix/store/hresult"
	"wsusfix/views"
)

// triagePerPage is how many failing hosts one page lists.
const triagePerPage = 50

// parseTriageQuery reads the triage filters from v: the URL's query on
// GET, the parsed form when a form carries the filter (bulk repair). A
// malformed error code is a bad request (the user typed it); other
// oddities fall back to defaults so an old bookmark still works.
func parseTriageQuery(v url.Values) (views.TriageQuery, store.TriageFilter, error) {
	q := views.TriageQuery{Group: v.Get("group"), Q: v.Get("q"), Desc: v.Get("dir") == "desc"}
	f := store.TriageFilter{Group: q.Group, Search: q.Q, Desc: true, Sort: store.SortFailedAt}
	if s := v.Get("code"); s != "" {
		c, err := parseCode(s)
		if err != nil {
			return q, f, err
		}
		q.Code = c.String()
		u := uint32(c)
		f.HResult = &u
	}
	switch s := v.Get("sort"); s {
	case store.SortName, store.SortGroup, store.SortOS, store.SortCode, store.SortKB, store.SortFailedAt:
		q.Sort, f.Sort, f.Desc = s, s, q.Desc
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q, f, nil
}

// handleTriageList renders GET /: failing hosts, filtered, sorted and paged.
func (h *handler) handleTriageList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, f, err := parseTriageQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.TriageProps{Query: q, CanRepair: h.can(r, permRepair)}
	switch y, err := h.store.LastGoodSync(ctx); {
	case err == nil:
		p.LastSync = &y
	case !errors.Is(err, store.ErrNotFound):
		h.fail(w, r, err)
		return
	}
	if p.Inventory, err = h.store.CountHosts(ctx); err != nil || p.Inventory == 0 {
		h.renderTriage(w, r, p, err)
		return
	}
	counts, err := h.store.FailureCounts(ctx, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, c := range counts {
		p.Counts = append(p.Counts, views.CodeCount{Error: decode(c.HResult), Hosts: c.Hosts})
		p.Failing += c.Hosts
	}
	if p.Groups, err = h.store.FailingGroups(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	p.EvidenceSince = evidenceSince()
	if p.Evidence, err = h.store.RepairEvidence(ctx, store.ReportFilter{Since: p.EvidenceSince}); err != nil {
		h.fail(w, r, err)
		return
	}
	f.Limit, f.Offset = triagePerPage, (q.Page-1)*triagePerPage
	hosts, err := h.store.FailingHosts(ctx, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	total := f.Matching(counts)
	p.Matching, p.Page, p.Pages = total, q.Page, max(1, (total+triagePerPage-1)/triagePerPage)
	if q.Page > p.Pages {
		// A page past the end (the list shrank): show the last one.
		http.Redirect(w, r, string(q.WithPage(p.Pages).Href("/")), http.StatusSeeOther)
		return
	}
	ids := make([]int64, len(hosts))
	for i, host := range hosts {
		ids[i] = host.ID
	}
	last, err := h.store.LastRuns(ctx, ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, host := range hosts {
		row := views.TriageRow{Host: host, Error: decode(host.Failure.HResult)}
		if rn, ok := last[host.ID]; ok {
			row.LastRun = &rn
		}
		p.Rows = append(p.Rows, row)
	}
	h.renderTriage(w, r, p, nil)
}

func (h *handler) renderTriage(w http.ResponseWriter, r *http.Request, p views.TriageProps, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.TriagePage(p))
}

// evidenceSince is the start of the estate's evidence window, to the day,
// so links to its runs name a whole day.
func evidenceSince() time.Time {
	return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -views.EvidenceDays)
}

// parseCode reads an error code filter the way people type it; a code
// that is not an HRESULT is a bad request saying which forms work.
func parseCode(s string) (hresult.Code, error) {
	c, err := hresult.Parse(s)
	if err != nil {
		return 0, badRequest{"The error code " + strconv.Quote(s) +
			" is not an HRESULT. Use a form such as 0x80070002, 80070002 or -2147024894."}
	}
	return c, nil
}
