package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// UpsertHosts inserts new hosts and updates changed ones, by name, in one
// transaction. A row identical to the stored host counts as unchanged, so
// importing the same file twice changes nothing. A name or FQDN that
// ValidateHostName refuses fails the whole call, before anything is written,
// with an error wrapping ErrInvalidHostName.
//
// The batch's stored hosts are read in one query and compared here, so an
// unchanged host costs no write at all (an incremental sync is mostly
// those); new hosts are inserted many to a statement, and added to the
// name search in one more: each statement that writes the search index
// (FTS5) makes it flush what it holds, and one flush per host is what
// made large imports quadratic. UpsertHosts is the only code that inserts
// hosts, and must stay so, or the search misses the others.
func (s *Store) UpsertHosts(ctx context.Context, in []HostInput) (UpsertCounts, error) {
	c, _, err := s.upsertHosts(ctx, in, nil)
	return c, err
}

// upsertHosts is UpsertHosts, with setup run first in the transaction.
func (s *Store) upsertHosts(ctx context.Context, in []HostInput, setup func(*hostUpsert) error) (UpsertCounts, []Repeat, error) {
	for _, h := range in {
		if err := checkHostInput(h); err != nil {
			return UpsertCounts{}, nil, fmt.Errorf("store: upsert hosts: %w", err)
		}
	}
	if len(in) > 0 {
		// A batch's hosts are all new on a first import or sync: their
		// statement is the one to have ready.
		if err := s.prepare(ctx, insertHostsSQL(min(len(in), insertChunk), in[0].WSUS != nil)); err != nil {
			return UpsertCounts{}, nil, mapErr("upsert hosts", err)
		}
	}
	var c UpsertCounts
	var repeats []Repeat
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		u := hostUpsert{st: s, ctx: ctx, tx: tx, now: s.now().UnixMilli(), moves: complianceDelta{}}
		if setup != nil {
			if err := setup(&u); err != nil {
				return err
			}
		}
		var err error
		c, err = u.run(in)
		repeats = u.repeats
		return err
	})
	if err != nil {
		repeats = nil
	}
	return c, repeats, mapErr("upsert hosts", err)
}

// storedHost is what UpsertHosts compares a host's input with.
type storedHost struct {
	id                                  int64
	fqdn, address, os, build, group     string
	lastReport                          sql.NullInt64
	wsusServer, wsusID                  string
	wFailed, wNeeded, wReboot, wUnknown sql.NullInt64
	wSeen, gone                         sql.NullInt64
	state                               string
	created                             int64
	groups                              []string // its other groups, host_groups
	idx                                 int      // pending: its input's index
	pending                             bool     // queued for insert in this call, not yet written
}

// sameHostFields reports whether h leaves the stored host's own fields as
// they are; the stored texts compare byte for byte, as SQL's IS does.
func (sh *storedHost) sameHostFields(h HostInput) bool {
	lr := ms(h.LastReportAt)
	if sh.fqdn != h.FQDN || sh.address != h.Address || sh.os != h.OSCaption || sh.build != h.OSBuild ||
		sh.lastReport != lr {
		return false
	}
	if sh.group != primaryGroup(h) {
		return false
	}
	if len(h.Groups) == 0 {
		// In its primary group alone, as most hosts are.
		return len(sh.groups) == 0
	}
	return sameGroups(sh.groups, otherGroups(h))
}

// sameWSUS reports whether f is what the host holds and the host is not
// gone; the time seen alone is no change, or every sync would update every
// host.
func (sh *storedHost) sameWSUS(f WSUSFacts) bool {
	eq := func(v sql.NullInt64, n int) bool { return v.Valid && v.Int64 == int64(n) }
	return sh.wsusServer == f.Server && sh.wsusID == f.ComputerID && eq(sh.wFailed, f.Failed) &&
		eq(sh.wNeeded, f.Needed) && eq(sh.wReboot, f.PendingReboot) && eq(sh.wUnknown, f.Unknown) && !sh.gone.Valid
}

// hostUpsert is one UpsertHosts inside its transaction.
type hostUpsert struct {
	maxID   int64 // the largest host id before this call
	st      *Store
	ctx     context.Context
	tx      *sql.Tx
	now     int64
	stored  map[string]*storedHost    // by lower-case name
	insert  []HostInput               // new hosts not yet written, without WSUS facts
	insertW []HostInput               // and with them
	seen    map[sql.NullInt64][]int64 // unchanged hosts whose time seen moves: time -> ids
	refresh []int64                   // hosts whose failure summary WSUS's new facts may change
	moves   complianceDelta           // updated hosts' changes to compliance_hosts
	// The stored hosts' UPDATEs, run together once every input is read
	// (flushUpdates), and the hosts among them that move group or OS, or
	// come back from gone: the summaries they change are taken out and put
	// back once for all of them, not once a host.
	updates           [][]any
	movedIDs, backIDs []int64
	// UpsertHostsOnce only, else nil: the set, the caller's ref of each
	// input, the first ref of each name given (by lower-case name), the
	// inputs left unwritten as repeats with other values, and the hosts to
	// add to the set: stored ones by id, new ones in insertion order.
	given     *Given
	refs      []int
	first     map[string]int
	repeats   []Repeat
	givenIDs  []int64
	givenRefs []int
	// The input index of each host of insert and insertW, and of every
	// host inserted so far in the order of their ids; the hosts whose
	// groups change, with their new groups.
	insertIdx, insertWIdx []int
	insertedIdx           []int
	regroup               []regroup
}

// regroup is a stored host whose groups change.
type regroup struct {
	id     int64
	groups []string
}

// insertChunk is how many hosts one INSERT carries at most: up to 16
// values each, under SQLite's 32,766 variables, and a divisor of
// DefaultBatch in ingest, so every statement of a large import is the one
// prepared.
const insertChunk = 1250

func (u *hostUpsert) run(in []HostInput) (UpsertCounts, error) {
	var c UpsertCounts
	if err := u.tx.QueryRowContext(u.ctx, "SELECT ifnull(max(id), 0) FROM hosts").Scan(&u.maxID); err != nil {
		return c, err
	}
	if err := u.load(in); err != nil {
		return c, err
	}
	if err := u.lookupGiven(); err != nil {
		return c, err
	}
	for i, h := range in {
		key := strings.ToLower(h.Name)
		firstRef, repeat := u.repeatOf(key, i)
		sh := u.stored[key]
		if sh != nil && sh.pending {
			// The same name twice in one call: the first must exist before
			// the second can update it. Its groups are written at the end
			// of the call, so they are the first's input's until then.
			first := sh.idx
			if err := u.flushInserts(); err != nil {
				return c, err
			}
			if err := u.load([]HostInput{h}); err != nil {
				return c, err
			}
			sh = u.stored[key]
			sh.groups = otherGroups(in[first])
		}
		if sh != nil && h.Group == "" && containsFold(h.Groups, sh.group) {
			// Groups with no primary named (a sync: WSUS lists a computer's
			// groups in no documented order) keep the stored primary while
			// it is among them, so the summaries and the triage group do
			// not move with the order of a list.
			h.Group = sh.group
		}
		if sh == nil {
			q, qi := &u.insert, &u.insertIdx
			if h.WSUS != nil {
				q, qi = &u.insertW, &u.insertWIdx
			}
			*q = append(*q, h)
			*qi = append(*qi, i)
			u.stored[key] = &storedHost{pending: true, idx: i}
			// A new host is unknown (no history) and not gone: counted here,
			// compliance_hosts needs no read of it back. The summaries
			// count a host under its primary group.
			u.moves.move(complianceKey{}, false, complianceKey{primaryGroup(h), StateUnknown, reportDay(ms(h.LastReportAt))}, true)
			c.Inserted++
			if len(*q) == insertChunk {
				if err := u.flushInserts(); err != nil {
					return c, err
				}
			}
			continue
		}
		if h.WSUS != nil {
			// A sync never sets or clears the address: it is the inventory's
			// own choice of where to dial instead of the name (WSUS's IP is
			// where the client last reported from, not where to reach it).
			h.Address = sh.address
		}
		wsusChanged := h.WSUS != nil && !sh.sameWSUS(*h.WSUS)
		changed := !sh.sameHostFields(h) || wsusChanged
		if u.given != nil && !repeat {
			u.givenIDs = append(u.givenIDs, sh.id)
			u.givenRefs = append(u.givenRefs, u.refs[i])
		}
		switch {
		case changed && repeat:
			u.repeats = append(u.repeats, Repeat{Index: i, Ref: u.refs[i], FirstRef: firstRef})
		case changed:
			// WSUS's counts or report time decide whether a failure is over
			// (notClearedByWSUS): the summary is read again. Asked before
			// updateHost, which moves sh to the new values.
			reported := sh.lastReport != ms(h.LastReportAt)
			if err := u.updateHost(sh, h); err != nil {
				return c, fmt.Errorf("host %q: %w", h.Name, err)
			}
			if wsusChanged || reported {
				u.refresh = append(u.refresh, sh.id)
			}
			c.Updated++
		default:
			if h.WSUS != nil && sh.wSeen != ms(h.WSUS.SeenAt) {
				if u.seen == nil {
					u.seen = map[sql.NullInt64][]int64{}
				}
				sh.wSeen = ms(h.WSUS.SeenAt)
				u.seen[sh.wSeen] = append(u.seen[sh.wSeen], sh.id)
			}
			c.Unchanged++
		}
	}
	if err := u.flushUpdates(); err != nil {
		return c, err
	}
	if err := u.flushInserts(); err != nil {
		return c, err
	}
	if c.Inserted > 0 {
		// The name search learns the new hosts in one statement (migration
		// 0005): they are the rows above the largest id before, since
		// without AUTOINCREMENT SQLite numbers a new row the largest plus
		// one, and the transaction holds the write lock.
		if _, err := u.tx.ExecContext(u.ctx, "INSERT INTO hosts_search (rowid, name) SELECT id, name FROM hosts WHERE id > ?",
			u.maxID); err != nil {
			return c, fmt.Errorf("index %d new hosts for search: %w", c.Inserted, err)
		}
	}
	if err := u.moves.apply(u.ctx, u.tx); err != nil {
		return c, fmt.Errorf("count new and moved hosts: %w", err)
	}
	if err := u.writeGroups(in); err != nil {
		return c, err
	}
	if err := u.recordGiven(); err != nil {
		return c, err
	}
	if err := u.flushSeen(); err != nil {
		return c, err
	}
	return c, refreshFailures(u.ctx, u.tx, u.refresh)
}

// load reads the stored hosts named in in.
func (u *hostUpsert) load(in []HostInput) error {
	if u.stored == nil {
		u.stored = make(map[string]*storedHost, len(in))
	}
	names := make([]string, len(in))
	for i, h := range in {
		names[i] = h.Name
	}
	arg, err := json.Marshal(names)
	if err != nil {
		return err
	}
	// name is COLLATE NOCASE, so = matches names in any case. Each name is
	// one seek in the name index, the list outermost (CROSS JOIN): "name
	// IN (SELECT ...)" would first copy the whole list into a temporary
	// b-tree, half the query's work for a batch of new hosts.
	rows, err := u.tx.QueryContext(u.ctx, `SELECT hosts.id, hosts.name, hosts.fqdn, hosts.address, hosts.os_caption,
			hosts.os_build, hosts.wsus_group, hosts.last_report_at, hosts.wsus_server, hosts.wsus_computer_id,
			hosts.wsus_failed, hosts.wsus_needed, hosts.wsus_pending_reboot, hosts.wsus_unknown, hosts.wsus_seen_at,
			hosts.gone_at, hosts.state, hosts.created_at, `+groupsColumn+`
		FROM json_each(?) j CROSS JOIN hosts ON hosts.name = j.value`, string(arg))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sh storedHost
		var name, groups string
		if err := rows.Scan(&sh.id, &name, &sh.fqdn, &sh.address, &sh.os, &sh.build, &sh.group, &sh.lastReport,
			&sh.wsusServer, &sh.wsusID, &sh.wFailed, &sh.wNeeded, &sh.wReboot, &sh.wUnknown, &sh.wSeen, &sh.gone,
			&sh.state, &sh.created, &groups); err != nil {
			return err
		}
		var err error
		if sh.groups, err = parseGroups(groups); err != nil {
			return err
		}
		u.stored[strings.ToLower(name)] = &sh
	}
	return rows.Err()
}

// flushInserts writes the queued new hosts, insertChunk to a statement.
func (u *hostUpsert) flushInserts() error {
	if err := u.insertHosts(u.insert, false); err != nil {
		return err
	}
	if err := u.insertHosts(u.insertW, true); err != nil {
		return err
	}
	// Their ids follow in this order: the plain ones, then those with
	// WSUS facts.
	u.insertedIdx = append(append(u.insertedIdx, u.insertIdx...), u.insertWIdx...)
	clear(u.insert)
	clear(u.insertW)
	u.insert, u.insertW = u.insert[:0], u.insertW[:0]
	u.insertIdx, u.insertWIdx = u.insertIdx[:0], u.insertWIdx[:0]
	// The pending entries stay pending: a name given again reads its row.
	return nil
}

// insertHosts inserts hosts in one statement; wsus says they all carry
// WSUS facts, else none does and the columns keep their defaults.
func (u *hostUpsert) insertHosts(hosts []HostInput, wsus bool) error {
	if len(hosts) == 0 {
		return nil
	}
	per := 7
	if wsus {
		per = 14
	}
	stmt, err := u.st.txStmt(u.ctx, u.tx, insertHostsSQL(len(hosts), wsus))
	if err != nil {
		return err
	}
	args := make([]any, 1, 1+per*len(hosts))
	args[0] = u.now
	for _, h := range hosts {
		args = append(args, h.Name, h.FQDN, h.Address, h.OSCaption, h.OSBuild, primaryGroup(h), ms(h.LastReportAt))
		if w := h.WSUS; wsus {
			args = append(args, w.Server, w.ComputerID, w.Failed, w.Needed, w.PendingReboot, w.Unknown, ms(w.SeenAt))
		}
	}
	if _, err := stmt.ExecContext(u.ctx, args...); err != nil {
		return fmt.Errorf("insert %d hosts from %q: %w", len(hosts), hosts[0].Name, err)
	}
	return nil
}

// insertHostsSQL is the INSERT of n hosts, with their WSUS facts or not.
func insertHostsSQL(n int, wsus bool) string {
	cols, per := "name, fqdn, address, os_caption, os_build, wsus_group, last_report_at", 7
	if wsus {
		cols += ", wsus_server, wsus_computer_id, wsus_failed, wsus_needed, wsus_pending_reboot, wsus_unknown, wsus_seen_at"
		per = 14
	}
	// Plain ? only: the driver looks each named or numbered parameter's
	// name up in a list as long as the statement's, once per parameter.
	// The time stamps are one value for all, the first ?: each value bound
	// is a call of its own, and cleared by another after the statement.
	row := "(?" + strings.Repeat(", ?", per-1) + ")"
	var b strings.Builder
	b.Grow(n*(len(row)+1) + 512)
	b.WriteString("INSERT INTO hosts (created_at, updated_at, " + cols + ") SELECT t.now, t.now")
	for i := range per {
		b.WriteString(", v.column" + strconv.Itoa(i+1))
	}
	b.WriteString(" FROM (SELECT ? AS now) t, (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(") v")
	return b.String()
}
