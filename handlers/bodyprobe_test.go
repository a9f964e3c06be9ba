package handlers_test

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// probeField is the size of the one form field each probe request sends.
const probeField = 60 << 20

// filler yields n bytes of 'a' without holding them, so the client side of
// a probe allocates next to nothing and the heap figures are the server's.
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), f.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	f.n -= k
	return int(k), nil
}

// probe describes one kind of oversized request.
type probe struct {
	method, path string
	multipart    bool // a multipart form with one field; else a URL-encoded one
	chunked      bool // length unknown (Transfer-Encoding: chunked); else declared
}

// request returns the probe to base with a field of size bytes, streamed.
func (p probe) request(tb testing.TB, base string, size int64) *http.Request {
	tb.Helper()
	pr, pw := io.Pipe()
	ctype, framing := "application/x-www-form-urlencoded", int64(len("username="))
	var mw *multipart.Writer
	if p.multipart {
		mw = multipart.NewWriter(pw)
		ctype, framing = mw.FormDataContentType(), int64(len(mw.Boundary()))*2+100
	}
	go func() {
		var err error
		if mw != nil {
			var fw io.Writer
			if fw, err = mw.CreateFormField("username"); err == nil {
				if _, err = io.Copy(fw, &filler{n: size}); err == nil {
					err = mw.Close()
				}
			}
		} else if _, err = io.WriteString(pw, "username="); err == nil {
			_, err = io.Copy(pw, &filler{n: size})
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(p.method, base+p.path, pr)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if !p.chunked {
		req.ContentLength = size + framing // what a client would declare, give or take the framing
	}
	return req
}

// heapProbe is what one probe of n concurrent requests did to the heap.
type heapProbe struct {
	idle, peak uint64 // HeapInuse before, and the most seen during
	alloc      uint64 // bytes allocated during the probe
	statuses   map[int]int
	errs       int // requests that got no answer at all
}

// probeHeap sends n requests built by mk at once and samples the heap
// while they run.
func probeHeap(tb testing.TB, n int, mk func() *http.Request) heapProbe {
	tb.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	p := heapProbe{idle: before.HeapInuse, peak: before.HeapInuse, statuses: map[int]int{}}

	stop := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		peak := before.HeapInuse
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sampled <- peak
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()

	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range n {
		wg.Go(func() {
			res, err := client.Do(mk())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.errs++
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			p.statuses[res.StatusCode]++
		})
	}
	wg.Wait()
	close(stop)
	p.peak = <-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	p.alloc = after.TotalAlloc - before.TotalAlloc
	return p
}

// probes are the oversized requests the tests and the benchmark send: the
// sign-in form as a multipart upload (the probe that once took the server
// from 123 MB to 855 MB), and URL-encoded; with the length declared, and
// chunked; at sign-in, at a 64 KB form, and at a page that takes no body.
var probes = []probe{
	{"POST", "/login", true, false},
	{"POST", "/login", true, true},
	{"POST", "/login", false, true},
	{"POST", "/admin/settings", false, true},
	{"GET", "/", false, false},
	{"GET", "/", false, true},
}

// TestBodyLimit_HeapFlat ensures 8 concurrent requests each carrying a
// 60 MB field are all refused (413, or 415 for multipart) without the
// heap growing: the server reads at most a route's limit of any body. The
// bound (8 MB over idle, against the 480 MB sent) is about memory, not time.
func TestBodyLimit_HeapFlat(t *testing.T) {
	a := newApp(t)
	for _, p := range probes {
		got := probeHeap(t, 8, func() *http.Request { return p.request(t, a.srv.URL, probeField) })
		name := fmt.Sprintf("%s %s multipart=%v chunked=%v", p.method, p.path, p.multipart, p.chunked)
		if got.errs != 0 || got.statuses[http.StatusRequestEntityTooLarge]+got.statuses[http.StatusUnsupportedMediaType] != 8 {
			t.Errorf("%s: answers %v, %d unanswered; want 8 × 413 or 415", name, got.statuses, got.errs)
		}
		t.Logf("%s: %v; heap in use %.1f MB idle, %.1f MB peak; %.1f MB allocated", name, got.statuses,
			float64(got.idle)/(1<<20), float64(got.peak)/(1<<20), float64(got.alloc)/(1<<20))
		const bound = 8 << 20
		if got.peak > got.idle+bound || got.alloc > bound {
			t.Errorf("%s: heap %d → %d MB, %d MB allocated; want within 8 MB", name, got.idle>>20, got.peak>>20, got.alloc>>20)
		}
	}
}

// BenchmarkLoginBodyProbe reports the heap while 8 anonymous clients each
// post a 60 MB multipart field to /login at once: idle and peak heap in
// use, and bytes allocated per probe. Figures, not a pass/fail budget
// (TestBodyLimit_HeapFlat holds the line).
// Run: go test -run '^$' -bench LoginBodyProbe -benchtime 3x ./handlers/
func BenchmarkLoginBodyProbe(b *testing.B) {
	a := newApp(b)
	var last heapProbe
	for b.Loop() {
		last = probeHeap(b, 8, func() *http.Request { return probes[0].request(b, a.srv.URL, probeField) })
	}
	const mb = 1 << 20
	b.ReportMetric(float64(last.idle)/mb, "idle-MB")
	b.ReportMetric(float64(last.peak)/mb, "peak-MB")
	b.ReportMetric(float64(last.alloc)/mb, "alloc-MB/op")
	b.Logf("statuses %v, unanswered %d", last.statuses, last.errs)
}
