package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/store"
)

// exportHeader is the column list of /export/hosts.csv.
var exportHeader = []string{"host", "fqdn", "address", "os", "os_build", "group", "kb", "title",
	"hresult", "symbol", "meaning", "suggested_action", "kb910336_applies", "failed_at"}

// handleExportHosts streams GET /export/hosts.csv: the failing hosts under
// the current filters, every row, without holding them in memory.
func (h *handler) handleExportHosts(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseTriageQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.streamCSV(w, r, "failing-hosts", exportHeader, func(emit func([]string) error) error {
		return h.store.EachFailingHost(r.Context(), f, func(host store.Host) error {
			d := decode(host.Failure.HResult)
			return emit([]string{host.Name, host.FQDN, host.Address, host.OSCaption, host.OSBuild, host.Group,
				host.Failure.KB, host.Failure.Title, d.Code, d.Symbol, d.Meaning, d.Action,
				strconv.FormatBool(d.RepairApplies), host.Failure.At.Format(time.RFC3339)})
		})
	})
}

// streamCSV sends a CSV download named prefix-<time>.csv: the header row,
// then every row walk emits, each cell through the spreadsheet guard,
// flushed as it goes so memory does not grow with the rows. Nothing is
// sent until walk emits its first row or ends, so a failure before that
// (a query the database refuses) is an ordinary error page; a failure
// after that cuts the response short, so the download visibly fails
// rather than looking complete. HEAD gets the headers only.
func (h *handler) streamCSV(w http.ResponseWriter, r *http.Request, prefix string, header []string,
	walk func(emit func(row []string) error) error) {
	var cw *sheet.CSV
	start := func() {
		name := prefix + "-" + time.Now().UTC().Format("20060102-1504") + ".csv"
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		cw = sheet.NewCSV(w)
		_ = cw.Write(slices.Clone(header))
	}
	if r.Method == http.MethodHead {
		start()
		return
	}
	n := 0
	err := walk(func(row []string) error {
		if cw == nil {
			start()
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
		}
		return cw.Error()
	})
	if err != nil && cw == nil {
		h.fail(w, r, err)
		return
	}
	if cw == nil {
		start() // no rows: the header alone
	}
	cw.Flush()
	if err != nil {
		h.log.Error("export failed", "route", routePattern(r), "rows", n, "error", err,
			"request_id", requestIDFrom(r.Context()))
		panic(http.ErrAbortHandler)
	}
}
