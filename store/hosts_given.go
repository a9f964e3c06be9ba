package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Given is the set of hosts one writer has stored so far, each with the
// caller's ref of the record that first gave it, so that a host given
// twice in one input is found however large the input, in memory that
// hardly grows with it. Each call adds one row to the writer connection's
// temporary database, never a row a host:
//   - the hosts it inserted are the run of ids SQLite gave them (kept here
//     too: a few words a call), and the row holds their refs, a varint
//     each;
//   - the stored hosts it gave are their ids and refs, varint deltas.
//
// An import of new hosts costs about a byte a host there, a re-import of
// stored ones about three, where a map of names cost some 65 in Go. A
// Given belongs to one writer; it is not safe for concurrent use.
type Given struct {
	id       int64
	used     bool    // rows were recorded, so ForgetGiven has some to drop
	last     bool    // the next call is the last: nothing asks after it
	seq      int64   // numbers the set's rows
	inserted []idRun // the hosts inserted, a run of ids per call
	pending  *idRun  // the run of the call under way, kept once it commits
	refs     [][]int // decoded refs of runs read back, by run; rare
	// storedCalls counts the calls that gave stored hosts, and
	// pendingStored says the call under way does, kept once it commits.
	storedCalls   int
	pendingStored bool
}

// Last says the next UpsertHostsOnce with the set is its last, so it
// records nothing in it: a writer's closing batch, or a sync's batch of
// one writer, costs no bookkeeping.
func (g *Given) Last() { g.last = true }

// idRun is the hosts one call inserted: ids lo to hi, created at now (the
// created_at SQLite holds, so a host another writer inserted later under
// a reused id is not taken for one of these).
type idRun struct{ lo, hi, now int64 }

// Repeat is a host that UpsertHostsOnce did not write because its name was
// given before with other values: the input's Index, its Ref, and the ref
// of the record that first gave the name.
type Repeat struct {
	Index    int
	Ref      int
	FirstRef int
}

// givenTableSQL creates the connection's table of what each call gave:
// a run of inserted hosts (lo, its first id, and refs) or stored hosts
// (ids and refs, lo 0). The writer column keeps two writers interleaving
// their batches on the one connection (an import during a sync) apart.
const givenTableSQL = `CREATE TEMP TABLE IF NOT EXISTS given_hosts (
	writer INTEGER NOT NULL,
	seq    INTEGER NOT NULL,
	lo     INTEGER NOT NULL,
	ids    BLOB    NOT NULL,
	refs   BLOB    NOT NULL,
	PRIMARY KEY (writer, seq)
) WITHOUT ROWID`

// NewGiven returns an empty set of given hosts.
func (s *Store) NewGiven() *Given { return &Given{id: s.givenSeq.Add(1)} }

// UpsertHostsOnce is UpsertHosts for an input that should give each host
// once, refs[i] being in[i]'s ref. A host given before, in an earlier call
// with the same set or earlier in in (by name, without case), is not
// written again: it counts as unchanged when its values are those stored,
// and comes back as a Repeat, unwritten, when they differ. Every other
// host is upserted as UpsertHosts does, and joins the set in the same
// transaction.
func (s *Store) UpsertHostsOnce(ctx context.Context, given *Given, in []HostInput, refs []int) (UpsertCounts, []Repeat, error) {
	if len(refs) != len(in) {
		return UpsertCounts{}, nil, fmt.Errorf("store: upsert hosts: %d refs for %d hosts", len(refs), len(in))
	}
	if len(in) > 0 && !given.used && !given.last {
		// The statements name the tables, which must exist to prepare one.
		// A temporary table is the connection's own: no page shows it.
		if _, err := s.write.quiet().ExecContext(ctx, givenTableSQL); err != nil {
			return UpsertCounts{}, nil, mapErr("upsert hosts", err)
		}
	}
	given.used = given.used || !given.last
	given.pending, given.pendingStored = nil, false
	seq := given.seq
	c, repeats, err := s.upsertHosts(ctx, in, func(u *hostUpsert) error {
		u.given, u.refs, u.first = given, refs, make(map[string]int, len(in))
		return nil
	})
	switch {
	case err != nil:
		given.seq = seq // the rows rolled back with the call
	case given.pending != nil:
		given.inserted = append(given.inserted, *given.pending)
	}
	if err == nil && given.pendingStored {
		given.storedCalls++
	}
	given.pending, given.pendingStored = nil, false
	return c, repeats, err
}

// lookupGiven finds which of the stored hosts load read the set holds
// already, and their first refs. A first import or sync reads none, and
// asks nothing; nor does a set's only call.
func (u *hostUpsert) lookupGiven() error {
	g := u.given
	if g == nil || !g.used || len(u.stored) == 0 {
		return nil
	}
	names := make(map[int64]string, len(u.stored))
	for key, sh := range u.stored {
		if r, k, ok := g.run(sh.id, sh.created); ok {
			ref, err := u.runRef(r, k)
			if err != nil {
				return err
			}
			u.first[key] = ref
			continue
		}
		names[sh.id] = key
	}
	if len(names) == 0 || g.storedCalls == 0 {
		return nil
	}
	// Every earlier call's stored hosts, one row a call: a re-import reads
	// each batch's row once a batch after it.
	rows, err := u.tx.QueryContext(u.ctx, "SELECT ids, refs FROM temp.given_hosts WHERE writer = ? AND lo = 0", g.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ids, refs []byte
		if err := rows.Scan(&ids, &refs); err != nil {
			return err
		}
		idList, err := decodeVarints(ids)
		if err != nil {
			return err
		}
		refList, err := decodeVarints(refs)
		if err != nil || len(refList) != len(idList) {
			return fmt.Errorf("given hosts: %d refs for %d ids, %v", len(refList), len(idList), err)
		}
		for j, id := range idList {
			if key, ok := names[int64(id)]; ok {
				if _, seen := u.first[key]; !seen {
					u.first[key] = refList[j]
				}
			}
		}
	}
	return rows.Err()
}

// run finds the run of inserted hosts that holds id, created at created:
// its index and id's place in it.
func (g *Given) run(id int64, created int64) (int, int, bool) {
	for i, r := range g.inserted {
		if r.lo <= id && id <= r.hi && r.now == created {
			return i, int(id - r.lo), true
		}
	}
	return 0, 0, false
}

// runRef reads the ref of the k-th host of run r, reading the run's refs
// back the first time one is needed.
func (u *hostUpsert) runRef(r, k int) (int, error) {
	g := u.given
	if len(g.refs) <= r {
		g.refs = append(g.refs, make([][]int, r+1-len(g.refs))...)
	}
	if g.refs[r] == nil {
		var blob []byte
		if err := u.tx.QueryRowContext(u.ctx, "SELECT refs FROM temp.given_hosts WHERE writer = ? AND lo = ?",
			g.id, g.inserted[r].lo).Scan(&blob); err != nil {
			return 0, fmt.Errorf("refs of hosts %d-%d: %w", g.inserted[r].lo, g.inserted[r].hi, err)
		}
		refs, err := decodeVarints(blob)
		if err != nil {
			return 0, err
		}
		g.refs[r] = refs
	}
	if k >= len(g.refs[r]) {
		return 0, fmt.Errorf("refs of hosts %d-%d: %d refs, want %d", g.inserted[r].lo, g.inserted[r].hi, len(g.refs[r]), k+1)
	}
	return g.refs[r][k], nil
}

// repeatOf reports whether in[i] repeats a host given before, and the ref
// that first gave it; a name seen for the first time is remembered for
// the rest of the call. It is false for a plain UpsertHosts.
func (u *hostUpsert) repeatOf(key string, i int) (int, bool) {
	if u.given == nil {
		return 0, false
	}
	if r, ok := u.first[key]; ok {
		return r, true
	}
	u.first[key] = u.refs[i]
	return 0, false
}

// recordGiven adds the call's hosts to the set, one row each for the new
// ones and for the stored ones. The new ones' ids are those above the
// largest before the call, in the order they were inserted (insertedIdx),
// since without AUTOINCREMENT SQLite numbers each new row the largest
// plus one and the transaction holds the write lock: their row holds only
// their refs. The stored ones' row holds their ids and refs.
func (u *hostUpsert) recordGiven() error {
	g := u.given
	if g == nil || g.last {
		return nil
	}
	if n := len(u.insertedIdx); n > 0 {
		refs := make([]int, n)
		for k, i := range u.insertedIdx {
			refs[k] = u.refs[i]
		}
		run := idRun{lo: u.maxID + 1, hi: u.maxID + int64(n), now: u.now}
		if err := u.insertGiven(run.lo, nil, refs); err != nil {
			return fmt.Errorf("record %d hosts given: %w", n, err)
		}
		g.pending = &run
	}
	if len(u.givenIDs) > 0 {
		ids := make([]int, len(u.givenIDs))
		for k, id := range u.givenIDs {
			ids[k] = int(id)
		}
		if err := u.insertGiven(0, ids, u.givenRefs); err != nil {
			return fmt.Errorf("record %d hosts given: %w", len(ids), err)
		}
		g.pendingStored = true
	}
	return nil
}

// insertGiven writes one row of the set.
func (u *hostUpsert) insertGiven(lo int64, ids, refs []int) error {
	u.given.seq++
	_, err := u.tx.ExecContext(u.ctx, "INSERT INTO temp.given_hosts (writer, seq, lo, ids, refs) VALUES (?, ?, ?, ?, ?)",
		u.given.id, u.given.seq, lo, encodeVarints(ids), encodeVarints(refs))
	return err
}

// encodeVarints writes v as varint deltas: ids and line numbers given in
// order take a byte or two each. The result is never nil, as the column
// is NOT NULL.
func encodeVarints(v []int) []byte {
	out := make([]byte, 0, len(v)+1)
	prev := 0
	for _, x := range v {
		out = binary.AppendVarint(out, int64(x-prev))
		prev = x
	}
	return out
}

// decodeVarints reads what encodeVarints wrote.
func decodeVarints(blob []byte) ([]int, error) {
	var out []int
	prev := int64(0)
	for len(blob) > 0 {
		d, n := binary.Varint(blob)
		if n <= 0 {
			return nil, errors.New("given hosts: bad varint")
		}
		prev += d
		out = append(out, int(prev))
		blob = blob[n:]
	}
	return out, nil
}

// ForgetGiven drops the set's rows from the connection's temporary
// database; the writer that owned the set calls it once, when it closes.
func (s *Store) ForgetGiven(ctx context.Context, given *Given) error {
	if !given.used {
		return nil
	}
	// used says the table exists; its rows are the connection's own, and
	// stay until the process ends unless dropped here, so a cancelled
	// import still drops them.
	_, err := s.write.quiet().ExecContext(context.WithoutCancel(ctx), "DELETE FROM temp.given_hosts WHERE writer = ?", given.id)
	if err != nil {
		return mapErr("forget given hosts", err)
	}
	given.used, given.inserted, given.refs, given.storedCalls = false, nil, nil, 0
	return nil
}
