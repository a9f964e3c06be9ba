package repair_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"wsusfix/remote"
	"wsusfix/remote/repair"
	"wsusfix/remote/runner"
	"wsusfix/sim"
	"wsusfix/store/run"
)

// TestProcedure_OutputBounded ensures a host that floods a step with
// output (4.4 MB of lines, one line of 1 MB, 10,050 result lines) leaves at
// most the step's share in the run log, lines cut to a readable length,
// a note saying what was left out, and the step's own result still read.
func TestProcedure_OutputBounded(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	f.Srv.Handle("powershell", func(ctx context.Context, c *sim.Cmd) int {
		_, _ = io.Copy(io.Discard, c.Stdin)
		line := strings.Repeat("x", 79) + "\r\n"
		for range 55_000 {
			if _, err := io.WriteString(c.Stdout, line); err != nil {
				return 1
			}
		}
		_, _ = io.WriteString(c.Stdout, strings.Repeat("y", 1<<20)+"\r\n")
		for i := range 10_050 {
			fmt.Fprintf(c.Stdout, `WSUSFIX {"kind":"warning","step":"preflight","code":"x","message":"%d"}`+"\r\n", i)
		}
		fmt.Fprint(c.Stdout, `WSUSFIX {"kind":"result","step":"preflight","status":"refused","reason":"not_admin","message":"flooded"}`+"\r\n")
		return 2
	})
	sink := &memSink{}
	job := runner.Job{RunID: 1, HostID: 1, Procedure: run.ProcedureCheck, Target: remote.Target{Name: f.Sim.Hosts[0].FQDN}}
	res := repair.RunFunc(f.Client(t, nil), fastProcedure)(t.Context(), job, sink)
	var stored, longest int
	var note string
	for _, ev := range sink.Events() {
		if ev.Kind != run.EventOutput {
			continue
		}
		stored += len(ev.Text)
		longest = max(longest, len(ev.Text))
		if strings.HasPrefix(ev.Text, "wsusfix kept the first") {
			note = ev.Text
		}
	}
	if stored > 4<<20+1024 || longest > 8<<10+16 {
		t.Fatalf("stored %d bytes, longest line %d", stored, longest)
	}
	if !strings.Contains(note, "more lines") || !strings.Contains(note, "result lines were not stored") {
		t.Fatalf("no note of what was left out: %q", note)
	}
	// The step's own result came after the flood and past the result cap:
	// the step cannot be proven, so it fails rather than passing.
	if res.State != run.StateFailed {
		t.Fatalf("run %+v after a flood", res)
	}
}
