package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCounters ensures requests are counted per host and action, and the
// fleet total adds the hosts up.
func TestCounters(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(2), Options{})
	for _, host := range []string{"HOST-0001", "HOST-0002"} {
		if _, _, _, err := runCmd(t, newClient(t, s, host), "hostname"); err != nil {
			t.Fatal(err)
		}
	}
	newClientWith(t, s, "HOST-0002", clientConfig{password: "wrong"}).CreateShell() //nolint:errcheck // the 401 is the point
	r := newRaw(t, s, "HOST-0002")
	r.do("garbage")

	one := s.Counters("host-0001.corp.contoso.test")
	receives := one.Requests[ActionReceive]
	want := Counters{
		Requests:      map[string]int64{ActionCreate: 1, ActionCommand: 1, ActionReceive: receives, ActionSignal: 1, ActionDelete: 1},
		ShellsCreated: 1,
	}
	if diff := cmp.Diff(want, one); diff != "" || receives < 1 {
		t.Errorf("HOST-0001 counters (-want +got):\n%s", diff)
	}
	two := s.Counters("HOST-0002")
	if two.Unauthorized != 1 || two.Faults != 1 || two.Requests[ActionOther] != 1 {
		t.Errorf("HOST-0002 counters %+v; want one 401 and one fault for the garbage", two)
	}
	total := s.TotalCounters()
	if total.ShellsCreated != 2 || total.Requests[ActionCreate] != 2 || total.Unauthorized != 1 {
		t.Errorf("total %+v", total)
	}
	if got := s.Counters("NOPE"); len(got.Requests) != 0 || got.ShellsCreated != 0 {
		t.Errorf("unknown host counters %+v", got)
	}
}
