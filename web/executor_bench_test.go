package main

import (
	"fmt"
	"testing"
	"time"

	"wsusfix/sim"
	"wsusfix/store/storetest"
)

// BenchmarkFleetRepair repairs 250 and 1,000 simulated hosts at a concurrency of 50
// with a fixed 20 ms latency on every WinRM request, and reports wall time
// against the ideal (requests × latency ÷ concurrency) and the peak live
// heap (the simulated fleet, in the same process, included).
// Run: go test -run '^$' -bench FleetRepair -benchtime 1x ./web/
// The sealed variant reaches the same fleet over plain HTTP with NTLM
// message encryption instead of HTTPS with Basic.
func BenchmarkFleetRepair(b *testing.B) {
	for _, hosts := range []int{250, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) { benchFleetRepair(b, hosts, false) })
	}
	b.Run("hosts=250/sealed", func(b *testing.B) { benchFleetRepair(b, 250, true) })
}

func benchFleetRepair(b *testing.B, hosts int, sealed bool) {
	const concurrency, latency = 50, 20 * time.Millisecond
	for b.Loop() {
		f := newBulkFixture(b, hosts, concurrency, false, sim.Options{Latency: latency, ScriptTimeScale: -1,
			MaxOperationTimeout: 2 * time.Second, RequireEncryption: sealed})
		_, stopHeap := storetest.SampleHeap()
		start := time.Now()
		f.repairAll(b, 10*time.Minute)
		wall := time.Since(start)
		peak := stopHeap()
		var requests int64
		for _, n := range f.srv.TotalCounters().Requests {
			requests += n
		}
		ideal := time.Duration(requests) * latency / concurrency
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "x-ideal")
		b.ReportMetric(float64(requests)/float64(hosts), "requests/host")
		b.ReportMetric(float64(peak.Live)/(1<<20), "peak-live-heap-MB")
	}
}
