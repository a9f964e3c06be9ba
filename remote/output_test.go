package remote_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"wsusfix/remote"
	"wsusfix/sim"
)

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// A real error record as powershell.exe writes it to a redirected stderr.
const clixml = "#< CLIXML\r\n" + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj><S S="Error">Stop-Service : Service 'Windows Update (wuauserv)' cannot be stopped due to_x000D__x000A_</S><S S="Error">the following error: Cannot open wuauserv service on computer '.'._x000D__x000A_</S><S S="Error">    + CategoryInfo          : CloseError: (System.ServiceProcess.ServiceController:ServiceController) [Stop-Service], ServiceCommandException_x000D__x000A_</S></Objs>` + "\r\n"

// TestLines ensures output becomes readable lines whatever the chunking:
// CRLF and LF, UTF-16 from native tools, CLIXML error records, and a last
// line without a newline.
func TestLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stream string
		chunks [][]byte
		want   []string
	}{
		{"crlf split across writes", remote.Stdout, [][]byte{[]byte("one\r"), []byte("\ntw"), []byte("o\r\nthree")}, []string{"one", "two", "three"}},
		{"utf16 with BOM", remote.Stdout, [][]byte{append([]byte{0xFF, 0xFE}, utf16le("Beginning system scan.\r\nVerification 100% complete.\r\n")...)}, []string{"Beginning system scan.", "Verification 100% complete."}},
		{"utf16 split mid code unit", remote.Stdout, func() [][]byte {
			b := utf16le("Windows Resource Protection found no problems.\r\n")
			return [][]byte{b[:7], b[7:31], b[31:]}
		}(), []string{"Windows Resource Protection found no problems."}},
		{"clixml", remote.Stderr, [][]byte{[]byte(clixml[:40]), []byte(clixml[40:])}, []string{
			"Stop-Service : Service 'Windows Update (wuauserv)' cannot be stopped due to",
			"the following error: Cannot open wuauserv service on computer '.'.",
			"    + CategoryInfo          : CloseError: (System.ServiceProcess.ServiceController:ServiceController) [Stop-Service], ServiceCommandException"}},
		{"invalid utf8 is repaired", remote.Stdout, [][]byte{{'a', 0xff, 'b', '\n'}}, []string{"a\uFFFDb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			l := remote.NewLines(func(stream, line string) {
				if stream != tt.stream {
					t.Errorf("line on %s, want %s", stream, tt.stream)
				}
				got = append(got, line)
			})
			w := l.Writer(tt.stream)
			for _, c := range tt.chunks {
				w.Write(c)
			}
			l.Flush()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLines_Concurrent ensures both streams may be written from different
// goroutines and every line arrives whole (run with -race).
func TestLines_Concurrent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	count := map[string]int{}
	l := remote.NewLines(func(stream, line string) {
		mu.Lock()
		defer mu.Unlock()
		if line != "0123456789" {
			t.Errorf("torn line %q", line)
		}
		count[stream]++
	})
	var wg sync.WaitGroup
	for _, s := range []string{remote.Stdout, remote.Stderr} {
		wg.Go(func() {
			w := l.Writer(s)
			for range 500 {
				w.Write([]byte("01234"))
				w.Write([]byte("56789\r\n"))
			}
		})
	}
	wg.Wait()
	l.Flush()
	if count[remote.Stdout] != 500 || count[remote.Stderr] != 500 {
		t.Fatalf("counts %v, want 500 each", count)
	}
}

// TestSession_DecodesRealOutput ensures UTF-16 stdout and CLIXML stderr
// coming through the real client over the simulator read as text.
func TestSession_DecodesRealOutput(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	f.Srv.Handle("sfc", func(ctx context.Context, c *sim.Cmd) int {
		c.Stdout.Write(utf16le("\r\nBeginning system scan.  This process will take some time.\r\n"))
		fmt.Fprint(c.Stderr, clixml)
		return 0
	})
	ctx := t.Context()
	s, err := f.Client(t, nil).Open(ctx, remote.Target{Name: f.Host(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, _, err := runCommand(t, s, ctx, "sfc /verifyonly", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.get(remote.Stdout); len(got) != 2 || got[1] != "Beginning system scan.  This process will take some time." {
		t.Fatalf("stdout %q", got)
	}
	if got := out.get(remote.Stderr); len(got) != 3 || got[0][:12] != "Stop-Service" {
		t.Fatalf("stderr %q", got)
	}
}
