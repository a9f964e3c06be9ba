package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// admin opens a connection as the root DN over LDAPS, for setting the
// directory up and changing it during a test. Every operation on it is
// bounded by ctx's deadline or 10 s.
func (s *Server) admin(ctx context.Context) (*goldap.Conn, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.ca)
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	c, err := goldap.DialURL(s.URL(), goldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		goldap.DialWithDialer(&net.Dialer{Timeout: timeout}))
	if err != nil {
		return nil, fmt.Errorf("ldap: connecting as the root DN: %w", err)
	}
	c.SetTimeout(timeout)
	if err := c.Bind("cn=admin,"+s.suffix, s.rootPassword); err != nil {
		c.Close()
		return nil, fmt.Errorf("ldap: binding as the root DN: %w", err)
	}
	return c, nil
}

// populate adds the suffix, the three OUs, the service account, the users
// and then the groups, inner groups before the groups holding them: the
// memberof overlay writes memberOf when a group gains a member, so a
// member must exist first.
func (s *Server) populate(ctx context.Context, cfg Config) error {
	c, err := s.admin(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	dc := strings.TrimPrefix(strings.SplitN(s.suffix, ",", 2)[0], "dc=")
	domain := strings.ReplaceAll(strings.ReplaceAll(s.suffix, "dc=", ""), ",", ".")
	adds := []*goldap.AddRequest{
		addReq(s.suffix, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {dc}, "o": {domain}}),
		addReq("ou=people,"+s.suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"people"}}),
		addReq("ou=groups,"+s.suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"groups"}}),
		addReq("ou=service,"+s.suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"service"}}),
		addReq(s.ServiceDN(), map[string][]string{"objectClass": {"organizationalRole", "simpleSecurityObject"},
			"cn": {"svc-wsusfix"}, "userPassword": {s.svcPassword}}),
	}
	for _, u := range cfg.Users {
		mail := u.Mail
		if mail == "" {
			mail = u.Name + "@" + domain
		}
		uac := "512" // NORMAL_ACCOUNT
		if u.Disabled {
			uac = "514" // NORMAL_ACCOUNT | ACCOUNTDISABLE
		}
		adds = append(adds, addReq(s.UserDN(u.Name), map[string][]string{
			"objectClass": {"inetOrgPerson", "wsusfixTestAccount"}, "uid": {u.Name}, "cn": {u.Name}, "sn": {u.Name},
			"mail": {mail}, "userPassword": {u.Password}, "userAccountControl": {uac}}))
		s.users[strings.ToLower(u.Name)] = true
	}
	for _, a := range adds {
		if err := c.Add(a); err != nil {
			return fmt.Errorf("ldap: adding %s: %w", a.DN, err)
		}
	}
	return s.addGroups(c, cfg.Groups)
}

// addGroups adds groups in an order where each member exists already.
func (s *Server) addGroups(c *goldap.Conn, groups []Group) error {
	pending := map[string]Group{}
	for _, g := range groups {
		pending[strings.ToLower(g.Name)] = g
	}
	for len(pending) > 0 {
		progress := false
		for _, g := range groups {
			key := strings.ToLower(g.Name)
			if _, ok := pending[key]; !ok || !s.membersExist(g) {
				continue
			}
			var members []string
			for _, m := range g.Members {
				dn, err := s.memberDN(m)
				if err != nil {
					return err
				}
				members = append(members, dn)
			}
			if err := c.Add(addReq(s.GroupDN(g.Name), map[string][]string{"objectClass": {"groupOfNames"},
				"cn": {g.Name}, "member": members})); err != nil {
				return fmt.Errorf("ldap: adding group %s: %w", g.Name, err)
			}
			s.groups[key] = true
			delete(pending, key)
			progress = true
		}
		if !progress {
			return fmt.Errorf("ldap: groups contain each other in a cycle or name unknown members: %d left", len(pending))
		}
	}
	return nil
}

func (s *Server) membersExist(g Group) bool {
	for _, m := range g.Members {
		if _, err := s.memberDN(m); err != nil {
			return false
		}
	}
	return true
}

// memberDN resolves a user or (already added) group name to its DN.
func (s *Server) memberDN(name string) (string, error) {
	switch key := strings.ToLower(name); {
	case s.users[key]:
		return s.UserDN(name), nil
	case s.groups[key]:
		return s.GroupDN(name), nil
	}
	return "", fmt.Errorf("%w: %q", errUnknown, name)
}

func addReq(dn string, attrs map[string][]string) *goldap.AddRequest {
	a := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		a.Attribute(k, v)
	}
	return a
}

// RemoveMember takes member (a user or group name) out of group, as an
// administrator would in the directory; the overlay drops the member's
// memberOf value at once.
func (s *Server) RemoveMember(ctx context.Context, group, member string) error {
	return s.changeMember(ctx, group, member, false)
}

// AddMember puts member (a user or group name) into group.
func (s *Server) AddMember(ctx context.Context, group, member string) error {
	return s.changeMember(ctx, group, member, true)
}

func (s *Server) changeMember(ctx context.Context, group, member string, add bool) error {
	dn, err := s.memberDN(member)
	if err != nil {
		return err
	}
	if !s.groups[strings.ToLower(group)] {
		return fmt.Errorf("%w: group %q", errUnknown, group)
	}
	c, err := s.admin(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	m := goldap.NewModifyRequest(s.GroupDN(group), nil)
	if add {
		m.Add("member", []string{dn})
	} else {
		m.Delete("member", []string{dn})
	}
	if err := c.Modify(m); err != nil {
		return fmt.Errorf("ldap: changing the members of %s: %w", group, err)
	}
	return nil
}

// SetDisabled sets or clears the ACCOUNTDISABLE bit of user's
// userAccountControl (514 or 512).
func (s *Server) SetDisabled(ctx context.Context, user string, disabled bool) error {
	if !s.users[strings.ToLower(user)] {
		return fmt.Errorf("%w: user %q", errUnknown, user)
	}
	c, err := s.admin(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	uac := "512"
	if disabled {
		uac = "514"
	}
	m := goldap.NewModifyRequest(s.UserDN(user), nil)
	m.Replace("userAccountControl", []string{uac})
	if err := c.Modify(m); err != nil {
		return fmt.Errorf("ldap: changing %s: %w", user, err)
	}
	return nil
}
