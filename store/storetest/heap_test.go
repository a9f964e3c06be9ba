package storetest

import (
	"runtime"
	"testing"
)

// TestReadHeap_InUseIsMemStats ensures the heap's in-use figure read from
// runtime/metrics is MemStats.HeapInuse, which it replaces. The two reads
// are a moment apart, so a span allocated between them may part them: a
// few tries are allowed.
func TestReadHeap_InUseIsMemStats(t *testing.T) {
	var got Heap
	var ms runtime.MemStats
	for range 20 {
		got = readHeap()
		runtime.ReadMemStats(&ms)
		if got.InUse == ms.HeapInuse {
			return
		}
	}
	t.Errorf("in use %d, MemStats.HeapInuse %d", got.InUse, ms.HeapInuse)
}
