package handlers

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

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
// then every row walk emits, with formula cells defused, flushed as it
// goes so memory does not grow with the rows. A failure after the headers
// are sent cuts the response short, so the download visibly fails rather
// than looking complete.
func (h *handler) streamCSV(w http.ResponseWriter, r *http.Request, prefix string, header []string,
	walk func(emit func(row []string) error) error) {
	name := prefix + "-" + time.Now().UTC().Format("20060102-1504") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	n := 0
	err := walk(func(row []string) error {
		for i := range row {
			row[i] = neutralizeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
		}
		return cw.Error()
	})
	cw.Flush()
	if err != nil {
		h.log.Error("export failed", "route", routePattern(r), "rows", n, "error", err,
			"request_id", requestIDFrom(r.Context()))
		panic(http.ErrAbortHandler)
	}
}

// neutralizeCell stops spreadsheets from running a cell as a formula: a
// value starting with = + - @, tab or carriage return gets a leading quote
// (OWASP CSV injection guidance).
func neutralizeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
