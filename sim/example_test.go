package sim_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/masterzen/winrm"

	"wsusfix/sim"
)

// Example shows how a client reaches a simulated host by its real name over
// HTTPS: the simulator's dialer replaces the network, and its CA is the
// trust anchor.
func Example() {
	fleet := &sim.Fleet{Domain: "corp.contoso.test", Hosts: []sim.Host{{
		Name: "FIN-LT-0042", FQDN: "fin-lt-0042.corp.contoso.test",
		OSCaption: "Microsoft Windows 11 Enterprise", OSBuild: "10.0.26100.2033",
	}}}
	s := sim.NewServer(fleet, sim.Options{Password: "Passw0rd!", TLS: true})
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()

	ep := winrm.NewEndpoint("fin-lt-0042.corp.contoso.test", 5986, true, false, s.CACertPEM(), nil, nil, 30*time.Second)
	params := winrm.NewParameters("PT20S", "en-US", 153600) // never winrm.DefaultParameters
	params.Dial = s.Dial
	client, err := winrm.NewClientWithParameters(ep, "Administrator", "Passw0rd!", params)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stdout, _, code, err := client.RunCmdWithContext(ctx, "whoami")
	fmt.Println(strings.TrimSpace(stdout), code, err)
	fmt.Println(s.Counters("FIN-LT-0042").ShellsCreated)
	// Output:
	// corp\administrator 0 <nil>
	// 1
}
