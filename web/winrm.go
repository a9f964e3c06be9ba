package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"wsusfix/remote"
	"wsusfix/store/secret"
)

// winrmFlags are the settings for reaching real hosts. The password is
// never a flag value (it would show in ps): it comes from
// WSUSFIX_WINRM_PASSWORD or from the file -winrm-password-file names.
type winrmFlags struct {
	port         int
	https        bool
	caFile       string
	insecure     bool
	auth         string
	user         string
	passwordFile string
	krb5Conf     string
	opTimeout    time.Duration
	e            env
}

// registerWinRMFlags adds the -winrm-* flags to fs.
func registerWinRMFlags(fs *flag.FlagSet, e env) (*winrmFlags, error) {
	w := &winrmFlags{e: e}
	port, err := e.int("WSUSFIX_WINRM_PORT", 0)
	if err != nil {
		return nil, err
	}
	https, err := e.bool("WSUSFIX_WINRM_HTTPS", true)
	if err != nil {
		return nil, err
	}
	insecure, err := e.bool("WSUSFIX_WINRM_INSECURE", false)
	if err != nil {
		return nil, err
	}
	op, err := e.duration("WSUSFIX_WINRM_OPERATION_TIMEOUT", 20*time.Second)
	if err != nil {
		return nil, err
	}
	fs.IntVar(&w.port, "winrm-port", port, "WinRM port; 0 means 5986 with HTTPS, 5985 without [WSUSFIX_WINRM_PORT]")
	fs.BoolVar(&w.https, "winrm-https", https, "reach hosts over HTTPS; false means plain HTTP with NTLM, every message encrypted [WSUSFIX_WINRM_HTTPS]")
	fs.StringVar(&w.caFile, "winrm-ca", e.str("WSUSFIX_WINRM_CA", ""), "PEM file of the CA that issued the hosts' WinRM certificates [WSUSFIX_WINRM_CA]")
	fs.BoolVar(&w.insecure, "winrm-insecure", insecure, "do not verify host certificates (labs only) [WSUSFIX_WINRM_INSECURE]")
	fs.StringVar(&w.auth, "winrm-auth", e.str("WSUSFIX_WINRM_AUTH", remote.AuthNTLM), "authentication: "+strings.Join(remote.AuthMethods, ", ")+" [WSUSFIX_WINRM_AUTH]")
	fs.StringVar(&w.user, "winrm-user", e.str("WSUSFIX_WINRM_USER", ""), "account for WinRM, e.g. CORP\\svc-wsusfix [WSUSFIX_WINRM_USER]")
	fs.StringVar(&w.passwordFile, "winrm-password-file", e.str("WSUSFIX_WINRM_PASSWORD_FILE", ""),
		"file holding the WinRM password; otherwise WSUSFIX_WINRM_PASSWORD is read [WSUSFIX_WINRM_PASSWORD_FILE]")
	fs.StringVar(&w.krb5Conf, "winrm-krb5-conf", e.str("WSUSFIX_WINRM_KRB5_CONF", defaultKrb5Conf(e)),
		"krb5.conf naming the Kerberos realm and its KDCs; read only with -winrm-auth kerberos; default $KRB5_CONFIG, else /etc/krb5.conf [WSUSFIX_WINRM_KRB5_CONF]")
	fs.DurationVar(&w.opTimeout, "winrm-operation-timeout", op, "how long a host may hold a request open [WSUSFIX_WINRM_OPERATION_TIMEOUT]")
	return w, nil
}

// configured reports whether the user set up WinRM at all; without it the
// dashboard still serves triage, and repair explains what to set.
func (w *winrmFlags) configured() bool {
	return w.user != "" || w.passwordFile != "" || w.e("WSUSFIX_WINRM_PASSWORD") != ""
}

// config reads the password and CA file and returns the remote settings.
func (w *winrmFlags) config() (remote.Config, error) {
	pw := w.e("WSUSFIX_WINRM_PASSWORD")
	if w.passwordFile != "" {
		b, err := os.ReadFile(w.passwordFile)
		if err != nil {
			return remote.Config{}, fmt.Errorf("-winrm-password-file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	cfg := remote.Config{Port: w.port, HTTPS: w.https, Insecure: w.insecure, Auth: strings.ToLower(w.auth),
		User: w.user, Password: secret.Secret(pw), OperationTimeout: w.opTimeout}
	if w.caFile != "" {
		b, err := os.ReadFile(w.caFile)
		if err != nil {
			return remote.Config{}, fmt.Errorf("-winrm-ca: %w", err)
		}
		cfg.CAPEM = b
	}
	if err := w.readKrb5Conf(&cfg); err != nil {
		return remote.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return remote.Config{}, err
	}
	return cfg, nil
}

// defaultKrb5Conf is where MIT Kerberos itself would look: the first file
// of KRB5_CONFIG (a colon-separated list), else /etc/krb5.conf.
func defaultKrb5Conf(e env) string {
	if first, _, _ := strings.Cut(e("KRB5_CONFIG"), ":"); first != "" {
		return first
	}
	return "/etc/krb5.conf"
}

// readKrb5Conf loads the krb5.conf into cfg when cfg uses Kerberos; other
// methods never touch the file, so its absence matters only then.
func (w *winrmFlags) readKrb5Conf(cfg *remote.Config) error {
	if cfg.Auth != remote.AuthKerberos {
		return nil
	}
	b, err := os.ReadFile(w.krb5Conf)
	if err != nil {
		return fmt.Errorf("-winrm-krb5-conf: kerberos needs the realm's krb5.conf: %w", err)
	}
	cfg.Krb5Conf = b
	return nil
}
