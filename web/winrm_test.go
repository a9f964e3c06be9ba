package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsusfix/remote"
	"wsusfix/store"
	"wsusfix/store/storetest"
)

// TestWinRMFlags_Krb5Conf ensures -winrm-krb5-conf is read into the WinRM
// settings with Kerberos, from the flag, WSUSFIX_WINRM_KRB5_CONF or
// KRB5_CONFIG in that order, for flag-configured and stored settings
// alike, and is not needed by the other methods.
func TestWinRMFlags_Krb5Conf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, realm string) string {
		path := filepath.Join(dir, name)
		conf := "[libdefaults]\n default_realm = " + realm + "\n[realms]\n " + realm + " = {\n  kdc = 127.0.0.1:88\n }\n"
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fromFlag, fromEnv, fromKRB5 := write("flag.conf", "FLAG.TEST"), write("env.conf", "ENV.TEST"), write("krb5.conf", "KRB5.TEST")
	parse := func(env map[string]string, args ...string) *winrmFlags {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		wf, err := registerWinRMFlags(fs, fakeEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return wf
	}
	base := []string{"-winrm-user", "svc-wsusfix", "-winrm-auth", "kerberos"}
	pw := map[string]string{"WSUSFIX_WINRM_PASSWORD": "pw"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{"WSUSFIX_WINRM_PASSWORD": "pw"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantRealm string
	}{
		{"flag", with(map[string]string{"WSUSFIX_WINRM_KRB5_CONF": fromEnv, "KRB5_CONFIG": fromKRB5}), append(base, "-winrm-krb5-conf", fromFlag), "FLAG.TEST"},
		{"WSUSFIX_WINRM_KRB5_CONF", with(map[string]string{"WSUSFIX_WINRM_KRB5_CONF": fromEnv, "KRB5_CONFIG": fromKRB5}), base, "ENV.TEST"},
		{"KRB5_CONFIG, first of a list", with(map[string]string{"KRB5_CONFIG": fromKRB5 + ":/nonexistent"}), base, "KRB5.TEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(tt.env, tt.args...).config()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(cfg.Krb5Conf), "default_realm = "+tt.wantRealm) {
				t.Fatalf("Krb5Conf %q, want the one of realm %s", cfg.Krb5Conf, tt.wantRealm)
			}
		})
	}

	missing := filepath.Join(dir, "missing.conf")
	if _, err := parse(pw, append(base, "-winrm-krb5-conf", missing)...).config(); err == nil || !strings.Contains(err.Error(), "-winrm-krb5-conf") {
		t.Fatalf("missing krb5.conf: %v", err)
	}
	cfg, err := parse(pw, "-winrm-user", "svc", "-winrm-krb5-conf", missing).config()
	if err != nil || cfg.Krb5Conf != nil {
		t.Fatalf("NTLM with a missing krb5.conf: %v, Krb5Conf %q; want it unread", err, cfg.Krb5Conf)
	}

	// Settings stored on the settings page read the flag's file too.
	st := storetest.Open(t, filepath.Join(t.TempDir(), "w.db"))
	keys, _ := store.NewKeyring(bytes.Repeat([]byte{3}, 32))
	err = st.SaveWinRMSettings(t.Context(), keys, store.WinRMSettings{User: "svc@FLAG.TEST", Auth: remote.AuthKerberos, HTTPS: true,
		Password: "stored-secret"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	src := winrmSource{flags: parse(nil, "-winrm-krb5-conf", fromFlag), st: st, keys: keys}
	if cfg, err := src.Config(t.Context()); err != nil || !strings.Contains(string(cfg.Krb5Conf), "FLAG.TEST") || cfg.Auth != remote.AuthKerberos {
		t.Fatalf("stored kerberos settings: %+v, %v", cfg.Auth, err)
	}
}

// writeKrb5Conf writes a krb5.conf for a realm whose KDC is never asked.
func writeKrb5Conf(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "krb5.conf")
	conf := "[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n EXAMPLE.TEST = {\n  kdc = 127.0.0.1:88\n }\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
