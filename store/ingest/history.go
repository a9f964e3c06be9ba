package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"wsusfix/store"
	"wsusfix/store/hresult"
)

// HistoryRecord is one entry of a host's Windows Update history as a
// source supplies it, before validation. Values are taken as given, not
// trimmed.
type HistoryRecord struct {
	Host      string    // required; a host of the inventory
	At        time.Time // required
	KB        string    // KB5034441, kb5034441 or 5034441
	UpdateID  string    // the update's GUID; a record needs it or a KB
	Title     string
	Operation string // required; Installation, Uninstallation, or the UpdateOperation 1, 2
	Result    string // required; Succeeded, Failed, …, or the OperationResultCode 1 to 5
	HResult   uint32
}

// validateHistory checks r and returns it as the store takes it, or the
// reason it is refused. atErr and codeErr are a CSV row's parse errors of
// its time and hresult cells, checked where those fields' checks belong.
func validateHistory(r HistoryRecord, source string, atErr, codeErr error) (store.EventInput, error) {
	err := checkFields(field{"host", r.Host}, field{"kb", r.KB}, field{"update_id", r.UpdateID},
		field{"title", r.Title}, field{"operation", r.Operation}, field{"result", r.Result})
	if err != nil {
		return store.EventInput{}, err
	}
	if err := checkName("host", r.Host); err != nil {
		return store.EventInput{}, err
	}
	switch {
	case atErr != nil:
		return store.EventInput{}, atErr
	case r.At.IsZero():
		return store.EventInput{}, errors.New("time is empty")
	}
	e := store.EventInput{HostName: r.Host, At: r.At, UpdateID: r.UpdateID, Title: r.Title,
		HResult: r.HResult, Source: source}
	if e.KB, err = parseKB(r.KB); err != nil {
		return store.EventInput{}, fmt.Errorf("kb %q: %w", r.KB, err)
	}
	if e.KB == "" && e.UpdateID == "" {
		return store.EventInput{}, errors.New("no kb and no update_id: nothing identifies the update")
	}
	if e.Operation = operationName(r.Operation); e.Operation == "" {
		return store.EventInput{}, fmt.Errorf("operation %q: want Installation or Uninstallation (or 1, 2)", r.Operation)
	}
	if e.Result = resultName(r.Result); e.Result == "" {
		return store.EventInput{}, fmt.Errorf("result %q: want Succeeded, SucceededWithErrors, Failed, Aborted or InProgress (or 2, 3, 4, 5, 1)", r.Result)
	}
	if codeErr != nil {
		return store.EventInput{}, codeErr
	}
	return e, nil
}

// HistoryWriter validates history records and appends them in
// transactions of a batch, skipping entries already stored (same host,
// time, update and operation). A record whose host is not in the inventory
// is refused when its batch is stored. Close brings the failure summary of
// every host it added entries for up to date, once. It is not safe for
// concurrent use.
type HistoryWriter struct {
	q       batch[store.EventInput] // the queue, the counts and the store's failure
	st      *store.Store
	source  string
	touched map[int64]bool // hosts that gained entries
}

// NewHistoryWriter returns a writer storing batch records per transaction
// (DefaultBatch when batch is less than 1) under source (store.SourceImport,
// store.SourceWSUS, …) and passing each refused record to reject, which may
// be nil.
func NewHistoryWriter(st *store.Store, source string, batch int, reject RejectFunc) *HistoryWriter {
	return &HistoryWriter{q: newBatch[store.EventInput](batch, reject), st: st, source: source,
		touched: map[int64]bool{}}
}

// Add validates r and queues it, storing the queue once it holds a batch.
// ref identifies r in rejections. A refused record goes to the writer's
// RejectFunc, possibly only once its batch is stored; the error is the
// store's, after which the writer stores nothing more.
func (w *HistoryWriter) Add(ctx context.Context, r HistoryRecord, ref int) error {
	w.q.counts.Read++
	e, err := validateHistory(r, w.source, nil, nil)
	return w.add(ctx, e, err, ref)
}

// add queues a validated record, or refuses it for err.
func (w *HistoryWriter) add(ctx context.Context, e store.EventInput, err error, ref int) error {
	if w.q.err != nil {
		return w.q.err
	}
	if err != nil {
		w.q.refuse(ref, err.Error())
		return nil
	}
	if w.q.push(e, ref) {
		return w.flush(ctx)
	}
	return nil
}

// Pending returns how many valid records wait for the next transaction.
func (w *HistoryWriter) Pending() int { return len(w.q.queue) }

// flush appends the queue in one transaction and refuses the records whose
// host is unknown.
func (w *HistoryWriter) flush(ctx context.Context) error {
	if len(w.q.queue) == 0 || w.q.err != nil {
		return w.q.err
	}
	c, err := w.st.AppendUpdateEvents(ctx, w.q.queue)
	if err != nil {
		w.q.err = err
		return err
	}
	for _, id := range c.Touched {
		w.touched[id] = true
	}
	for _, i := range c.UnknownIdx {
		w.q.refuse(w.q.refs[i], fmt.Sprintf("unknown host %s (import hosts first)", w.q.queue[i].HostName))
	}
	w.q.counts.Imported += c.Inserted
	w.q.counts.Duplicate += c.Duplicates
	w.q.stored()
	return nil
}

// Close stores the records still queued, then brings the failure summaries
// of every host that gained entries up to date (also after a store
// failure, for the batches already committed), and returns what the writer
// did, with the store's errors, including one an earlier Add returned. The
// writer must not be used afterwards.
func (w *HistoryWriter) Close(ctx context.Context) (Counts, error) {
	err := w.flush(ctx)
	ids := make([]int64, 0, len(w.touched))
	for id := range w.touched {
		ids = append(ids, id)
	}
	err = errors.Join(err, w.st.RefreshFailures(ctx, ids))
	return w.q.counts, err
}

// historyColumns returns the history file's required columns.
func historyColumns() []string {
	return []string{"host", "time", "kb", "title", "operation", "result", "hresult"}
}

// historyOptional returns the columns a history file may have.
func historyOptional() []string { return []string{"update_id"} }

// historyRows reads the history file's rows into a HistoryWriter.
type historyRows struct {
	w                         *HistoryWriter
	source                    string // w's, read by parse on the reading goroutine
	host, at, kb, title, op   int
	result, hresult, updateID int
}

func (r *historyRows) header(cols []string) error {
	idx, err := columnIndex(cols, historyColumns(), historyOptional())
	if err != nil {
		return err
	}
	r.host, r.at, r.kb, r.title = idx["host"], idx["time"], idx["kb"], idx["title"]
	r.op, r.result, r.hresult, r.updateID = idx["operation"], idx["result"], idx["hresult"], idx["update_id"]
	return nil
}

func (r *historyRows) parse(rec []string) (store.EventInput, error) {
	h := HistoryRecord{Host: cell(rec, r.host), KB: cell(rec, r.kb), UpdateID: cell(rec, r.updateID),
		Title: cell(rec, r.title), Operation: cell(rec, r.op), Result: cell(rec, r.result)}
	var atErr, codeErr error
	if v := cell(rec, r.at); v != "" {
		var err error
		if h.At, err = parseTime(v); err != nil {
			atErr = fmt.Errorf("time %q: %w", v, err)
		}
	}
	if v := cell(rec, r.hresult); v != "" {
		// The error names the value and the accepted forms.
		var c hresult.Code
		c, codeErr = hresult.Parse(v)
		h.HResult = uint32(c)
	}
	return validateHistory(h, r.source, atErr, codeErr)
}

func (r *historyRows) add(ctx context.Context, e store.EventInput, err error, line int) error {
	return r.w.add(ctx, e, err, line)
}

func (r *historyRows) pending() int { return r.w.Pending() }

func (r *historyRows) close(ctx context.Context) (Counts, error) { return r.w.Close(ctx) }
