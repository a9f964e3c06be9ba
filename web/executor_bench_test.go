package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsusfix/sim"
)

// BenchmarkFleetRepair repairs 1,000 simulated hosts at a concurrency of 50
// with a fixed 20 ms latency on every WinRM request, and reports wall time
// against the ideal (requests × latency ÷ concurrency) and peak heap.
// Run: go test -run '^$' -bench FleetRepair -benchtime 1x ./web/
func BenchmarkFleetRepair(b *testing.B) {
	const hosts, concurrency, latency = 1000, 50, 20 * time.Millisecond
	for b.Loop() {
		f := newBulkFixture(b, hosts, concurrency, false, sim.Options{Latency: latency, ScriptTimeScale: -1,
			MaxOperationTimeout: 2 * time.Second})
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		start := time.Now()
		f.repairAll(b, 10*time.Minute)
		wall := time.Since(start)
		close(stop)
		wg.Wait()
		var requests int64
		for _, n := range f.srv.TotalCounters().Requests {
			requests += n
		}
		ideal := time.Duration(requests) * latency / concurrency
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "x-ideal")
		b.ReportMetric(float64(requests)/hosts, "requests/host")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	}
}
