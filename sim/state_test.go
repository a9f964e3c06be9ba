package sim

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHostState_Initial ensures a host's live state starts from its
// inventory, with the services its OS has.
func TestHostState_Initial(t *testing.T) {
	t.Parallel()
	f := testFleet(3)
	f.Hosts[0].Fault = FaultNotFixable
	s := NewServer(f, Options{})
	defer s.Close()
	tests := []struct {
		host         string
		wantServices []string
		wantFixable  bool
	}{
		{"HOST-0001", []string{"wuauserv", "BITS", "DoSvc", "CryptSvc", "UsoSvc"}, false}, // Windows 11
		{"HOST-0002", []string{"wuauserv", "BITS", "CryptSvc"}, true},                     // 2012 R2
		{"HOST-0003", []string{"wuauserv", "BITS", "DoSvc", "CryptSvc", "UsoSvc"}, true},  // 2022
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			st, ok := s.HostState(tt.host)
			if !ok {
				t.Fatal("host not found")
			}
			var names []string
			for _, svc := range st.Services {
				names = append(names, svc.Name)
				if svc.Status != StatusRunning || svc.StartMode == StartDisabled {
					t.Errorf("%s: %s/%s, want running and enabled", svc.Name, svc.StartMode, svc.Status)
				}
			}
			if diff := cmp.Diff(tt.wantServices, names); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if !st.SoftwareDistribution || len(st.Backups) != 0 || st.Failure != 0x80070002 || st.Fixable != tt.wantFixable {
				t.Errorf("state %+v", st)
			}
		})
	}
	if _, ok := s.HostState("NOPE"); ok {
		t.Error("HostState found an unknown host")
	}
}

// TestHostState_PersistsAndIsolates ensures changes made by a command
// persist across shells, and snapshots never alias the live state.
func TestHostState_PersistsAndIsolates(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	s.Handle("stopwu", func(_ context.Context, c *Cmd) int {
		c.Machine.Update(func(st *HostState) {
			st.Service("wuauserv").Status = StatusStopped
			st.SoftwareDistribution = false
			st.Backups = append(st.Backups, "SoftwareDistribution.SDTemp-20261101T120000Z")
		})
		return 0
	})
	s.Handle("wustatus", func(_ context.Context, c *Cmd) int {
		st := c.Machine.State()
		fmt.Fprintf(c.Stdout, "%s %v %v\r\n", st.Service("WUAUSERV").Status, st.SoftwareDistribution, st.Backups)
		return 0
	})
	c := newClient(t, s, "HOST-0001")
	if _, _, code, err := runCmd(t, c, "stopwu"); err != nil || code != 0 {
		t.Fatalf("stopwu: %d %v", code, err)
	}
	stdout, _, _, err := runCmd(t, c, "wustatus")
	if want := "Stopped false [SoftwareDistribution.SDTemp-20261101T120000Z]\r\n"; err != nil || stdout != want {
		t.Errorf("wustatus = %q, %v; want %q", stdout, err, want)
	}

	snap, _ := s.HostState("HOST-0001")
	snap.Services[0].Status = "Mangled"
	snap.Backups[0] = "Mangled"
	again, _ := s.HostState("HOST-0001")
	if again.Services[0].Status != StatusStopped || again.Backups[0] == "Mangled" {
		t.Error("changing a snapshot changed the live state")
	}
	if m, ok := s.Machine("host-0001"); !ok || m.Name() != "HOST-0001" || m.Fault() != FaultNone {
		t.Errorf("Machine = %v, %v", m, ok)
	}
}
