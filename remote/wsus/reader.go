package wsus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/scripts"
	"wsusfix/store"
	"wsusfix/store/ingest"
	"wsusfix/store/run"
)

// reader takes the collector's output line by line, as it arrives, and
// commits each batch of computers before the next is read. Its methods run
// on the goroutine that writes the output (remote.Lines serialises them).
type reader struct {
	ctx     context.Context
	st      *store.Store
	opt     Options
	seenAt  time.Time
	sum     *Summary
	history *ingest.HistoryWriter

	lineNo   int            // stdout lines read, for positions
	received int            // computers in well-formed batches
	results  []scripts.Line // result lines, for scripts.StepResult
	refs     map[int]string // writer refs -> position, for rejections
	err      error          // the store's failure, which ends the sync
}

func newReader(ctx context.Context, st *store.Store, opt Options, seenAt time.Time, sum *Summary) *reader {
	r := &reader{ctx: ctx, st: st, opt: opt, seenAt: seenAt, sum: sum, refs: map[int]string{}}
	r.history = ingest.NewHistoryWriter(st, store.SourceWSUS, 0, r.rejected)
	return r
}

func (r *reader) problem(position, reason string) {
	r.sum.Problems = append(r.sum.Problems, Problem{Position: position, Reason: reason})
}

// output keeps a line for people, the last maxOutput only.
func (r *reader) output(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if len(r.sum.Output) == maxOutput {
		r.sum.Output = append(r.sum.Output[:0], r.sum.Output[1:]...)
	}
	r.sum.Output = append(r.sum.Output, text)
}

// rejected is the writers' RejectFunc.
func (r *reader) rejected(rej ingest.Rejection) {
	r.problem(r.refs[rej.Ref], rej.Reason)
}

// maxOutput is how many of the collector's lines for people a Summary
// keeps: the last ones, which say why it stopped when it did.
const maxOutput = 20

// line handles one output line.
func (r *reader) line(stream, text string) {
	if r.err != nil {
		return
	}
	if stream != remote.Stdout {
		r.output(text)
		return
	}
	r.lineNo++
	l, ok := scripts.ParseLine(text)
	if !ok {
		if trimmedTag(text) {
			r.problem("output line "+strconv.Itoa(r.lineNo), "a result line that is not one JSON object")
			return
		}
		r.output(text)
		return
	}
	if l.Step != scripts.WSUSInventory && l.Step != scripts.BootstrapStep {
		return // shown to nobody, believed by nobody: not the collector's line
	}
	switch l.Kind {
	case scripts.KindResult:
		r.results = append(r.results, l)
	case scripts.KindWarning:
		var w scripts.Warning
		if err := l.Decode(&w); err == nil {
			r.sum.Warnings = append(r.sum.Warnings, w.Message)
		}
	case scripts.KindComputers:
		var b scripts.ComputerBatch
		if err := l.Decode(&b); err != nil {
			r.problem("output line "+strconv.Itoa(r.lineNo), "a batch of computers that does not decode: "+err.Error())
			return
		}
		r.batch(b)
	}
}

// batch commits one batch: its hosts in one transaction first, so their
// history, queued after them, always finds them.
func (r *reader) batch(b scripts.ComputerBatch) {
	hosts := ingest.NewHostWriter(r.st, len(b.Computers)+1, r.rejected)
	base := r.received
	for i, c := range b.Computers {
		ref := base + i + 1
		r.refs[ref] = fmt.Sprintf("batch %d, computer %d (%.64s)", b.Batch, i+1, c.Name)
		h, err := r.host(c)
		if err != nil {
			r.problem(r.refs[ref], err.Error())
			continue
		}
		if r.err = hosts.Add(r.ctx, h, ref); r.err != nil {
			return
		}
	}
	counts, err := hosts.Close(r.ctx)
	if err != nil {
		r.err = err
		return
	}
	r.received += len(b.Computers)
	r.sum.New += counts.Imported
	r.sum.Updated += counts.Updated
	r.sum.Unchanged += counts.Duplicate
	r.sum.Computers += counts.Imported + counts.Updated + counts.Duplicate
	for i, c := range b.Computers {
		recs, err := r.failures(c)
		if err != nil {
			r.err = err
			return
		}
		for _, rec := range recs {
			if r.err = r.history.Add(r.ctx, rec, base+i+1); r.err != nil {
				return
			}
		}
	}
	if r.opt.Progress != nil {
		r.opt.Progress(Progress{Read: r.received, Committed: r.sum.Computers, Total: b.Total})
	}
}

// host is a computer as the inventory takes it. Its groups are its own
// groups, the first its primary: "All Computers" holds every computer and
// says nothing.
func (r *reader) host(c scripts.InventoryComputer) (ingest.Host, error) {
	// WSUS's IPAddress is where the client last reported from, not an
	// address to dial instead of its name: it goes stale with DHCP and
	// VPNs, may be an interface WinRM does not listen on, and Kerberos
	// needs the name anyway. A repair dials the FQDN unless the inventory
	// gives an address itself.
	h := ingest.Host{Name: c.Name, FQDN: c.FQDN, OSCaption: c.OS,
		WSUS: &ingest.WSUSFacts{Server: r.opt.Server, ComputerID: c.ID, Failed: c.FailedCount, Needed: c.NeededCount,
			PendingReboot: c.PendingRebootCount, Unknown: c.UnknownCount, SeenAt: r.seenAt}}
	switch {
	case c.OSVersion != "":
		h.OSBuild = c.OSVersion
	case c.OSBuild > 0:
		h.OSBuild = strconv.Itoa(c.OSBuild)
	}
	// Every group but "All Computers": a computer can be in several
	// (IComputerTarget.GetComputerTargetGroups), in an order Microsoft's
	// documentation does not give. No primary is named, so the store keeps
	// a host's stored primary while WSUS still lists it, and takes the
	// first listed for a new host or one moved out of it.
	for _, g := range c.Groups {
		if !strings.EqualFold(g, "All Computers") {
			h.Groups = append(h.Groups, g)
		}
	}
	if c.LastReported != "" {
		t, err := time.Parse(time.RFC3339, c.LastReported)
		if err != nil {
			return ingest.Host{}, fmt.Errorf("last_reported %q: %w", c.LastReported, err)
		}
		h.LastReport = t
	}
	return h, nil
}

// failures are a computer's failed updates as history. An update whose
// error event WSUS no longer holds is dated by the computer's last report,
// the latest time WSUS is known to have seen it failed, unless the history
// already has a failed attempt of it: that says as much, and the last
// report moves on with every sync. Without either date it cannot be
// placed in the history and is left out.
func (r *reader) failures(c scripts.InventoryComputer) ([]ingest.HistoryRecord, error) {
	var out []ingest.HistoryRecord
	for _, f := range c.Failed {
		at := f.Time
		if at == "" {
			known, err := r.st.FailedUpdateKnown(r.ctx, c.Name, f.UpdateID)
			if err != nil {
				return nil, err
			}
			if known {
				continue
			}
			at = c.LastReported
		}
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			continue
		}
		out = append(out, ingest.HistoryRecord{Host: c.Name, At: t, KB: f.KB, UpdateID: f.UpdateID, Title: f.Title,
			Operation: "Installation", Result: string(run.ResultFailed), HResult: f.HResult})
	}
	return out, nil
}
