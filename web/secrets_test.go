package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsusfix/remote"
	"wsusfix/remote/runner"
	"wsusfix/store"
	"wsusfix/store/secret"
)

// TestSecrets_NotInAnyForm ensures the configuration and user structs that
// carry or lead to a password never show it through %v, %+v, %#v, JSON or
// slog: the WinRM settings as flags and environment make them, as the
// settings page stores them, the access configuration with its key ring,
// and a user record.
func TestSecrets_NotInAnyForm(t *testing.T) {
	t.Parallel()
	const pw = "Winrm-Pa55-for-this-test"
	e := env(func(k string) string {
		if k == "WSUSFIX_WINRM_PASSWORD" {
			return pw
		}
		return ""
	})
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	wf, err := registerWinRMFlags(fs, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-winrm-user", "Administrator", "-winrm-auth", "ntlm"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := wf.config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password.Reveal() != pw {
		t.Fatal("the config lost the password: the test would prove nothing")
	}
	afs := flag.NewFlagSet("serve", flag.ContinueOnError)
	acc, err := registerAccessFlags(afs, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := afs.Parse([]string{"-key-file", filepath.Join(t.TempDir(), "wsusfix.key")}); err != nil {
		t.Fatal(err)
	}
	if err := acc.load(filepath.Join(t.TempDir(), "x.db"), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	values := []any{
		cfg, &cfg, *wf, wf, runner.Job{Target: remote.Target{Name: "h"}},
		store.WinRMSettings{User: "Administrator", Password: secret.Secret(pw), PasswordSet: true},
		store.User{Name: "alice", Role: store.RoleAdmin, CreatedAt: time.Now()},
		acc, *acc,
	}
	for _, v := range values {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "value", v)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "value", v)
		j, _ := json.Marshal(v) // structs with funcs do not encode; what does must not leak
		for _, out := range []string{fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), string(j), logs.String()} {
			if strings.Contains(out, pw) {
				t.Fatalf("%T shows the password: %s", v, out)
			}
		}
	}
}
