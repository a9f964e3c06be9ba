package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the writer's prepared statements for the bulk writes,
// whose long multi-row texts cost more to parse than to run when prepared
// for every batch. It is safe for concurrent use.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: a bulk write of one shape prepares the
// statement of its full batch, so a few texts cover every batch.
const maxCachedStmts = 32

// prepare caches query prepared on the writer, unless it is cached or the
// cache is full. It must not be called inside a transaction: the writer
// has one connection, which the transaction holds.
func (s *Store) prepare(ctx context.Context, query string) error {
	c := &s.stmts
	c.mu.Lock()
	_, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return nil
	}
	st, err := s.write.quiet().PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stmts[query]; ok || len(c.stmts) >= maxCachedStmts {
		return st.Close()
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return nil
}

// txStmt returns query prepared for tx: the cached statement when there
// is one (database/sql reuses it on the writer's one connection), else one
// prepared for tx alone, which the transaction's end closes.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	st := s.stmts.stmts[query]
	s.stmts.mu.Unlock()
	if st == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// close closes the cached statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
