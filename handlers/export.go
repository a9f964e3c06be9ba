package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/store"
	"wsusfix/store/ingest"
	"wsusfix/store/run"
)

// hostColumns are the columns of /export/hosts.{csv,xlsx,json}: the
// triage list, with each host's last run and whether it was a verified
// repair. group is the primary WSUS group; groups is every group, the
// primary first, separated by semicolons as an import's groups column is.
var hostColumns = []sheet.Column{sheet.Col("host", sheet.Text), sheet.Col("fqdn", sheet.Text), sheet.Col("address", sheet.Text),
	sheet.Col("os", sheet.Text), sheet.Col("os_build", sheet.Text), sheet.Col("group", sheet.Text), sheet.Col("groups", sheet.Text),
	sheet.Col("kb", sheet.Text), sheet.Col("title", sheet.Text),
	sheet.Col("hresult", sheet.Text), sheet.Col("symbol", sheet.Text), sheet.Col("meaning", sheet.Text), sheet.Col("suggested_action", sheet.Text),
	sheet.Col("kb910336_applies", sheet.Bool), sheet.Col("failed_at", sheet.Time), sheet.Col("last_run", sheet.Int),
	sheet.Col("last_run_procedure", sheet.Text), sheet.Col("last_run_outcome", sheet.Text), sheet.Col("last_run_at", sheet.Time),
	sheet.Col("repair_verified", sheet.Bool)}

// handleExportHosts streams GET /export/hosts.{format}: the failing hosts
// under the current filters, every row, each with its newest run, from one
// query read a batch ahead of the writing (readAhead), so memory does not
// grow with the rows.
func (h *handler) handleExportHosts(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseTriageQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.streamTable(w, r, exportFormat(r), "failing-hosts", "Failing hosts", hostColumns, func(emit func([]sheet.Value) error) error {
		// One row of values serves every host.
		codes := decodeMemo{}
		vals := make([]sheet.Value, len(hostColumns))
		hosts := func(ctx context.Context, fn func(*store.ExportHost) error) error {
			return h.store.EachExportHost(ctx, f, fn)
		}
		return readAhead(r.Context(), hosts, func(host *store.ExportHost) error {
			d := codes.decode(host.HResult)
			vals[0], vals[1], vals[2], vals[3] = sheet.S(host.Name), sheet.S(host.FQDN), sheet.S(host.Address), sheet.S(host.OSCaption)
			groups := host.Group // most hosts are in one group: no join
			if len(host.Others) > 0 {
				groups = strings.Join(host.AllGroups(), ingest.GroupSeparator)
			}
			vals[4], vals[5], vals[6] = sheet.S(host.OSBuild), sheet.S(host.Group), sheet.S(groups)
			vals[7], vals[8] = sheet.S(host.KB), sheet.S(host.Title)
			vals[9], vals[10], vals[11], vals[12] = sheet.S(d.Code), sheet.S(d.Symbol), sheet.S(d.Meaning), sheet.S(d.Action)
			vals[13], vals[14], vals[15] = sheet.B(d.RepairApplies), sheet.T(host.FailedAt), sheet.N(host.LastRun)
			vals[16], vals[17] = sheet.S(string(host.LastProcedure)), sheet.S(string(host.LastOutcome))
			vals[18], vals[19] = sheet.T(host.LastFinishedAt), sheet.B(host.LastOutcome == run.OutcomeRepaired)
			return emit(vals)
		})
	})
}

// exportBatch is how many rows readAhead hands over at a time.
const exportBatch = 256

// readAhead calls fn for every row each walks (a store iterator: the
// hosts, runs or history an export lists), in order, on the caller's
// goroutine, while each reads the next rows on another: the database's
// work and the writing of rows overlap on two cores instead of taking
// turns. Rows are copied out of the iterator's reused value, so T must
// hold nothing the iterator reuses. Two batches exist at most, so memory
// does not grow with the rows. When fn fails, the read is cancelled;
// readAhead returns only after the reading goroutine has ended.
func readAhead[T any](ctx context.Context, each func(context.Context, func(*T) error) error, fn func(*T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []T, 1)
	free := make(chan []T, 2)
	free <- make([]T, 0, exportBatch)
	free <- make([]T, 0, exportBatch)
	read := make(chan error, 1)
	go func() {
		defer close(full)
		batch := <-free
		hand := func() error {
			select {
			case full <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = <-free // the writer returns each batch it takes
			return nil
		}
		err := each(ctx, func(row *T) error {
			if batch = append(batch, *row); len(batch) == exportBatch {
				return hand()
			}
			return nil
		})
		// What was read goes to the writer even when the read then
		// failed, so a cut-short export ends where the read did.
		if len(batch) > 0 {
			if herr := hand(); err == nil {
				err = herr
			}
		}
		read <- err
	}()
	var err error
	for batch := range full {
		for i := 0; i < len(batch) && err == nil; i++ {
			if err = fn(&batch[i]); err != nil {
				cancel()
			}
		}
		clear(batch)
		free <- batch[:0]
	}
	if rerr := <-read; err == nil {
		err = rerr
	}
	return err
}

// runColumns are the columns of /export/runs.{csv,xlsx,json}.
var runColumns = []sheet.Column{sheet.Col("run", sheet.Int), sheet.Col("host", sheet.Text), sheet.Col("procedure", sheet.Text),
	sheet.Col("batch", sheet.Int), sheet.Col("state", sheet.Text), sheet.Col("outcome", sheet.Text), sheet.Col("summary", sheet.Text),
	sheet.Col("requested_by", sheet.Text), sheet.Col("created_at", sheet.Time), sheet.Col("started_at", sheet.Time), sheet.Col("finished_at", sheet.Time),
	sheet.Col("duration_s", sheet.Int)}

// handleExportRuns streams GET /export/runs.{format}: the runs under the
// runs list's filters, newest first, from one query (store.EachRun), so
// the file is the runs as they stood when it began and memory does not
// grow with the rows.
func (h *handler) handleExportRuns(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseRunsQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.streamTable(w, r, exportFormat(r), "runs", "Runs", runColumns, func(emit func([]sheet.Value) error) error {
		vals := make([]sheet.Value, len(runColumns)) // a Table keeps nothing of a row: one slice serves all
		runs := func(ctx context.Context, fn func(*store.Run) error) error { return h.store.EachRun(ctx, f, fn) }
		return readAhead(r.Context(), runs, func(rn *store.Run) error {
			var took int64
			if !rn.StartedAt.IsZero() && !rn.FinishedAt.IsZero() {
				took = int64(rn.FinishedAt.Sub(rn.StartedAt).Round(time.Second) / time.Second)
			}
			vals[0], vals[1], vals[2], vals[3] = sheet.N(rn.ID), sheet.S(rn.HostName), sheet.S(string(rn.Procedure)), sheet.N(rn.BatchID)
			vals[4], vals[5], vals[6], vals[7] = sheet.S(string(rn.State)), sheet.S(string(rn.Outcome)), sheet.S(rn.Summary), sheet.S(rn.RequestedBy)
			vals[8], vals[9], vals[10], vals[11] = sheet.T(rn.CreatedAt), sheet.T(rn.StartedAt), sheet.T(rn.FinishedAt), sheet.N(took)
			return emit(vals)
		})
	})
}

// historyColumns are the columns of /hosts/{name}/history.{csv,xlsx,json}.
var historyColumns = []sheet.Column{sheet.Col("host", sheet.Text), sheet.Col("time", sheet.Time), sheet.Col("kb", sheet.Text),
	sheet.Col("title", sheet.Text), sheet.Col("operation", sheet.Text), sheet.Col("result", sheet.Text), sheet.Col("hresult", sheet.Text),
	sheet.Col("symbol", sheet.Text), sheet.Col("source", sheet.Text), sheet.Col("update_id", sheet.Text)}

// handleExportHistory streams GET /hosts/{name}/history.{format}: the
// host's whole update history, newest first, from one query
// (store.EachHistory), so a "Refresh history" committed meanwhile neither
// shifts nor splits it, and memory does not grow with the rows.
func (h *handler) handleExportHistory(w http.ResponseWriter, r *http.Request) {
	host, err := h.store.HostByName(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.streamTable(w, r, exportFormat(r), "history-"+host.Name, "History", historyColumns, func(emit func([]sheet.Value) error) error {
		codes := decodeMemo{}
		vals := make([]sheet.Value, len(historyColumns))
		history := func(ctx context.Context, fn func(*store.UpdateEvent) error) error {
			return h.store.EachHistory(ctx, host.ID, fn)
		}
		return readAhead(r.Context(), history, func(e *store.UpdateEvent) error {
			d := codes.decode(e.HResult)
			vals[0], vals[1], vals[2], vals[3] = sheet.S(host.Name), sheet.T(e.At), sheet.S(e.KB), sheet.S(e.Title)
			vals[4], vals[5], vals[6], vals[7] = sheet.S(e.Operation), sheet.S(string(e.Result)), sheet.S(d.Code), sheet.S(d.Symbol)
			vals[8], vals[9] = sheet.S(e.Source), sheet.S(e.UpdateID)
			return emit(vals)
		})
	})
}

// exportFormat reads the format the URL asks for; routes only match the
// formats sheet knows.
func exportFormat(r *http.Request) sheet.Format { return sheet.Format(r.PathValue("format")) }

// streamCSV streams a list of text columns as CSV; see streamTable.
func (h *handler) streamCSV(w http.ResponseWriter, r *http.Request, prefix string, header []string,
	walk func(emit func(row []string) error) error) {
	cols := make([]sheet.Column, len(header))
	for i, name := range header {
		cols[i] = sheet.Col(name, sheet.Text)
	}
	h.streamTable(w, r, sheet.FormatCSV, prefix, prefix, cols, func(emit func([]sheet.Value) error) error {
		return walk(func(row []string) error {
			vals := make([]sheet.Value, len(row))
			for i, s := range row {
				vals[i] = sheet.S(s)
			}
			return emit(vals)
		})
	})
}

// downloadHeaders sets the headers of a download named
// prefix-<time>.<format>, the same for GET and HEAD; an API answer is not
// named as a download.
func downloadHeaders(w http.ResponseWriter, r *http.Request, format sheet.Format, prefix string) {
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Cache-Control", "no-store")
	if isAPI(r) {
		return // an API answer is data for the program that asked, not a file to save
	}
	name := prefix + "-" + time.Now().UTC().Format("20060102-1504") + "." + string(format)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
}

// streamTable sends a download named prefix-<time>.<format>: the header,
// then every row walk emits, each text cell of CSV and XLSX through the
// spreadsheet guard (package sheet), flushed as it goes so memory does not
// grow with the rows (an XLSX's rows too, compressed into its zip as they
// come). Nothing is sent until walk emits its first row
// or ends, so a failure before that (a query the database refuses) is an
// ordinary error page; a failure after that cuts the response short, so
// the download visibly fails rather than looking complete. HEAD gets GET's
// headers only.
func (h *handler) streamTable(w http.ResponseWriter, r *http.Request, format sheet.Format, prefix, title string,
	cols []sheet.Column, walk func(emit func(row []sheet.Value) error) error) {
	var tb sheet.Table
	start := func() error {
		downloadHeaders(w, r, format, prefix)
		var err error
		tb, err = sheet.NewTable(w, format, title, cols)
		return err
	}
	if r.Method == http.MethodHead {
		// What GET would send, without reading a row: a client checking
		// the download (its name, that it is not cached) runs no query.
		downloadHeaders(w, r, format, prefix)
		return
	}
	n := 0
	err := walk(func(row []sheet.Value) error {
		if tb == nil {
			if err := start(); err != nil {
				return err
			}
		}
		if err := tb.Row(row); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			return tb.Flush()
		}
		return nil
	})
	if err != nil && tb == nil {
		h.fail(w, r, err)
		return
	}
	if tb == nil {
		if err := start(); err != nil { // no rows: the header alone
			h.fail(w, r, err)
			return
		}
	}
	if err == nil {
		err = tb.Close()
	} else {
		_ = tb.Abort() // what was written goes out, then the cut shows
	}
	if err != nil {
		h.log.Error("export failed", "route", routePattern(r), "rows", n, "error", err,
			"request_id", requestIDFrom(r.Context()))
		panic(http.ErrAbortHandler)
	}
}
