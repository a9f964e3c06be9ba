package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/run"
)

// BenchmarkSSEFanout follows one run with 200 watching clients and reports
// the delay from an output line being stored to each client receiving it,
// p50 and p99, over 200 lines.
// Run: go test -run '^$' -bench SSEFanout -benchtime 1x ./handlers/
func BenchmarkSSEFanout(b *testing.B) {
	const clients, lines = 200, 200
	for b.Loop() {
		a := newApp(b, signedInAs("operator", store.RoleOperator), withRunner(), withDeps(handlers.Deps{Heartbeat: 50 * time.Millisecond}))
		a.client.Transport = &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: clients}
		rn := a.newRun(b, "PC1")
		var mu sync.Mutex
		var delays []time.Duration
		var ready, done sync.WaitGroup
		for range clients {
			ch, stop := a.stream(b, rn.ID, "")
			defer stop()
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				first := true
				for m := range ch {
					if m.comment != "" {
						if first {
							first = false
							ready.Done()
						}
						continue
					}
					var ev struct {
						Kind string `json:"kind"`
						Text string `json:"text"`
					}
					if json.Unmarshal([]byte(m.data), &ev) != nil || ev.Kind != string(run.EventOutput) {
						if m.event == "done" {
							return
						}
						continue
					}
					sent, _ := strconv.ParseInt(ev.Text, 10, 64)
					d := time.Since(time.Unix(0, sent))
					mu.Lock()
					delays = append(delays, d)
					mu.Unlock()
				}
			}()
		}
		ready.Wait() // every client has its stream open (first heartbeat seen)
		for range lines {
			a.runner.emit(b, run.Event{RunID: rn.ID, Kind: run.EventOutput, Step: run.StepPreflight, Stream: "stdout",
				Text: strconv.FormatInt(time.Now().UnixNano(), 10)})
			time.Sleep(2 * time.Millisecond)
		}
		a.runner.finish(b, rn.ID)
		done.Wait()
		if len(delays) != clients*lines {
			b.Fatalf("received %d deliveries, want %d", len(delays), clients*lines)
		}
		slices.Sort(delays)
		b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
	}
}
