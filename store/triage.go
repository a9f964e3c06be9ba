package store

import (
	"context"
	"slices"
	"strings"
)

// Sort keys accepted by TriageFilter.Sort.
const (
	SortFailedAt = "failed"
	SortName     = "name"
	SortGroup    = "group"
	SortOS       = "os"
	SortCode     = "code"
	SortKB       = "kb"
)

// sortColumns maps sort keys to ORDER BY terms; only these reach the SQL.
var sortColumns = map[string]string{
	SortFailedAt: "fail_at",
	SortName:     "name",
	SortGroup:    "wsus_group",
	SortOS:       "os_caption",
	SortCode:     "fail_hresult",
	SortKB:       "fail_kb",
}

// TriageFilter selects and orders failing hosts.
type TriageFilter struct {
	HResult *uint32 // only hosts whose newest failure has this code
	Group   string  // only hosts in this WSUS group, any of theirs
	Search  string  // substring of the host name, case-insensitive
	Sort    string  // one of the Sort* keys; default SortFailedAt
	Desc    bool
	Limit   int // 0 means no limit
	Offset  int
}

// where builds the WHERE clause and its arguments. Values only ever travel
// as placeholders.
func (f TriageFilter) where() (string, []any) {
	conds := []string{"state = 'failing'", "gone_at IS NULL"}
	var args []any
	if f.HResult != nil {
		conds = append(conds, "fail_hresult = ?")
		args = append(args, int64(*f.HResult))
	}
	if f.Group != "" {
		conds = append(conds, failingInGroup)
		args = append(args, f.Group, f.Group)
	}
	if c, a := nameSearch(f.Search); c != "" {
		conds, args = append(conds, c), append(args, a)
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// nameSearch is the condition that a host's name contains search, and its
// argument; "" when there is nothing to search for.
func nameSearch(search string) (string, any) {
	switch {
	case len(search) >= 3 && !strings.ContainsAny(search, `%_\`):
		// The trigram index answers LIKE for three characters or more.
		return "id IN (SELECT rowid FROM hosts_search WHERE name LIKE ?)", "%" + search + "%"
	case search != "":
		return `name LIKE ? ESCAPE '\'`, likePattern(search)
	}
	return "", nil
}

// orderBy returns the ORDER BY clause; id breaks ties so pages are stable.
func (f TriageFilter) orderBy() string {
	col, ok := sortColumns[f.Sort]
	if !ok {
		col = sortColumns[SortFailedAt]
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	return " ORDER BY " + col + dir + ", id" + dir
}

// FailingHosts returns one page of failing hosts. The number matching in all
// is the sum of FailureCounts (or its entry for the filter's code), which
// the triage page reads anyway, so it is not counted twice here.
func (s *Store) FailingHosts(ctx context.Context, f TriageFilter) ([]Host, error) {
	var hosts []Host
	err := s.EachFailingHost(ctx, f, func(h Host) error {
		hosts = append(hosts, h)
		return nil
	})
	return hosts, err
}

// EachFailingHost calls fn for every host the filter selects, in order,
// streaming rows so memory does not grow with the result. fn's error stops
// the walk and is returned.
func (s *Store) EachFailingHost(ctx context.Context, f TriageFilter, fn func(Host) error) error {
	if err := checkFilterText("failing hosts", f.Search, f.Group); err != nil {
		return err
	}
	where, args := f.where()
	q := "SELECT " + hostColumns + " FROM hosts" + where + f.orderBy()
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr("failing hosts", err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return mapErr("failing hosts", err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return mapErr("failing hosts", rows.Err())
}

// CodeCount is how many failing hosts share one error code.
type CodeCount struct {
	HResult uint32
	Hosts   int
}

// FailureCounts counts failing hosts by error code, most common first,
// within the given group and name search (the code filter is ignored so the
// counts stay a menu of every code).
//
// The counts are kept until the store's generation moves (genMemo), so
// every page, sort and code of one filter, and every user, shares one
// count per change of the inventory rather than one per request.
func (s *Store) FailureCounts(ctx context.Context, f TriageFilter) ([]CodeCount, error) {
	f.HResult = nil
	if err := checkFilterText("failure counts", f.Search, f.Group); err != nil {
		return nil, err
	}
	gen, key := s.Generation(), f.Group+"\x00"+f.Search
	if c, ok := s.counts.get(key, gen); ok {
		return slices.Clone(c), nil
	}
	c, err := s.failureCounts(ctx, f)
	if err == nil {
		s.counts.put(key, gen, slices.Clone(c))
	}
	return c, err
}

func (s *Store) failureCounts(ctx context.Context, f TriageFilter) ([]CodeCount, error) {
	where, args := f.where()
	rows, err := s.read.QueryContext(ctx,
		"SELECT fail_hresult, count(*) AS n FROM hosts"+where+" GROUP BY fail_hresult ORDER BY n DESC, fail_hresult", args...)
	if err != nil {
		return nil, mapErr("failure counts", err)
	}
	defer rows.Close()
	var out []CodeCount
	for rows.Next() {
		var c CodeCount
		var code int64
		if err := rows.Scan(&code, &c.Hosts); err != nil {
			return nil, mapErr("failure counts", err)
		}
		c.HResult = uint32(code)
		out = append(out, c)
	}
	return out, mapErr("failure counts", rows.Err())
}

// Matching returns how many hosts the filter selects, given the counts
// FailureCounts returned for the same filter.
func (f TriageFilter) Matching(counts []CodeCount) int {
	n := 0
	for _, c := range counts {
		if f.HResult == nil || *f.HResult == c.HResult {
			n += c.Hosts
		}
	}
	return n
}
