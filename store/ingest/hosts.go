package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"wsusfix/store"
)

// Host is one computer of the inventory as a source supplies it, before
// validation. Values are taken as given, not trimmed.
type Host struct {
	Name       string // required; a NetBIOS name or FQDN
	FQDN       string // DNS name repairs connect to
	Address    string // IP or IP:port to dial instead of resolving the name
	OSCaption  string
	OSBuild    string   // digits and dots, such as 10.0.26100.2894
	Group      string   // primary WSUS computer target group; the first of Groups when empty
	Groups     []string // every WSUS group of the host, the primary among them or not
	LastReport time.Time
	// WSUS is what a WSUS sync read of the host; nil from an import.
	WSUS *WSUSFacts
}

// validateHost checks h and returns it as the store takes it, or the
// reason it is refused; lastReportErr is a CSV cell's parse error, which
// comes after the other checks.
func validateHost(h Host, lastReportErr error) (store.HostInput, error) {
	err := checkFields(field{"name", h.Name}, field{"fqdn", h.FQDN}, field{"address", h.Address},
		field{"os", h.OSCaption}, field{"os_build", h.OSBuild}, field{"group", h.Group})
	if err != nil {
		return store.HostInput{}, err
	}
	for _, g := range h.Groups {
		if err := checkLength("group", g); err != nil {
			return store.HostInput{}, err
		}
	}
	if err := checkName("name", h.Name); err != nil {
		return store.HostInput{}, err
	}
	if h.FQDN != "" {
		if err := checkName("fqdn", h.FQDN); err != nil {
			return store.HostInput{}, err
		}
	}
	addr, err := parseAddress(h.Address)
	if err != nil {
		return store.HostInput{}, fmt.Errorf("address %q: %w", h.Address, err)
	}
	if !isBuild(h.OSBuild) {
		return store.HostInput{}, fmt.Errorf("os_build %q: want digits and dots, such as 10.0.26100.2894", h.OSBuild)
	}
	if lastReportErr != nil {
		return store.HostInput{}, lastReportErr
	}
	wsus, err := validateWSUS(h.WSUS)
	if err != nil {
		return store.HostInput{}, err
	}
	in := store.HostInput{Name: h.Name, FQDN: h.FQDN, Address: addr, OSCaption: h.OSCaption,
		OSBuild: h.OSBuild, Group: h.Group, Groups: h.Groups, LastReportAt: h.LastReport, WSUS: wsus}
	if err := store.CheckGroups(in); err != nil {
		return store.HostInput{}, fmt.Errorf("groups: %w", err)
	}
	return in, nil
}

// HostWriter validates hosts and upserts them by name in transactions of
// a batch. A host given twice with the same values counts as a duplicate,
// and with different values is refused. The names given so far are kept
// by the store (store.Given), not in memory, so the writer's memory does
// not grow with its input. It is not safe for concurrent use.
type HostWriter struct {
	q     batch[store.HostInput] // the queue, the counts and the store's failure
	st    *store.Store
	given *store.Given // the names stored so far: hosts given twice
}

// NewHostWriter returns a writer storing batch hosts per transaction
// (DefaultBatch when batch is less than 1) and passing each refused host
// to reject, which may be nil.
func NewHostWriter(st *store.Store, batch int, reject RejectFunc) *HostWriter {
	return &HostWriter{q: newBatch[store.HostInput](batch, reject), st: st, given: st.NewGiven()}
}

// Add validates h and queues it, storing the queue once it holds a batch.
// ref identifies h in rejections; the message for a host given twice
// calls the earlier one's ref its line. A refused host goes to the
// writer's RejectFunc, a repeat with other values once its batch is
// stored; the error is the store's, after which the writer stores nothing
// more.
func (w *HostWriter) Add(ctx context.Context, h Host, ref int) error {
	w.q.counts.Read++
	in, err := validateHost(h, nil)
	return w.add(ctx, in, err, ref)
}

// add queues a validated host, or refuses it for err.
func (w *HostWriter) add(ctx context.Context, in store.HostInput, err error, ref int) error {
	if w.q.err != nil {
		return w.q.err
	}
	if err != nil {
		w.q.refuse(ref, err.Error())
		return nil
	}
	if w.q.push(in, ref) {
		return w.flush(ctx)
	}
	return nil
}

// Pending returns how many valid hosts wait for the next transaction.
func (w *HostWriter) Pending() int { return len(w.q.queue) }

// flush upserts the queue in one transaction.
func (w *HostWriter) flush(ctx context.Context) error {
	if len(w.q.queue) == 0 || w.q.err != nil {
		return w.q.err
	}
	c, repeats, err := w.st.UpsertHostsOnce(ctx, w.given, w.q.queue, w.q.refs)
	if err != nil {
		w.q.err = err
		return err
	}
	for _, r := range repeats {
		w.q.refuse(r.Ref, fmt.Sprintf("host %s already given at line %d with different values", w.q.queue[r.Index].Name, r.FirstRef))
	}
	w.q.counts.Imported += c.Inserted
	w.q.counts.Updated += c.Updated
	w.q.counts.Duplicate += c.Unchanged
	w.q.stored()
	return nil
}

// Close stores the hosts still queued and returns what the writer did,
// with the store's error if it failed, now or during an earlier Add. The
// writer must not be used afterwards.
func (w *HostWriter) Close(ctx context.Context) (Counts, error) {
	w.given.Last()
	err := w.flush(ctx)
	if ferr := w.st.ForgetGiven(ctx, w.given); err == nil {
		err = ferr
	}
	return w.q.counts, err
}

// hostColumns returns the hosts file's columns, all required.
func hostColumns() []string {
	return []string{"name", "fqdn", "address", "os", "os_build", "group", "last_report"}
}

// hostOptional returns the hosts file's optional columns: groups is every
// WSUS group of the host, separated by semicolons.
func hostOptional() []string { return []string{"groups"} }

// GroupSeparator separates the names in a groups cell (the hosts export
// writes its groups column with it too). WSUS allows it in a group name,
// but a name with one can only be a host's primary group, given in the
// group column.
const GroupSeparator = ";"

// hostRows reads the hosts file's rows into a HostWriter.
type hostRows struct {
	w                           *HostWriter
	name, fqdn, addr, os, build int
	group, groups, lastReport   int
}

func (r *hostRows) header(cols []string) error {
	idx, err := columnIndex(cols, hostColumns(), hostOptional())
	if err != nil {
		return err
	}
	r.name, r.fqdn, r.addr, r.os = idx["name"], idx["fqdn"], idx["address"], idx["os"]
	r.build, r.group, r.groups, r.lastReport = idx["os_build"], idx["group"], idx["groups"], idx["last_report"]
	return nil
}

func (r *hostRows) parse(rec []string) (store.HostInput, error) {
	h := Host{Name: cell(rec, r.name), FQDN: cell(rec, r.fqdn), Address: cell(rec, r.addr),
		OSCaption: cell(rec, r.os), OSBuild: cell(rec, r.build), Group: cell(rec, r.group)}
	if v := cell(rec, r.groups); v != "" {
		for g := range strings.SplitSeq(v, GroupSeparator) {
			if g = strings.TrimSpace(g); g != "" {
				h.Groups = append(h.Groups, g)
			}
		}
	}
	var lastReportErr error
	if v := cell(rec, r.lastReport); v != "" {
		var err error
		if h.LastReport, err = parseTime(v); err != nil {
			lastReportErr = fmt.Errorf("last_report %q: %w", v, err)
		}
	}
	return validateHost(h, lastReportErr)
}

func (r *hostRows) add(ctx context.Context, in store.HostInput, err error, line int) error {
	return r.w.add(ctx, in, err, line)
}

func (r *hostRows) pending() int { return r.w.Pending() }

func (r *hostRows) close(ctx context.Context) (Counts, error) { return r.w.Close(ctx) }
