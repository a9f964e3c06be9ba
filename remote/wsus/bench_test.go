package wsus_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/remotetest"
	"wsusfix/remote/wsus"
	"wsusfix/sim"
	"wsusfix/store"
	"wsusfix/store/run"
	"wsusfix/store/storetest"
)

// BenchmarkSync runs a full sync of a simulated WSUS server into a fresh
// store over the real WinRM client (HTTPS, Basic), then changes 1% of its
// computers (a new report and a new failed update each) and runs an
// incremental sync. It reports both syncs' wall times, computers/s of the
// full one, the history it stored, and the live heap before the syncs
// (mostly the simulator's fleet, in the same process) and at their peak.
//
// The fleet is 100,000 computers with four months of history, about 2.3
// million events, times WSUSFIX_BENCH_SCALE (0.1 when unset). The WSUS
// API's simulated per-call latency is off (ScriptTimeScale -1), so the
// figures are the collector's output, the transport and the store alone.
//
//	WSUSFIX_BENCH_SCALE=1 go test -run '^$' -bench Sync -benchtime 1x ./remote/wsus/
func BenchmarkSync(b *testing.B) {
	n := int(100_000 * benchScale(b))
	b.Run(fmt.Sprintf("computers=%d", n), func(b *testing.B) {
		start := time.Now()
		f := remotetest.NewFleetOf(b, sim.FleetConfig{Seed: 5, Hosts: n, Months: 4}, func(_ *sim.Fleet, o *sim.Options) {
			o.ScriptTimeScale = -1
			o.MaxOperationTimeout = 2 * time.Second
		})
		events := 0
		for _, h := range f.Sim.Hosts {
			events += len(h.History)
		}
		setup := time.Since(start)
		cfg := f.Cfg
		cfg.OperationTimeout = 2 * time.Second
		client, err := remote.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			sess, err := client.Open(b.Context(), remote.Target{Name: f.Sim.WSUSServer})
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			st, err := store.Open(b.Context(), filepath.Join(dir, "wsusfix.db"))
			if err != nil {
				b.Fatal(err)
			}
			base, stop := storetest.SampleHeap()
			full, err := wsus.Sync(b.Context(), sess, st, wsus.Options{Server: "WSUS01"})
			if err != nil {
				b.Fatal(err)
			}
			if !full.Full || full.Computers != n+1 || len(full.Problems) != 0 {
				b.Fatalf("full sync %+v", full)
			}
			changed := changeComputers(b, f, 100)
			incr, err := wsus.Sync(b.Context(), sess, st, wsus.Options{Server: "WSUS01"})
			if err != nil {
				b.Fatal(err)
			}
			peak := stop().Live
			if incr.Full || incr.Computers != changed || incr.Updated != changed || incr.History < changed {
				b.Fatalf("incremental sync %+v, want %d computers updated", incr, changed)
			}
			b.ReportMetric(setup.Seconds(), "fleet-setup-s")
			b.ReportMetric(float64(events), "fleet-events")
			b.ReportMetric(full.Duration.Seconds(), "full-s")
			b.ReportMetric(float64(full.Computers)/full.Duration.Seconds(), "computers/s")
			b.ReportMetric(float64(full.History), "full-history")
			b.ReportMetric(incr.Duration.Seconds(), "incremental-s")
			b.ReportMetric(float64(changed), "incremental-computers")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
			b.ReportMetric(float64(base.Live)/(1<<20), "before-live-heap-MB")
			st.Close()
			sess.Close()
		}
	})
}

// changeComputers makes every one-in-every'th client report now with a
// new failed update, and returns how many it changed.
func changeComputers(b *testing.B, f *remotetest.Fleet, every int) int {
	b.Helper()
	now := time.Now().UTC()
	n := 0
	for i := 0; i < len(f.Sim.Hosts); i += every {
		m, ok := f.Srv.Machine(f.Sim.Hosts[i].Name)
		if !ok {
			b.Fatalf("no machine %s", f.Sim.Hosts[i].Name)
		}
		id := fmt.Sprintf("0bench00-0000-4000-8000-%012d", i)
		m.Update(func(s *sim.HostState) {
			s.LastReport = now
			s.History = append([]sim.Event{{Time: now.Add(-time.Minute), UpdateID: id, KB: "KB5999999",
				Title: "A new update", Operation: sim.OperationInstallation, Result: run.ResultFailed, HResult: 0x80070002}},
				s.History...)
		})
		n++
	}
	return n
}

// benchScale is WSUSFIX_BENCH_SCALE, the share of the 100,000
// computers the benchmark syncs, or 0.1 when unset.
func benchScale(tb testing.TB) float64 {
	v := os.Getenv("WSUSFIX_BENCH_SCALE")
	if v == "" {
		return 0.1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 10 {
		tb.Fatalf("WSUSFIX_BENCH_SCALE=%q: want a number in (0, 10]", v)
	}
	return f
}
