package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"wsusfix/store"
	"wsusfix/store/secret"
)

// accountDisable is userAccountControl's ACCOUNTDISABLE flag (0x2), from
// Microsoft's "UserAccountControl property flags".
const accountDisable = 0x2

// Account is a person the directory vouched for.
type Account struct {
	// Name is the account name from NameAttr, whatever form was typed.
	Name string
	// DN is the user's entry.
	DN string
	// Role is the highest role among Groups.
	Role store.Role
	// Groups are the mapped groups the user is in, nested or not.
	Groups []string
	// Missing are mapped groups the directory does not hold (a stale
	// mapping, worth a warning in the log); only token-groups notices.
	Missing []string
}

// Client signs people in against one directory. It opens a connection per
// call, so it is safe for concurrent use and survives directory restarts.
type Client struct {
	cfg   Config
	tls   *tls.Config
	start bool // ldap://: StartTLS before anything else
}

// New checks cfg and returns a client for it.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, host, _ := parseURL(cfg.URL)
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.CAPEM != nil {
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(cfg.CAPEM)
	}
	return &Client{cfg: cfg, tls: tc, start: u.Scheme == "ldap"}, nil
}

// SignIn checks name and password against the directory and returns the
// account with its role. The password is checked by binding as the user;
// an empty one is refused before anything is sent, because a simple bind
// with a DN and no password is an unauthenticated bind that succeeds
// without proving anything (RFC 4513 §5.1.2).
func (c *Client) SignIn(ctx context.Context, name string, pw secret.Secret) (Account, error) {
	if pw.Empty() {
		return Account{}, refused("%q: empty password", name)
	}
	return c.account(ctx, name, &pw)
}

// Lookup reads the account name's current state and role, without its
// password, for re-checking someone who signed in earlier: a user who was
// removed, disabled or taken out of every mapped group is refused.
func (c *Client) Lookup(ctx context.Context, name string) (Account, error) {
	return c.account(ctx, name, nil)
}

// account finds name, checks pw when given, and reads the role.
func (c *Client) account(ctx context.Context, name string, pw *secret.Secret) (Account, error) {
	if strings.TrimSpace(name) == "" {
		return Account{}, refused("empty user name")
	}
	conn, done, err := c.connect(ctx)
	if err != nil {
		return Account{}, err
	}
	defer done()
	e, err := c.findUser(conn, name)
	if err != nil {
		return Account{}, err
	}
	a := Account{DN: e.DN, Name: e.GetEqualFoldAttributeValue(c.cfg.NameAttr)}
	if a.Name == "" {
		return Account{}, fmt.Errorf("%w: %s has no %s", ErrDirectory, e.DN, c.cfg.NameAttr)
	}
	if err := checkEnabled(e.DN, e.GetEqualFoldAttributeValue("userAccountControl")); err != nil {
		return Account{}, err
	}
	if pw != nil {
		if err := conn.Bind(e.DN, pw.Reveal()); err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				return Account{}, refused("%s: wrong password", e.DN)
			}
			return Account{}, opError("bind as "+e.DN, err, ErrDirectory)
		}
		// Back to the service account: what a user may read of groups is
		// the directory's business, what the service account may is ours.
		if err := c.serviceBind(conn); err != nil {
			return Account{}, err
		}
	}
	if err := c.resolveRole(conn, e, &a); err != nil {
		return Account{}, err
	}
	return a, nil
}

// checkEnabled refuses an account whose userAccountControl (decimal, as
// AD returns it) has ACCOUNTDISABLE set. Directories without the
// attribute ("") have no such flag to check.
func checkEnabled(dn, uac string) error {
	if uac == "" {
		return nil
	}
	flags, err := strconv.ParseInt(uac, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s: userAccountControl %q is not a number", ErrDirectory, dn, uac)
	}
	if flags&accountDisable != 0 {
		return refused("%s is disabled (userAccountControl %d has ACCOUNTDISABLE)", dn, flags)
	}
	return nil
}

// connect dials the directory, sets up TLS (LDAPS, or StartTLS before any
// other request) and binds as the service account. It returns the
// connection and the function that closes it. The connection is also
// closed if ctx ends first, so nothing outlives the request; each
// operation times out on its own as well.
func (c *Client) connect(ctx context.Context) (*ldap.Conn, func(), error) {
	timeout := c.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	conn, err := ldap.DialURL(c.cfg.URL, ldap.DialWithTLSConfig(c.tls), ldap.DialWithDialer(&net.Dialer{Timeout: timeout}))
	if err != nil {
		return nil, nil, connError(c.cfg.URL, err)
	}
	conn.SetTimeout(timeout)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() {
		stop()
		conn.Close()
	}
	if c.start {
		if err := conn.StartTLS(c.tls); err != nil {
			done()
			return nil, nil, connError(c.cfg.URL+" (StartTLS)", err)
		}
	}
	if err := c.serviceBind(conn); err != nil {
		done()
		return nil, nil, err
	}
	return conn, done, nil
}

// serviceBind binds as the service account.
func (c *Client) serviceBind(conn *ldap.Conn) error {
	if err := conn.Bind(c.cfg.BindDN, c.cfg.BindPassword.Reveal()); err != nil {
		if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) {
			return fmt.Errorf("%w: bind as %s: %w", ErrUnreachable, c.cfg.BindDN, err)
		}
		return fmt.Errorf("%w: %s: %w", ErrServiceBind, c.cfg.BindDN, err)
	}
	return nil
}

// findUser searches the base for exactly one entry matching name, by UPN
// when the name holds an @ and UPN sign-in is on.
func (c *Client) findUser(conn *ldap.Conn, name string) (*ldap.Entry, error) {
	tmpl := c.cfg.UserFilter
	if strings.Contains(name, "@") && c.cfg.UPNFilter != "" {
		tmpl = c.cfg.UPNFilter
	}
	req := ldap.NewSearchRequest(c.cfg.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, int(c.cfg.Timeout.Seconds()), false,
		userFilter(tmpl, name), []string{c.cfg.NameAttr, "userAccountControl", "memberOf"}, nil)
	res, err := conn.Search(req)
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return nil, fmt.Errorf("%w: the user filter matches more than one entry for %q under %s", ErrDirectory, name, c.cfg.Base)
	case err != nil:
		return nil, opError("search under "+c.cfg.Base, err, ErrDirectory)
	case len(res.Entries) == 0:
		return nil, refused("%q: no such user under %s", name, c.cfg.Base)
	case len(res.Entries) > 1:
		return nil, fmt.Errorf("%w: the user filter matches %d entries for %q under %s", ErrDirectory, len(res.Entries), name, c.cfg.Base)
	}
	return res.Entries[0], nil
}

// Summary is a client's configuration without the service account's
// password, for the settings page.
type Summary struct {
	URL              string
	StartTLS         bool
	CAFile           string // "" when the system's roots verify the server
	BindDN           string
	BindPasswordFile string
	Base             string
	UserFilter       string
	UPNFilter        string
	NameAttr         string
	Groups           []Mapping
	Nested           Strategy
	MaxDepth         int
	Timeout          time.Duration
}

// Summary returns the configuration, secret left out. The caller owns the
// result.
func (c *Client) Summary() Summary {
	return Summary{URL: c.cfg.URL, StartTLS: c.start, CAFile: c.cfg.CAFile, BindDN: c.cfg.BindDN,
		BindPasswordFile: c.cfg.BindPasswordFile, Base: c.cfg.Base, UserFilter: c.cfg.UserFilter, UPNFilter: c.cfg.UPNFilter,
		NameAttr: c.cfg.NameAttr, Groups: slices.Clone(c.cfg.Groups), Nested: c.cfg.Nested, MaxDepth: c.cfg.MaxDepth,
		Timeout: c.cfg.Timeout}
}
