package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Given is the set of hosts one writer has stored so far, each with the
// caller's ref of the record that first gave it, so that a host given
// twice in one input is found however large the input, in memory that
// does not grow with it:
//   - the hosts it inserted are, for each call, the ids SQLite gave them,
//     one run of ids a call (kept here: a few words per call), and their
//     refs one compact row a call in the writer connection's temporary
//     database;
//   - the stored hosts it gave are rows of that temporary database.
//
// The temporary database is a file with a bounded page cache
// (temp_store(FILE) on the writer), so an import of a million hosts costs
// the memory of one of a thousand. A Given belongs to one writer; it is
// not safe for concurrent use.
type Given struct {
	id       int64
	used     bool    // rows were recorded, so ForgetGiven has some to drop
	last     bool    // the next call is the last: nothing asks after it
	inserted []idRun // the hosts inserted, a run of ids per call
	pending  *idRun  // the run of the call under way, kept once it commits
	refs     [][]int // decoded refs of runs read back, by run; rare
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

// givenTableSQL creates the connection's tables of given hosts: stored
// hosts by id, and each call's inserted hosts' refs as one varint blob.
// The writer column keeps two writers interleaving their batches on the
// one connection (an import during a sync) apart.
const givenTableSQL = `CREATE TEMP TABLE IF NOT EXISTS given_hosts (
	writer  INTEGER NOT NULL,
	host_id INTEGER NOT NULL,
	ref     INTEGER NOT NULL,
	PRIMARY KEY (writer, host_id)
) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS given_runs (
	writer INTEGER NOT NULL,
	lo     INTEGER NOT NULL,
	refs   BLOB    NOT NULL,
	PRIMARY KEY (writer, lo)
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
		if _, err := s.write.ExecContext(ctx, givenTableSQL); err != nil {
			return UpsertCounts{}, nil, mapErr("upsert hosts", err)
		}
	}
	given.used = given.used || !given.last
	given.pending = nil
	c, repeats, err := s.upsertHosts(ctx, in, func(u *hostUpsert) error {
		u.given, u.refs, u.first = given, refs, make(map[string]int, len(in))
		return nil
	})
	if err == nil && given.pending != nil {
		given.inserted = append(given.inserted, *given.pending)
	}
	given.pending = nil
	return c, repeats, err
}

// givenChunk is how many stored hosts one INSERT into a set carries: two
// values each, under SQLite's 32,766 variables.
const givenChunk = 5000

// givenInsertSQL adds n stored hosts and their refs to a set, the set's
// number being the first ?.
func givenInsertSQL(n int) string {
	var b strings.Builder
	b.Grow(n*6 + 128)
	b.WriteString("INSERT INTO temp.given_hosts (writer, host_id, ref) SELECT t.writer, v.column1, v.column2 FROM (SELECT ? AS writer) t, (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?)")
	}
	b.WriteString(") v")
	return b.String()
}

// lookupGiven finds which of the stored hosts load read the set holds
// already, and their first refs. A first import or sync reads none, and
// asks nothing; nor does a set's only call.
func (u *hostUpsert) lookupGiven() error {
	if u.given == nil || !u.given.used || len(u.stored) == 0 {
		return nil
	}
	var ids []int64
	names := make(map[int64]string, len(u.stored))
	for key, sh := range u.stored {
		if r, k, ok := u.given.run(sh.id, sh.created); ok {
			ref, err := u.runRef(r, k)
			if err != nil {
				return err
			}
			u.first[key] = ref
			continue
		}
		ids = append(ids, sh.id)
		names[sh.id] = key
	}
	if len(ids) == 0 {
		return nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := u.tx.QueryContext(u.ctx, `SELECT host_id, ref FROM temp.given_hosts
		WHERE writer = ?1 AND host_id IN (SELECT value FROM json_each(?2))`, u.given.id, string(arg))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ref int
		if err := rows.Scan(&id, &ref); err != nil {
			return err
		}
		u.first[names[id]] = ref
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
		if err := u.tx.QueryRowContext(u.ctx, "SELECT refs FROM temp.given_runs WHERE writer = ? AND lo = ?",
			g.id, g.inserted[r].lo).Scan(&blob); err != nil {
			return 0, fmt.Errorf("refs of hosts %d-%d: %w", g.inserted[r].lo, g.inserted[r].hi, err)
		}
		refs, err := decodeRefs(blob)
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

// recordGiven adds the call's hosts to the set: the stored ones it gave
// (givenIDs, givenRefs) a row each, and the new ones as one run: their ids
// are those above the largest before the call, in the order they were
// inserted (insertedIdx), since without AUTOINCREMENT SQLite numbers each
// new row the largest plus one and the transaction holds the write lock.
// Their refs go in one row, a varint each, so a large import writes one
// small row a batch here.
func (u *hostUpsert) recordGiven() error {
	if u.given == nil || u.given.last {
		return nil
	}
	if n := len(u.insertedIdx); n > 0 {
		var blob []byte
		prev := 0
		for _, i := range u.insertedIdx {
			blob = binary.AppendVarint(blob, int64(u.refs[i]-prev))
			prev = u.refs[i]
		}
		run := idRun{lo: u.maxID + 1, hi: u.maxID + int64(n), now: u.now}
		if _, err := u.tx.ExecContext(u.ctx, "INSERT INTO temp.given_runs (writer, lo, refs) VALUES (?, ?, ?)",
			u.given.id, run.lo, blob); err != nil {
			return fmt.Errorf("record %d hosts given: %w", n, err)
		}
		u.given.pending = &run
	}
	for start := 0; start < len(u.givenIDs); start += givenChunk {
		end := min(start+givenChunk, len(u.givenIDs))
		st, err := u.st.txStmt(u.ctx, u.tx, givenInsertSQL(end-start))
		if err != nil {
			return err
		}
		args := make([]any, 1, 1+2*(end-start))
		args[0] = u.given.id
		for i := start; i < end; i++ {
			args = append(args, u.givenIDs[i], u.givenRefs[i])
		}
		if _, err := st.ExecContext(u.ctx, args...); err != nil {
			return fmt.Errorf("record %d hosts given: %w", end-start, err)
		}
	}
	return nil
}

// decodeRefs reads the refs recordGiven wrote for a run.
func decodeRefs(blob []byte) ([]int, error) {
	var refs []int
	prev := int64(0)
	for len(blob) > 0 {
		d, n := binary.Varint(blob)
		if n <= 0 {
			return nil, errors.New("refs of given hosts: bad varint")
		}
		prev += d
		refs = append(refs, int(prev))
		blob = blob[n:]
	}
	return refs, nil
}

// ForgetGiven drops the set's rows from the connection's temporary
// database; the writer that owned the set calls it once, when it closes.
func (s *Store) ForgetGiven(ctx context.Context, given *Given) error {
	if !given.used {
		return nil
	}
	given.used, given.inserted, given.refs = false, nil, nil
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, givenTableSQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM temp.given_hosts WHERE writer = ?", given.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM temp.given_runs WHERE writer = ?", given.id)
		return err
	})
	return mapErr("forget given hosts", err)
}
