package kdc_test

import (
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"wsusfix/sim/kdc"
)

// TestStart ensures a started KDC issues a TGT for the user's password and
// service tickets for every host, encrypted in keys the keytab holds, and
// refuses a wrong password.
func TestStart(t *testing.T) {
	hosts := []string{"web-01.corp.contoso.test", "FIN-LT-0042.corp.contoso.test"}
	k := kdc.StartTest(t, kdc.Config{Realm: "CORP.CONTOSO.TEST", User: "svc-wsusfix", Password: "Kdc-Test-Pa55", Hosts: hosts})
	conf, err := config.NewFromString(string(k.Krb5Conf()))
	if err != nil {
		t.Fatalf("client krb5.conf: %v\n%s", err, k.Krb5Conf())
	}
	kt := keytab.New()
	if err := kt.Unmarshal(k.Keytab()); err != nil {
		t.Fatal(err)
	}

	cl := client.NewWithPassword("svc-wsusfix", "CORP.CONTOSO.TEST", "Kdc-Test-Pa55", conf, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, h := range hosts {
		spn := "HTTP/" + strings.ToLower(h)
		tkt, _, err := cl.GetServiceTicket(spn)
		if err != nil {
			t.Fatalf("ticket for %s: %v", spn, err)
		}
		if err := tkt.DecryptEncPart(kt, nil); err != nil {
			t.Fatalf("the keytab does not open the ticket for %s: %v", spn, err)
		}
		if got := tkt.DecryptedEncPart.CName.PrincipalNameString(); got != "svc-wsusfix" {
			t.Fatalf("ticket for %s names client %q", spn, got)
		}
	}
	if _, _, err := cl.GetServiceTicket("HTTP/unknown.corp.contoso.test"); err == nil || !strings.Contains(err.Error(), "KDC_ERR_S_PRINCIPAL_UNKNOWN") {
		t.Fatalf("ticket for an unknown host: %v", err)
	}

	bad := client.NewWithPassword("svc-wsusfix", "CORP.CONTOSO.TEST", "wrong", conf, client.DisablePAFXFAST(true))
	defer bad.Destroy()
	if err := bad.Login(); err == nil || !strings.Contains(err.Error(), "KDC_ERR_PREAUTH_FAILED") {
		t.Fatalf("login with a wrong password: %v", err)
	}
}

// TestStart_RefusesUnsafeNames ensures nothing that could change the
// meaning of a kadmin.local command line is accepted.
func TestStart_RefusesUnsafeNames(t *testing.T) {
	for _, cfg := range []kdc.Config{
		{User: "svc", Password: "has space"},
		{User: "svc x", Password: "p"},
		{User: "svc", Password: "p", Hosts: []string{"a.test\naddprinc evil"}},
	} {
		if _, err := kdc.Start(t.Context(), t.TempDir(), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
