package sheet_test

import (
	"fmt"
	"testing"
	"time"

	"wsusfix/handlers/sheet"
	"wsusfix/store/storetest"
)

// countingDiscard counts what is written to it and keeps none of it, so
// only the writer's own memory is measured.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkXLSX measures the memory a workbook of 38,000 and 100,000 rows
// of the hosts export's shape takes to stream (budget: growth under 50
// MB at 100,000 rows). Run: go test -run '^$' -bench XLSX -benchtime 3x ./handlers/sheet/
func BenchmarkXLSX(b *testing.B) {
	cols := make([]sheet.Column, 19)
	for i := range cols {
		k := sheet.Text
		switch i {
		case 12, 18:
			k = sheet.Bool
		case 13, 17:
			k = sheet.Time
		case 14:
			k = sheet.Int
		}
		cols[i] = sheet.Col(fmt.Sprintf("col%d", i), k)
	}
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	for _, n := range []int{38_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			var inUse, live uint64
			var size int64
			for b.Loop() {
				out := &countingDiscard{}
				start, stop := storetest.SampleHeap()
				func() {
					tb, err := sheet.NewTable(out, sheet.FormatXLSX, "Failing hosts", cols)
					if err != nil {
						b.Fatal(err)
					}
					vals := make([]sheet.Value, len(cols))
					for i := range n {
						name := fmt.Sprintf("SITE%02d-WS-%06d", i%50, i)
						for c, col := range cols {
							switch col.Kind {
							case sheet.Text:
								vals[c] = sheet.S(name)
							case sheet.Time:
								vals[c] = sheet.T(at.Add(time.Duration(i) * time.Minute))
							case sheet.Int:
								vals[c] = sheet.N(int64(i))
							case sheet.Bool:
								vals[c] = sheet.B(i%2 == 0)
							}
						}
						vals[9], vals[10] = sheet.S("WU_E_PT_WINHTTP_NAME_NOT_RESOLVED"), sheet.S("Windows Update could not find the server")
						if err := tb.Row(vals); err != nil {
							b.Fatal(err)
						}
					}
					if err := tb.Close(); err != nil {
						b.Fatal(err)
					}
				}()
				peak := stop()
				inUse, live = max(inUse, peak.InUse-start.InUse), max(live, peak.Live-start.Live)
				size = out.n
			}
			b.ReportMetric(float64(inUse)/(1<<20), "MB-heap-growth")
			b.ReportMetric(float64(live)/(1<<20), "MB-live-heap-growth")
			b.ReportMetric(float64(size)/(1<<20), "MB-file")
		})
	}
}
