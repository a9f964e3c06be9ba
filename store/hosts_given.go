package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
)

// Given is the set of hosts one writer has stored so far, each with the
// caller's ref of the record that first gave it, so that a host given
// twice in one input is found however large the input. The set lives in
// the writer connection's temporary database, which is a file with a
// bounded page cache (temp_store(FILE) on the writer), not in Go memory:
// an import of a million hosts costs the memory of one of a thousand.
// A Given belongs to one writer; it is not safe for concurrent use.
type Given struct {
	id   int64
	used bool // hosts were recorded, so ForgetGiven has rows to drop
}

// Repeat is a host that UpsertHostsOnce did not write because its name was
// given before with other values: the input's Index, its Ref, and the ref
// of the record that first gave the name.
type Repeat struct {
	Index    int
	Ref      int
	FirstRef int
}

// givenTableSQL creates the connection's table of given hosts, by id: an
// integer key costs less to insert and seek than a name without case. The
// writer column keeps two writers interleaving their batches on the one
// connection (an import during a sync) apart.
const givenTableSQL = `CREATE TEMP TABLE IF NOT EXISTS given_hosts (
	writer  INTEGER NOT NULL,
	host_id INTEGER NOT NULL,
	ref     INTEGER NOT NULL,
	PRIMARY KEY (writer, host_id)
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
	if len(in) > 0 {
		// The statement names the table, which must exist to prepare it.
		if _, err := s.write.ExecContext(ctx, givenTableSQL); err != nil {
			return UpsertCounts{}, nil, mapErr("upsert hosts", err)
		}
		if err := s.prepare(ctx, givenInsertSQL(min(len(in), givenChunk))); err != nil {
			return UpsertCounts{}, nil, mapErr("upsert hosts", err)
		}
	}
	given.used = true
	return s.upsertHosts(ctx, in, func(u *hostUpsert) error {
		u.given, u.refs, u.first = given, refs, make(map[string]int, len(in))
		_, err := u.tx.ExecContext(u.ctx, givenTableSQL)
		return err
	})
}

// givenChunk is how many hosts one INSERT into a set carries: three
// values each, under SQLite's 32,766 variables, and a divisor of ingest's
// DefaultBatch, so a large import's statements are all the one prepared.
const givenChunk = 5000

// givenInsertSQL adds n hosts and their refs to a set, the set's number
// being the first ?.
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
// asks nothing.
func (u *hostUpsert) lookupGiven() error {
	if u.given == nil || len(u.stored) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(u.stored))
	names := make(map[int64]string, len(u.stored))
	for key, sh := range u.stored {
		ids = append(ids, sh.id)
		names[sh.id] = key
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
// (givenIDs, givenRefs) and the new ones, whose ids are those above the
// largest before the call, in the order they were inserted (insertedIdx),
// since without AUTOINCREMENT SQLite numbers each new row the largest
// plus one and the transaction holds the write lock.
func (u *hostUpsert) recordGiven() error {
	if u.given == nil {
		return nil
	}
	for k, i := range u.insertedIdx {
		u.givenIDs = append(u.givenIDs, u.maxID+1+int64(k))
		u.givenRefs = append(u.givenRefs, u.refs[i])
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

// ForgetGiven drops the set's names from the connection's temporary
// database; the writer that owned the set calls it once, when it closes.
func (s *Store) ForgetGiven(ctx context.Context, given *Given) error {
	if !given.used {
		return nil
	}
	given.used = false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, givenTableSQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM temp.given_hosts WHERE writer = ?", given.id)
		return err
	})
	return mapErr("forget given hosts", err)
}
