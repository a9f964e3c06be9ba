package remote_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/sim"
	"wsusfix/sim/kdc"
	"wsusfix/store/run"
)

// testKrb5Conf is a krb5.conf for configuration checks that reach no KDC.
const testKrb5Conf = "[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n EXAMPLE.TEST = {\n  kdc = 127.0.0.1:88\n }\n"

// newKrbFleet is a fleet over HTTPS whose hosts take Kerberos: a real KDC
// knows Administrator and the HTTP/<fqdn> of every host but those at the
// indexes in without, and the simulator holds the hosts' keys. The fleet's
// client signs in with Kerberos.
func newKrbFleet(t *testing.T, n int, without ...int) (*fleet, *kdc.KDC) {
	t.Helper()
	return newKrbFleetSkewed(t, n, 0, without...)
}

// newKrbFleetSkewed is newKrbFleet with the KDC's clock offset by skew.
func newKrbFleetSkewed(t *testing.T, n int, skew time.Duration, without ...int) (*fleet, *kdc.KDC) {
	t.Helper()
	var k *kdc.KDC
	f := newFleetWith(t, n, func(fl *sim.Fleet, o *sim.Options) {
		var fqdns []string
		for i, h := range fl.Hosts {
			if !slices.Contains(without, i) {
				fqdns = append(fqdns, h.FQDN)
			}
		}
		k = kdc.StartTest(t, kdc.Config{Realm: strings.ToUpper(fl.Domain), User: "Administrator", Password: testPassword, Hosts: fqdns,
			ClockOffset: skew})
		o.Keytab = k.Keytab()
	})
	f.Cfg.Auth, f.Cfg.Krb5Conf = remote.AuthKerberos, k.Krb5Conf()
	return f, k
}

// TestKerberos_Repair ensures the whole repair procedure runs over
// Kerberos and HTTPS, through the real winrm client and our transport,
// with tickets from a real KDC, and that no request was ever refused on
// the way (every one carried a ticket the host accepted).
func TestKerberos_Repair(t *testing.T) {
	f, _ := newKrbFleet(t, 60)
	h := f.FailingHost(t, nil, 0x80070002, 0x80070003)
	sink := &memSink{}
	res := f.Repair(t, t.Context(), h, run.ProcedureRepair, sink)
	if res.State != run.StateSucceeded || res.Outcome != run.OutcomeRepaired {
		t.Fatalf("result %+v\nsteps %v", res, sink.Finished())
	}
	if c := f.Srv.Counters(h.Name); c.Unauthorized != 0 || c.ShellsOpen != 0 {
		t.Fatalf("after the repair: %d requests refused, %d shells open; want 0 and 0", c.Unauthorized, c.ShellsOpen)
	}
}

// TestKerberos_UserForms ensures the account may be written as
// name@realm (any case), DOMAIN\name or a bare name, the last two in the
// krb5.conf's default realm.
func TestKerberos_UserForms(t *testing.T) {
	f, _ := newKrbFleet(t, 2)
	for _, user := range []string{"Administrator@corp.contoso.test", `CORP\Administrator`, "Administrator"} {
		t.Run(user, func(t *testing.T) {
			s, err := f.Client(t, func(c *remote.Config) { c.User = user }).Open(t.Context(), remote.Target{Name: f.Sim.Hosts[0].FQDN})
			if err != nil {
				t.Fatal(err)
			}
			out, code, err := runCommand(t, s, t.Context(), "whoami", nil)
			s.Close()
			if err != nil || code != 0 || len(out.get(remote.Stdout)) != 1 {
				t.Fatalf("whoami = %v, %d, %v", out.get(remote.Stdout), code, err)
			}
		})
	}
}

// TestKerberos_Failures ensures each way Kerberos fails is an ErrAuth
// whose help names what to fix, and never holds the password.
func TestKerberos_Failures(t *testing.T) {
	f, k := newKrbFleet(t, 4)
	noSPN, _ := newKrbFleet(t, 2, 1)
	skewed, _ := newKrbFleetSkewed(t, 1, 2*time.Hour)
	missing := noSPN.Sim.Hosts[1]
	f.Srv.SetFault(f.Sim.Hosts[3].Name, sim.FaultAuthRefused)
	const wrong = "Wrong-Pa55word-xyz"
	tests := []struct {
		name     string
		fl       *fleet
		target   string
		mod      func(*remote.Config)
		wantHelp []string
	}{
		{"wrong password", f, f.Sim.Hosts[0].FQDN, func(c *remote.Config) { c.Password = wrong },
			[]string{"refused the password of Administrator@CORP.CONTOSO.TEST", "pre-authentication failed"}},
		{"unknown account", f, f.Sim.Hosts[0].FQDN, func(c *remote.Config) { c.User = "nobody" },
			[]string{"has no account nobody", "name@REALM"}},
		{"host without SPN", noSPN, missing.FQDN, nil,
			[]string{"no service principal HTTP/" + missing.FQDN, "setspn -Q HTTP/" + missing.FQDN, "IP address or short name"}},
		{"IP address", f, "10.0.0.7", nil, []string{"not an IP address", "FQDN"}},
		{"KDC unreachable", f, f.Sim.Hosts[0].FQDN, func(c *remote.Config) {
			c.Krb5Conf = []byte(strings.ReplaceAll(string(c.Krb5Conf), k.Addr(), "127.0.0.1:1"))
		}, []string{"could not reach a Kerberos KDC for realm CORP.CONTOSO.TEST", "127.0.0.1:1", "-winrm-krb5-conf"}},
		{"clock skew", skewed, skewed.Sim.Hosts[0].FQDN, nil, []string{"clock differs", "NTP"}},
		{"host refuses the ticket", f, f.Sim.Hosts[3].FQDN, nil,
			[]string{"refused a valid Kerberos ticket for HTTP/" + f.Sim.Hosts[3].FQDN, "local administrator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.fl.Client(t, tt.mod).Open(t.Context(), remote.Target{Name: tt.target})
			var re *remote.Error
			if !errors.Is(err, remote.ErrAuth) || !errors.As(err, &re) {
				t.Fatalf("got %v, want ErrAuth", err)
			}
			for _, want := range tt.wantHelp {
				if !strings.Contains(re.Help, want) {
					t.Errorf("help %q lacks %q", re.Help, want)
				}
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), testPassword) {
				t.Fatal("error text holds the password")
			}
		})
	}
}

// TestKerberos_Cancel ensures a step's context bounds the sign-in: a KDC
// that accepts the connection and never answers does not hold the run.
func TestKerberos_Cancel(t *testing.T) {
	f, k := newKrbFleet(t, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, unanswered, until the test ends
		}
	}()
	c := f.Client(t, func(c *remote.Config) {
		c.Krb5Conf = []byte(strings.ReplaceAll(string(c.Krb5Conf), k.Addr(), l.Addr().String()))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Open(ctx, remote.Target{Name: f.Sim.Hosts[0].FQDN})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("open took %v past a 300ms deadline", took)
	}
}
