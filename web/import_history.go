package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	runs "wsusfix/store/run"

	"wsusfix/store"
	"wsusfix/store/hresult"
)

// historySink imports the history file.
type historySink struct {
	st                        *store.Store
	host, at, kb, title, op   int
	result, hresult, updateID int
	queue                     []store.EventInput
	lines                     []int // file line of each queued row
	inserted, duplicate       int
	touched                   map[int64]bool // hosts whose failure summary needs refreshing
}

func (h *historySink) header(cols []string) error {
	idx, err := columnIndex(cols,
		[]string{"host", "time", "kb", "title", "operation", "result", "hresult"}, []string{"update_id"})
	if err != nil {
		return err
	}
	h.host, h.at, h.kb, h.title = idx["host"], idx["time"], idx["kb"], idx["title"]
	h.op, h.result, h.hresult, h.updateID = idx["operation"], idx["result"], idx["hresult"], idx["update_id"]
	return nil
}

func (h *historySink) add(rec []string, line int) error {
	e := store.EventInput{
		HostName: field(rec, h.host),
		Title:    field(rec, h.title),
		UpdateID: field(rec, h.updateID),
		Source:   store.SourceImport,
	}
	if err := checkHostName(e.HostName); err != nil {
		return fmt.Errorf("host %q: %w", e.HostName, err)
	}
	var err error
	v := field(rec, h.at)
	if v == "" {
		return errors.New("time is empty")
	}
	if e.At, err = parseTime(v); err != nil {
		return fmt.Errorf("time %q: %w", v, err)
	}
	v = field(rec, h.kb)
	if e.KB, err = parseKB(v); err != nil {
		return fmt.Errorf("kb %q: %w", v, err)
	}
	if e.KB == "" && e.UpdateID == "" {
		return errors.New("no kb and no update_id: nothing identifies the update")
	}
	v = field(rec, h.op)
	if e.Operation = operations[strings.ToLower(v)]; e.Operation == "" {
		return fmt.Errorf("operation %q: want Installation or Uninstallation (or 1, 2)", v)
	}
	v = field(rec, h.result)
	if e.Result = results[strings.ToLower(v)]; e.Result == "" {
		return fmt.Errorf("result %q: want Succeeded, SucceededWithErrors, Failed, Aborted or InProgress (or 2, 3, 4, 5, 1)", v)
	}
	if v = field(rec, h.hresult); v != "" {
		c, err := hresult.Parse(v)
		if err != nil {
			return err // names the value and the accepted forms
		}
		e.HResult = uint32(c)
	}
	h.queue = append(h.queue, e)
	h.lines = append(h.lines, line)
	return nil
}

// operations and results map the accepted spellings, lower-cased, to the
// stored names; the numbers are the COM API's UpdateOperation and
// OperationResultCode.
var (
	operations = map[string]string{
		"installation": "Installation", "1": "Installation",
		"uninstallation": "Uninstallation", "2": "Uninstallation",
	}
	results = map[string]runs.UpdateResult{
		"inprogress": runs.ResultInProgress, "1": runs.ResultInProgress,
		"succeeded": runs.ResultSucceeded, "2": runs.ResultSucceeded,
		"succeededwitherrors": runs.ResultSucceededWithErrors, "3": runs.ResultSucceededWithErrors,
		"failed": runs.ResultFailed, "4": runs.ResultFailed,
		"aborted": runs.ResultAborted, "5": runs.ResultAborted,
	}
)

func (h *historySink) pending() int { return len(h.queue) }

func (h *historySink) flush(ctx context.Context, rep *report) error {
	if len(h.queue) == 0 {
		return nil
	}
	c, err := h.st.AppendUpdateEvents(ctx, h.queue)
	if err != nil {
		return err
	}
	for _, id := range c.Touched {
		h.touched[id] = true
	}
	for _, i := range c.UnknownIdx {
		rep.reject(h, h.lines[i], "unknown host %s (import hosts first)", h.queue[i].HostName)
	}
	h.inserted += c.Inserted
	h.duplicate += c.Duplicates
	clear(h.queue) // drop the strings so a batch does not pin its file text
	h.queue, h.lines = h.queue[:0], h.lines[:0]
	return nil
}

// done brings the failure summaries of every host this import touched up
// to date, once, rather than after each batch.
func (h *historySink) done(ctx context.Context) error {
	ids := make([]int64, 0, len(h.touched))
	for id := range h.touched {
		ids = append(ids, id)
	}
	return h.st.RefreshFailures(ctx, ids)
}

func (h *historySink) summary() string {
	return fmt.Sprintf("imported %d, duplicate %d", h.inserted, h.duplicate)
}
