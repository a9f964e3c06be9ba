package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"wsusfix/handlers/directory"
	"wsusfix/store/secret"
)

// directoryFlags configure sign-in against Active Directory or LDAP. No
// -ldap-url means local accounts only. The service account's password is
// read from a file only, never from a flag value (which ps would show) or
// the log.
type directoryFlags struct {
	url, caFile, bindDN, passwordFile, base string
	userFilter, upnFilter, nameAttr, groups string
	nested                                  string
	depth                                   int
	timeout, recheck                        time.Duration
	envErr                                  error // a malformed variable, reported by load

	client *directory.Client // set by load when a directory is configured
}

// noUPN turns sign-in by userPrincipalName off (-ldap-upn-filter none).
const noUPN = "none"

// registerDirectoryFlags adds the -ldap-… flags to fs. A malformed
// WSUSFIX_LDAP_* number or duration is reported by load, after parsing,
// so the caller needs only this one line.
func registerDirectoryFlags(fs *flag.FlagSet, e env) *directoryFlags {
	f := &directoryFlags{}
	depth, err1 := e.int("WSUSFIX_LDAP_NESTED_DEPTH", directory.DefaultMaxDepth)
	timeout, err2 := e.duration("WSUSFIX_LDAP_TIMEOUT", directory.DefaultTimeout)
	recheck, err3 := e.duration("WSUSFIX_LDAP_RECHECK", 5*time.Minute)
	f.envErr = errors.Join(err1, err2, err3)
	fs.StringVar(&f.url, "ldap-url", e.str("WSUSFIX_LDAP_URL", ""), "directory for sign-in: ldaps://dc01.corp.example.com:636, "+
		"or ldap://…:389 with StartTLS (always required); empty: local accounts only [WSUSFIX_LDAP_URL]")
	fs.StringVar(&f.caFile, "ldap-ca", e.str("WSUSFIX_LDAP_CA", ""), "PEM CA certificates that verify the directory; "+
		"default: the system's [WSUSFIX_LDAP_CA]")
	fs.StringVar(&f.bindDN, "ldap-bind-dn", e.str("WSUSFIX_LDAP_BIND_DN", ""), "service account that searches for users, "+
		"a DN or (AD) a UPN such as svc-wsusfix@corp.example.com [WSUSFIX_LDAP_BIND_DN]")
	fs.StringVar(&f.passwordFile, "ldap-bind-password-file", e.str("WSUSFIX_LDAP_BIND_PASSWORD_FILE", ""),
		"file holding the service account's password [WSUSFIX_LDAP_BIND_PASSWORD_FILE]")
	fs.StringVar(&f.base, "ldap-base", e.str("WSUSFIX_LDAP_BASE", ""), "where users are searched for, e.g. "+
		"OU=Staff,DC=corp,DC=example,DC=com [WSUSFIX_LDAP_BASE]")
	fs.StringVar(&f.userFilter, "ldap-user-filter", e.str("WSUSFIX_LDAP_USER_FILTER", directory.DefaultUserFilter),
		"filter finding a user by the name typed; {user} stands for it, escaped [WSUSFIX_LDAP_USER_FILTER]")
	fs.StringVar(&f.upnFilter, "ldap-upn-filter", e.str("WSUSFIX_LDAP_UPN_FILTER", directory.DefaultUPNFilter),
		"filter used instead when the name holds an @; none: no sign-in by UPN [WSUSFIX_LDAP_UPN_FILTER]")
	fs.StringVar(&f.nameAttr, "ldap-name-attr", e.str("WSUSFIX_LDAP_NAME_ATTR", directory.DefaultNameAttr),
		"attribute holding the account name wsusfix records (uid on OpenLDAP) [WSUSFIX_LDAP_NAME_ATTR]")
	fs.StringVar(&f.groups, "ldap-groups", e.str("WSUSFIX_LDAP_GROUPS", ""), "role:group DN pairs, separated by ;, "+
		"e.g. viewer:CN=GG-Helpdesk-L1,OU=Groups,DC=corp,DC=example,DC=com;operator:CN=GG-Helpdesk-L2,…; "+
		"the highest role among a user's groups wins, none means no access [WSUSFIX_LDAP_GROUPS]")
	fs.StringVar(&f.nested, "ldap-nested", e.str("WSUSFIX_LDAP_NESTED", string(directory.InChain)),
		"nested groups: in-chain or token-groups (Active Directory), recursive (memberOf walk, OpenLDAP) [WSUSFIX_LDAP_NESTED]")
	fs.IntVar(&f.depth, "ldap-nested-depth", depth, "levels the recursive walk follows at most [WSUSFIX_LDAP_NESTED_DEPTH]")
	fs.DurationVar(&f.timeout, "ldap-timeout", timeout, "bound on each connection to the directory and each request [WSUSFIX_LDAP_TIMEOUT]")
	fs.DurationVar(&f.recheck, "ldap-recheck", recheck, "how often a signed-in directory user's role is read again; "+
		"starting a repair always reads it [WSUSFIX_LDAP_RECHECK]")
	return f
}

// load reads the password and CA files and builds the client; without
// -ldap-url it does nothing. Every problem is reported at start, naming
// the flag, so a wrong setting never waits for the first sign-in.
func (f *directoryFlags) load(log *slog.Logger) error {
	if f.envErr != nil {
		return f.envErr
	}
	if f.url == "" {
		if f.bindDN != "" || f.base != "" || f.groups != "" || f.passwordFile != "" {
			return errors.New("-ldap-url is not set, but other -ldap-… settings are: set it to sign people in against the directory")
		}
		return nil
	}
	cfg := directory.Config{URL: f.url, CAFile: f.caFile, BindDN: f.bindDN, BindPasswordFile: f.passwordFile, Base: f.base,
		UserFilter: f.userFilter, UPNFilter: f.upnFilter, NameAttr: f.nameAttr, Nested: directory.Strategy(f.nested),
		MaxDepth: f.depth, Timeout: f.timeout}
	if strings.EqualFold(cfg.UPNFilter, noUPN) {
		cfg.UPNFilter = ""
	}
	if f.recheck <= 0 {
		return fmt.Errorf("-ldap-recheck %v: want a positive duration", f.recheck)
	}
	if f.passwordFile == "" {
		return errors.New("-ldap-bind-password-file: the service account's password file is not set")
	}
	b, err := os.ReadFile(f.passwordFile)
	if err != nil {
		return fmt.Errorf("-ldap-bind-password-file: %w", err)
	}
	cfg.BindPassword = secret.Secret(strings.TrimRight(string(b), "\r\n"))
	warnShared(log, f.passwordFile)
	if f.caFile != "" {
		if cfg.CAPEM, err = os.ReadFile(f.caFile); err != nil {
			return fmt.Errorf("-ldap-ca: %w", err)
		}
	}
	if cfg.Groups, err = directory.ParseMappings(f.groups); err != nil {
		return fmt.Errorf("-ldap-groups: %w", err)
	}
	if f.client, err = directory.New(cfg); err != nil {
		return fmt.Errorf("directory sign-in settings (-ldap-…): %w", err)
	}
	log.Info("directory sign-in on; local accounts keep working beside it", "url", f.url, "base", f.base,
		"nested", f.nested, "groups", len(cfg.Groups))
	return nil
}
