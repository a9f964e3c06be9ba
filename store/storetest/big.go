// Package storetest is what the benchmarks of several packages share: the
// large inventories they measure against, built through the store's own
// bulk writes, and the one way they measure the heap.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
)

// BuildBig fills st with hosts hosts and perHost history rows each, 38% of
// the hosts failing with a mix of codes, in batches as an import would.
// Host i is named SITE<i%50>-WS-<i>, so SITE07-WS-012357 exists from
// 12,358 hosts.
func BuildBig(ctx context.Context, st *store.Store, hosts, perHost int) error {
	codes := []uint32{0x80070002, 0x80070002, 0x80070002, 0x80070003, 0x80244022, 0x80073712, 0x80070643, 0x8024402C}
	groups := []string{"Workstations - Broad", "Workstations - Pilot", "Laptops - Remote", "Servers - Tier 1", "Servers - Tier 2"}
	const batch = 2000
	for lo := 0; lo < hosts; lo += batch {
		var hs []store.HostInput
		var ev []store.EventInput
		for i := lo; i < min(lo+batch, hosts); i++ {
			name := fmt.Sprintf("SITE%02d-WS-%06d", i%50, i)
			hs = append(hs, store.HostInput{Name: name, FQDN: name + ".corp.test", OSCaption: "Microsoft Windows 11 Enterprise",
				OSBuild: "10.0.26100.4351", Group: groups[i%len(groups)]})
			for j := range perHost {
				e := store.EventInput{HostName: name, At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(j*7*24+i%97) * time.Hour),
					UpdateID: fmt.Sprintf("u-%d", j), KB: fmt.Sprintf("KB50%05d", j), Title: fmt.Sprintf("Update %d", j),
					Operation: "Installation", Result: run.ResultSucceeded, Source: store.SourceImport}
				if j == perHost-1 && i%100 < 38 {
					e.Result, e.HResult = run.ResultFailed, codes[i%len(codes)]
				}
				ev = append(ev, e)
			}
		}
		if _, err := st.UpsertHosts(ctx, hs); err != nil {
			return err
		}
		if _, err := st.AddUpdateEvents(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// BigDB is the path of the 100,000-host, 2,000,000-row inventory the
// benchmarks of several packages serve: WSUSFIX_BENCH_DB, kept between
// runs since building it takes longer than measuring it, or a new file
// under tb.TempDir. It is built (BuildBig) when missing and left closed,
// so a benchmark opens it as serve would after an import, with the
// planner's statistics.
func BigDB(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("WSUSFIX_BENCH_DB")
	if path == "" {
		path = filepath.Join(tb.TempDir(), "big.db")
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	st, err := store.Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := BuildBig(tb.Context(), st, 100_000, 20); err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "built 100000 hosts and 2000000 history rows in %v\n", time.Since(start).Round(time.Millisecond))
	return path
}
