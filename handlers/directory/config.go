// Package directory signs people in against Active Directory or another
// LDAP directory: a bind as a service account, a search for the person, a
// bind as the person with the password they typed (the directory checks
// it; this package never compares passwords), and their groups, nested
// ones included, mapped to a wsusfix role. It only speaks TLS (LDAPS, or
// StartTLS on ldap://) and escapes every value it puts in a filter. It
// returns errors that say what an administrator must fix; it never logs,
// and it holds no state between calls but its configuration.
package directory

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"wsusfix/store"
	"wsusfix/store/secret"
)

// Strategy is how nested group membership is resolved.
type Strategy string

// The strategies. InChain and TokenGroups are Active Directory's;
// Recursive works with any directory that keeps memberOf (OpenLDAP's
// memberof overlay, AD itself).
const (
	// InChain asks the directory whether the user is in each mapped group
	// at any depth, with LDAP_MATCHING_RULE_IN_CHAIN (MS-ADTS §3.1.1.3.4.4).
	InChain Strategy = "in-chain"
	// TokenGroups reads the user's constructed tokenGroups attribute (the
	// SIDs of every group, nested included; MS-ADA3 tokenGroups) and
	// compares it with each mapped group's objectSid.
	TokenGroups Strategy = "token-groups"
	// Recursive walks memberOf from the user upwards, at most MaxDepth
	// levels, for directories that implement neither of the above.
	Recursive Strategy = "recursive"
)

// Strategies lists every strategy, the default first.
var Strategies = []Strategy{InChain, TokenGroups, Recursive}

// Defaults, written for Active Directory.
const (
	DefaultUserFilter = "(&(objectCategory=person)(objectClass=user)(sAMAccountName={user}))"
	DefaultUPNFilter  = "(&(objectCategory=person)(objectClass=user)(userPrincipalName={user}))"
	DefaultNameAttr   = "sAMAccountName"
	DefaultMaxDepth   = 8
	DefaultTimeout    = 10 * time.Second
)

// Mapping grants Role to the members of Group (a DN), nested members
// included.
type Mapping struct {
	Group string
	Role  store.Role
}

// Config is how to reach the directory and read roles from it.
type Config struct {
	// URL is ldaps://host[:port], or ldap://host[:port], where StartTLS is
	// always required. Nothing is ever sent in the clear.
	URL string
	// CAPEM verifies the server's certificate; nil uses the system roots.
	// CAFile names where it came from, for the settings page.
	CAPEM  []byte
	CAFile string
	// BindDN is the service account (a DN, or a UPN for AD) that searches
	// for users; BindPassword is its password, read from BindPasswordFile.
	BindDN           string
	BindPassword     secret.Secret
	BindPasswordFile string
	// Base is where users are searched for (the whole subtree).
	Base string
	// UserFilter finds a user by the name typed; {user} stands for it,
	// escaped. UPNFilter is used instead when the name holds an @ (AD's
	// userPrincipalName); empty turns UPN sign-in off.
	UserFilter string
	UPNFilter  string
	// NameAttr holds the account name wsusfix records (sAMAccountName in
	// AD, uid in most other directories), whichever form was typed.
	NameAttr string
	// Groups are the mappings; the highest role among the groups a user
	// is in wins, and a user in none has no access.
	Groups []Mapping
	// Nested is the strategy for nested groups; MaxDepth caps Recursive.
	Nested   Strategy
	MaxDepth int
	// Timeout bounds each connection and each operation on it.
	Timeout time.Duration
}

// withDefaults returns c with empty fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.UserFilter == "" {
		c.UserFilter = DefaultUserFilter
	}
	if c.NameAttr == "" {
		c.NameAttr = DefaultNameAttr
	}
	if c.Nested == "" {
		c.Nested = InChain
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	c.Groups = slices.Clone(c.Groups)
	return c
}

// ErrConfig wraps every configuration problem Validate finds.
var ErrConfig = errors.New("directory: configuration")

// Validate reports every problem with c (defaults applied) at once, each
// naming the setting to fix.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if _, _, err := parseURL(c.URL); err != nil {
		bad("%v", err)
	}
	if c.CAPEM != nil && !x509.NewCertPool().AppendCertsFromPEM(c.CAPEM) {
		bad("the CA file %s holds no PEM certificate", c.CAFile)
	}
	if strings.TrimSpace(c.BindDN) == "" {
		bad("the service account is not set")
	}
	if c.BindPassword.Empty() {
		// An empty password would make the service bind an unauthenticated
		// one, which succeeds without proving anything (RFC 4513 §5.1.2).
		bad("the service account's password is empty")
	}
	if _, err := ldap.ParseDN(c.Base); err != nil || strings.TrimSpace(c.Base) == "" {
		bad("the search base %q is not a DN", c.Base)
	}
	filters := []struct{ name, filter string }{{"user filter", c.UserFilter}}
	if c.UPNFilter != "" { // empty: no sign-in by UPN
		filters = append(filters, struct{ name, filter string }{"UPN filter", c.UPNFilter})
	}
	for _, f := range filters {
		if !strings.Contains(f.filter, "{user}") {
			bad("the %s %q has no {user}", f.name, f.filter)
		} else if _, err := ldap.CompileFilter(userFilter(f.filter, "x")); err != nil {
			bad("the %s %q: %v", f.name, f.filter, err)
		}
	}
	if !validAttr(c.NameAttr) {
		bad("the name attribute %q is not an attribute name", c.NameAttr)
	}
	if len(c.Groups) == 0 {
		bad("no group is mapped to a role, so nobody could sign in")
	}
	for _, m := range c.Groups {
		if _, err := ldap.ParseDN(m.Group); err != nil || strings.TrimSpace(m.Group) == "" {
			bad("the group %q is not a DN", m.Group)
		}
		if _, err := store.ParseRole(string(m.Role)); err != nil {
			bad("the group %q maps to %v", m.Group, err)
		}
	}
	if !slices.Contains(Strategies, c.Nested) {
		bad("nested groups %q: want in-chain, token-groups or recursive", c.Nested)
	}
	return errors.Join(errs...)
}

// parseURL accepts ldaps:// and ldap:// (with StartTLS) and returns the
// URL and the host name the certificate must carry.
func parseURL(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("the directory URL %q: want ldaps://host:636 or ldap://host:389", raw)
	}
	switch u.Scheme {
	case "ldaps", "ldap":
	default:
		return nil, "", fmt.Errorf("the directory URL %q: scheme %q is not ldaps or ldap (with StartTLS); plain LDAP is refused", raw, u.Scheme)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, "", fmt.Errorf("the directory URL %q: give only scheme, host and port", raw)
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("the directory URL %q: no host", raw)
	}
	return u, u.Hostname(), nil
}

// ParseMappings reads "role:group DN" pairs separated by semicolons, in
// order, e.g. "viewer:CN=GG-Helpdesk-L1,OU=Groups,DC=corp,DC=example".
func ParseMappings(s string) ([]Mapping, error) {
	var out []Mapping
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		role, dn, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%w: group mapping %q: want role:group DN", ErrConfig, part)
		}
		r, err := store.ParseRole(role)
		if err != nil {
			return nil, fmt.Errorf("%w: group mapping %q: %v", ErrConfig, part, err)
		}
		out = append(out, Mapping{Group: strings.TrimSpace(dn), Role: r})
	}
	return out, nil
}

// validAttr accepts an attribute description's name: a letter, then
// letters, digits and hyphens (RFC 4512 §1.4 keystring).
func validAttr(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' {
			return false
		}
	}
	return true
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// userFilter puts name, escaped (RFC 4515 §3, ASVS 1.2.6), wherever the
// template says {user}.
func userFilter(template, name string) string {
	return strings.ReplaceAll(template, "{user}", ldap.EscapeFilter(name))
}
