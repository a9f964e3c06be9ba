package handlers

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/store"
	"wsusfix/views"

	"golang.org/x/sync/errgroup"
)

// reportDays is the default range of the reports page: the last 90 days,
// as the evidence beside suggestions.
const reportDays = views.EvidenceDays

// parseReportsQuery reads the reports page's filters, with defaults: the
// last 90 days, hosts stale after 30 days of silence.
func parseReportsQuery(r *http.Request) (views.ReportsQuery, store.ReportFilter, error) {
	v := r.URL.Query()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	q := views.ReportsQuery{Group: v.Get("group"), From: v.Get("from"), To: v.Get("to"), Stale: 30}
	if q.From == "" {
		q.From = today.AddDate(0, 0, -reportDays).Format("2006-01-02")
	}
	if q.To == "" {
		q.To = today.Format("2006-01-02")
	}
	f := store.ReportFilter{Group: q.Group}
	if s := v.Get("stale"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 365 {
			return q, f, badRequest{"Stale after must be a number of days from 1 to 365."}
		}
		q.Stale = n
	}
	f.StaleDays = q.Stale
	if s := v.Get("code"); s != "" {
		c, err := parseCode(s)
		if err != nil {
			return q, f, err
		}
		q.Code, f.Code = c.String(), uint32(c)
	}
	var err error
	if f.Since, err = parseDay(q.From, "From"); err != nil {
		return q, f, err
	}
	if f.Until, err = parseDay(q.To, "To"); err != nil {
		return q, f, err
	}
	f.Until = f.Until.AddDate(0, 0, 1) // the To day is included
	if !f.Until.After(f.Since) {
		return q, f, badRequest{"The range ends before it begins."}
	}
	return q, f, nil
}

// handleReports renders GET /reports: compliance by group, repair
// activity by week, and what the repair did by code and by OS. Every
// figure comes from the summaries the store keeps as hosts and runs change
// (migration 0014) or from an index, never from a scan of the update
// history.
func (h *handler) handleReports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, f, err := parseReportsQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := views.ReportsProps{Query: q, Generated: time.Now(), Estate: "the inventory"}
	if y, err := h.store.LastGoodSync(ctx); err == nil {
		p.Estate = y.Server
	}
	// The figures are independent reads: they run side by side on the
	// store's read connections, so the page waits for the slowest, not
	// for their sum.
	var all []store.GroupCompliance
	g, gctx := errgroup.WithContext(ctx)
	rr := r.WithContext(gctx)
	g.Go(func() (err error) {
		all, err = h.store.ComplianceByGroup(gctx, store.ReportFilter{StaleDays: f.StaleDays})
		return err
	})
	g.Go(func() (err error) { p.Activity, err = h.store.RepairActivity(gctx, f); return err })
	g.Go(func() (err error) { p.ByCode, err = h.codeEvidence(rr, f); return err })
	g.Go(func() (err error) { p.ByOS, err = h.store.RepairByOS(gctx, f); return err })
	g.Go(func() (err error) { p.Trend, err = h.store.ComplianceTrend(gctx, f); return err })
	g.Go(func() (err error) { p.Failures, err = h.store.FailuresByWeek(gctx, f); return err })
	g.Go(func() (err error) { p.Median, p.MedianOf, err = h.store.TimeToRepair(gctx, f); return err })
	if err := g.Wait(); err != nil {
		h.fail(w, r, err)
		return
	}
	// All groups for the filter; the group filter narrows what is shown.
	for _, gc := range all {
		if gc.Group != "" {
			p.Groups = append(p.Groups, gc.Group)
		}
		if f.Group == "" || gc.Group == f.Group {
			p.Compliance = append(p.Compliance, gc)
		}
	}
	h.render(w, r, http.StatusOK, views.ReportsPage(p))
}

// codeEvidence is the repair's record by code, most hosts first.
func (h *handler) codeEvidence(r *http.Request, f store.ReportFilter) ([]views.CodeEvidence, error) {
	ev, err := h.store.RepairEvidence(r.Context(), f)
	if err != nil {
		return nil, err
	}
	out := make([]views.CodeEvidence, 0, len(ev))
	for code, e := range ev {
		out = append(out, views.CodeEvidence{Error: decode(code), E: e})
	}
	slices.SortFunc(out, func(a, b views.CodeEvidence) int {
		if a.E.Hosts != b.E.Hosts {
			return b.E.Hosts - a.E.Hosts
		}
		return cmp.Compare(a.E.HResult, b.E.HResult)
	})
	return out, nil
}

// Columns of the report's exports.
var (
	complianceColumns = []sheet.Column{sheet.Col("group", sheet.Text), sheet.Col("hosts", sheet.Int),
		sheet.Col("failing", sheet.Int), sheet.Col("stale", sheet.Int), sheet.Col("unknown", sheet.Int),
		sheet.Col("compliant", sheet.Int)}
	activityColumns = []sheet.Column{sheet.Col("week", sheet.Time), sheet.Col("repairs", sheet.Int),
		sheet.Col("repaired", sheet.Int), sheet.Col("still_failing", sheet.Int), sheet.Col("could_not_run", sheet.Int),
		sheet.Col("no_proof_yet", sheet.Int), sheet.Col("stopped", sheet.Int)}
	codeColumns = []sheet.Column{sheet.Col("hresult", sheet.Text), sheet.Col("symbol", sheet.Text),
		sheet.Col("hosts", sheet.Int), sheet.Col("repaired", sheet.Int), sheet.Col("still_failing", sheet.Int),
		sheet.Col("could_not_run", sheet.Int), sheet.Col("no_proof_yet", sheet.Int), sheet.Col("stopped", sheet.Int)}
)

// handleReportExport streams GET /reports/{list}.{format}: one list of
// the report (compliance, activity, codes) under the page's filters.
func (h *handler) handleReportExport(w http.ResponseWriter, r *http.Request) {
	h.reportList(w, r, exportFormat(r))
}

// reportList streams one list of the report in format, for the export
// and for the API. Each list is read inside streamTable's walk, so a HEAD
// request, which gets only the headers, runs no report query; a query
// that fails there, before any row, is still an ordinary error answer.
func (h *handler) reportList(w http.ResponseWriter, r *http.Request, format sheet.Format) {
	ctx := r.Context()
	_, f, err := parseReportsQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch list := r.PathValue("list"); list {
	case "compliance":
		h.streamTable(w, r, format, "compliance", "Compliance", complianceColumns, func(emit func([]sheet.Value) error) error {
			groups, err := h.store.ComplianceByGroup(ctx, f)
			if err != nil {
				return err
			}
			for _, g := range groups {
				if err := emit([]sheet.Value{sheet.S(g.Group), sheet.N(int64(g.Hosts)), sheet.N(int64(g.Failing)),
					sheet.N(int64(g.Stale)), sheet.N(int64(g.Unknown)), sheet.N(int64(g.Okay))}); err != nil {
					return err
				}
			}
			return nil
		})
	case "activity":
		h.streamTable(w, r, format, "repair-activity", "Repair activity", activityColumns, func(emit func([]sheet.Value) error) error {
			weeks, err := h.store.RepairActivity(ctx, f)
			if err != nil {
				return err
			}
			for _, wk := range weeks {
				if err := emit([]sheet.Value{sheet.T(wk.Week), sheet.N(int64(wk.Runs())), sheet.N(int64(wk.Repaired)),
					sheet.N(int64(wk.StillFailing)), sheet.N(int64(wk.CouldNotRun)), sheet.N(int64(wk.NoProof)),
					sheet.N(int64(wk.Stopped))}); err != nil {
					return err
				}
			}
			return nil
		})
	case "codes":
		h.streamTable(w, r, format, "repair-by-code", "Repair by code", codeColumns, func(emit func([]sheet.Value) error) error {
			codes, err := h.codeEvidence(r, f)
			if err != nil {
				return err
			}
			for _, c := range codes {
				e := c.E
				if err := emit([]sheet.Value{sheet.S(c.Error.Code), sheet.S(c.Error.Symbol), sheet.N(int64(e.Hosts)),
					sheet.N(int64(e.Repaired)), sheet.N(int64(e.StillFailing)), sheet.N(int64(e.CouldNotRun)),
					sheet.N(int64(e.NoProof)), sheet.N(int64(e.Stopped))}); err != nil {
					return err
				}
			}
			return nil
		})
	default:
		h.handleNotFound(w, r)
	}
}
