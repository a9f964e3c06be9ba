package directory

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"wsusfix/store"
)

// OIDs of Active Directory's matching rules (MS-ADTS §3.1.1.3.4.4).
const (
	// matchingRuleInChain (LDAP_MATCHING_RULE_IN_CHAIN, also called
	// TRANSITIVE_EVAL) follows a DN-valued attribute through every level.
	matchingRuleInChain = "1.2.840.113556.1.4.1941"
)

// maxGroupsWalked bounds the recursive walk whatever the depth, so a
// directory with a huge or looping group graph cannot stall a sign-in.
const maxGroupsWalked = 1000

// resolveRole fills a.Groups and a.Role for the user entry e by the
// configured strategy; a user in no mapped group is ErrNoRole.
func (c *Client) resolveRole(conn *ldap.Conn, e *ldap.Entry, a *Account) error {
	var err error
	switch c.cfg.Nested {
	case InChain:
		a.Groups, err = c.inChainGroups(conn, e.DN)
	case TokenGroups:
		a.Groups, a.Missing, err = c.tokenGroups(conn, e.DN)
	case Recursive:
		a.Groups, err = c.recursiveGroups(conn, e)
	default:
		err = fmt.Errorf("%w: unknown strategy %q", ErrConfig, c.cfg.Nested)
	}
	if err != nil {
		return err
	}
	a.Role = highestRole(c.cfg.Groups, a.Groups)
	if a.Role == "" {
		return fmt.Errorf("%w: %s (nested groups by %s)", ErrNoRole, e.DN, c.cfg.Nested)
	}
	return nil
}

// highestRole returns the highest role mapped to any of groups, or "".
func highestRole(mappings []Mapping, groups []string) store.Role {
	best := -1
	for _, m := range mappings {
		if !slices.Contains(groups, m.Group) {
			continue
		}
		if i := slices.Index(store.Roles, m.Role); i > best {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return store.Roles[best]
}

// inChainFilter matches the user's own entry when it is a member of group
// at any depth. Searched with base scope on the user, it costs the
// directory one object (security notes §2.4; Microsoft's
// LDAP_MATCHING_RULE_IN_CHAIN documentation warns that broad in-chain
// searches are slow).
func inChainFilter(groupDN string) string {
	return "(memberOf:" + matchingRuleInChain + ":=" + ldap.EscapeFilter(groupDN) + ")"
}

// inChainGroups asks, for each mapped group, whether the user is in it.
func (c *Client) inChainGroups(conn *ldap.Conn, userDN string) ([]string, error) {
	var in []string
	for _, m := range c.cfg.Groups {
		res, err := conn.Search(baseRequest(userDN, inChainFilter(m.Group), "1.1"))
		if err != nil {
			return nil, opError("in-chain check of "+m.Group, err, ErrDirectory)
		}
		if len(res.Entries) == 1 {
			in = append(in, m.Group)
		}
	}
	return in, nil
}

// baseRequest reads one entry (base scope) with filter, for attrs. "1.1"
// asks for no attributes (RFC 4511 §4.5.1.8).
func baseRequest(dn, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, filter, attrs, nil)
}

// tokenGroupsRequest reads the user's tokenGroups: a constructed
// attribute, so AD computes it only for a base-scope read (MS-ADA3
// tokenGroups).
func tokenGroupsRequest(userDN string) *ldap.SearchRequest {
	return baseRequest(userDN, "(objectClass=*)", "tokenGroups")
}

// tokenGroups compares the user's tokenGroups with each mapped group's
// objectSid. A mapped group the directory does not hold is returned in
// missing rather than failing everyone's sign-in.
func (c *Client) tokenGroups(conn *ldap.Conn, userDN string) (in, missing []string, err error) {
	res, err := conn.Search(tokenGroupsRequest(userDN))
	if err != nil {
		return nil, nil, opError("tokenGroups of "+userDN, err, ErrDirectory)
	}
	if len(res.Entries) != 1 {
		return nil, nil, fmt.Errorf("%w: tokenGroups of %s: no entry", ErrDirectory, userDN)
	}
	tokens := res.Entries[0].GetEqualFoldRawAttributeValues("tokenGroups")
	for _, m := range c.cfg.Groups {
		g, err := conn.Search(baseRequest(m.Group, "(objectClass=*)", "objectSid"))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			missing = append(missing, m.Group)
			continue
		}
		if err != nil {
			return nil, nil, opError("objectSid of "+m.Group, err, ErrDirectory)
		}
		if len(g.Entries) == 1 && sidIn(g.Entries[0].GetEqualFoldRawAttributeValue("objectSid"), tokens) {
			in = append(in, m.Group)
		}
	}
	return in, missing, nil
}

// sidIn reports whether sid (binary, non-empty) is among tokens.
func sidIn(sid []byte, tokens [][]byte) bool {
	if len(sid) == 0 {
		return false
	}
	return slices.ContainsFunc(tokens, func(t []byte) bool { return bytes.Equal(t, sid) })
}

// recursiveGroups walks memberOf upwards from the user, breadth first, at
// most MaxDepth levels and maxGroupsWalked groups, and returns the mapped
// groups met on the way. Each group is read once, so cycles end.
func (c *Client) recursiveGroups(conn *ldap.Conn, e *ldap.Entry) ([]string, error) {
	seen := map[string]bool{}
	level := e.GetEqualFoldAttributeValues("memberOf")
	var in []string
	for depth := 1; len(level) > 0 && depth <= c.cfg.MaxDepth; depth++ {
		var next []string
		for _, dn := range level {
			key := normDN(dn)
			if seen[key] || len(seen) >= maxGroupsWalked {
				continue
			}
			seen[key] = true
			if m, ok := c.mapped(dn); ok && !slices.Contains(in, m) {
				in = append(in, m)
			}
			if depth == c.cfg.MaxDepth {
				continue // the groups above this one are past the cap
			}
			res, err := conn.Search(baseRequest(dn, "(objectClass=*)", "memberOf"))
			if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				continue // a dangling memberOf value: nothing above it
			}
			if err != nil {
				return nil, opError("memberOf of "+dn, err, ErrDirectory)
			}
			for _, g := range res.Entries {
				next = append(next, g.GetEqualFoldAttributeValues("memberOf")...)
			}
		}
		level = next
	}
	return in, nil
}

// mapped returns the configured spelling of dn when it is a mapped group:
// DNs compare by their parsed form, case-insensitively, as directories
// compare them.
func (c *Client) mapped(dn string) (string, bool) {
	key := normDN(dn)
	for _, m := range c.cfg.Groups {
		if normDN(m.Group) == key {
			return m.Group, true
		}
	}
	return "", false
}

// normDN is a comparable form of dn: parsed and re-rendered (so spacing
// and escaping do not matter), in lower case. An unparsable DN compares
// as its lower-cased text.
func normDN(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	return strings.ToLower(p.String())
}
