package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"wsusfix/store"
)

// TestInChainFilter ensures the in-chain check is the filter Microsoft
// documents for LDAP_MATCHING_RULE_IN_CHAIN, on memberOf, with the group
// DN escaped so a DN holding filter characters cannot change it.
func TestInChainFilter(t *testing.T) {
	got := inChainFilter(`CN=GG-Helpdesk-L2,OU=Groups,DC=corp,DC=example`)
	want := `(memberOf:1.2.840.113556.1.4.1941:=CN=GG-Helpdesk-L2,OU=Groups,DC=corp,DC=example)`
	if got != want {
		t.Fatalf("inChainFilter = %s\nwant           %s", got, want)
	}
	tricky := inChainFilter(`CN=Ops (EU)*,OU=Groups,DC=corp,DC=example`)
	if want := `(memberOf:1.2.840.113556.1.4.1941:=CN=Ops \28EU\29\2a,OU=Groups,DC=corp,DC=example)`; tricky != want {
		t.Fatalf("inChainFilter with ( ) * = %s, want %s", tricky, want)
	}
	if _, err := ldap.CompileFilter(tricky); err != nil {
		t.Fatalf("the escaped filter does not compile: %v", err)
	}
}

// TestTokenGroupsRequest ensures tokenGroups is read the only way AD
// computes it: a base-scope read of the user's own entry, asking for that
// attribute by name.
func TestTokenGroupsRequest(t *testing.T) {
	r := tokenGroupsRequest("CN=Alice,OU=Staff,DC=corp,DC=example")
	if r.BaseDN != "CN=Alice,OU=Staff,DC=corp,DC=example" || r.Scope != ldap.ScopeBaseObject ||
		len(r.Attributes) != 1 || r.Attributes[0] != "tokenGroups" || r.Filter != "(objectClass=*)" {
		t.Fatalf("tokenGroups request = %+v", r)
	}
}

// TestSIDs ensures binary SIDs, as tokenGroups and objectSid carry them,
// are read as Windows writes them and matched byte for byte.
func TestSIDs(t *testing.T) {
	// S-1-5-21-1004336348-1177238915-682003330-512 (Domain Admins of some domain).
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0, 2, 0, 0}
	s, err := sidString(sid)
	if err != nil || s != "S-1-5-21-1004336348-1177238915-682003330-512" {
		t.Fatalf("sidString = %q, %v", s, err)
	}
	other := append([]byte(nil), sid...)
	other[len(other)-4] = 1 // …-513, Domain Users
	if !sidIn(sid, [][]byte{other, sid}) || sidIn(sid, [][]byte{other}) || sidIn(nil, [][]byte{nil}) {
		t.Fatal("sidIn matched the wrong SIDs")
	}
	if _, err := sidString(sid[:len(sid)-1]); err == nil {
		t.Fatal("a truncated SID was accepted")
	}
}

// TestCheckEnabled ensures the ACCOUNTDISABLE bit (0x2) refuses an
// account whatever other flags are set, and only that bit.
func TestCheckEnabled(t *testing.T) {
	tests := []struct {
		uac  string
		want error
	}{
		{"512", nil},               // NORMAL_ACCOUNT
		{"66048", nil},             // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
		{"", nil},                  // no such attribute (OpenLDAP)
		{"514", ErrRefused},        // NORMAL_ACCOUNT | ACCOUNTDISABLE
		{"66050", ErrRefused},      // … | DONT_EXPIRE_PASSWORD
		{"2", ErrRefused},          // the bit alone
		{"disabled", ErrDirectory}, // not a number: the directory is odd, not the user
	}
	for _, tt := range tests {
		if err := checkEnabled("CN=x", tt.uac); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("checkEnabled(%q) = %v, want %v", tt.uac, err, tt.want)
		}
	}
}

// TestUserFilter ensures the default AD filter finds the typed name only
// as a literal value (RFC 4515 escapes), so "*" matches nobody's name but
// "*".
func TestUserFilter(t *testing.T) {
	got := userFilter(DefaultUserFilter, `a*b(c)\`)
	want := `(&(objectCategory=person)(objectClass=user)(sAMAccountName=a\2ab\28c\29\5c))`
	if got != want {
		t.Fatalf("userFilter = %s, want %s", got, want)
	}
}

// TestHighestRole ensures the highest mapped role wins whatever the order
// of the mappings, and no mapped group means no role.
func TestHighestRole(t *testing.T) {
	m := []Mapping{{"CN=Admins", store.RoleAdmin}, {"CN=L1", store.RoleViewer}, {"CN=L2", store.RoleOperator}}
	for _, tt := range []struct {
		groups []string
		want   store.Role
	}{
		{[]string{"CN=L1"}, store.RoleViewer},
		{[]string{"CN=L1", "CN=L2"}, store.RoleOperator},
		{[]string{"CN=L2", "CN=Admins", "CN=L1"}, store.RoleAdmin},
		{[]string{"CN=Printers"}, ""},
		{nil, ""},
	} {
		if got := highestRole(m, tt.groups); got != tt.want {
			t.Errorf("highestRole(%v) = %q, want %q", tt.groups, got, tt.want)
		}
	}
}

// TestValidate ensures a configuration that would send anything in the
// clear, bind anonymously, or let nobody in is refused, naming the
// setting.
func TestValidate(t *testing.T) {
	good := Config{URL: "ldaps://dc01.corp.example.com:636", BindDN: "svc-wsusfix@corp.example.com", BindPassword: "x",
		Base: "DC=corp,DC=example,DC=com", Groups: []Mapping{{"CN=GG-Helpdesk-L1,OU=Groups,DC=corp,DC=example,DC=com", store.RoleViewer}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		say    string
	}{
		{"plain scheme", func(c *Config) { c.URL = "http://dc01:389" }, "plain LDAP is refused"},
		{"ldapi", func(c *Config) { c.URL = "ldapi:///var/run/slapd" }, "want ldaps"},
		{"no host", func(c *Config) { c.URL = "ldaps://" }, "want ldaps"},
		{"empty service password", func(c *Config) { c.BindPassword = "" }, "password is empty"},
		{"no service account", func(c *Config) { c.BindDN = " " }, "service account is not set"},
		{"base not a DN", func(c *Config) { c.Base = "corp.example.com" }, "search base"},
		{"filter without {user}", func(c *Config) { c.UserFilter = "(uid=alice)" }, "has no {user}"},
		{"filter broken", func(c *Config) { c.UserFilter = "(uid={user}" }, "user filter"},
		{"no groups", func(c *Config) { c.Groups = nil }, "nobody could sign in"},
		{"unknown role", func(c *Config) { c.Groups = []Mapping{{"CN=G", "root"}} }, "want viewer, operator or admin"},
		{"unknown strategy", func(c *Config) { c.Nested = "deep" }, "in-chain, token-groups or recursive"},
		{"CA not PEM", func(c *Config) { c.CAPEM, c.CAFile = []byte("junk"), "ca.pem" }, "ca.pem holds no PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Validate()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.say) {
				t.Fatalf("Validate = %v, want it to say %q", err, tt.say)
			}
		})
	}
}

// TestParseMappings ensures the flag's "role:DN; role:DN" list keeps its
// order, keeps commas and = inside DNs, and refuses an unknown role.
func TestParseMappings(t *testing.T) {
	got, err := ParseMappings(" viewer:CN=GG-Helpdesk-L1,OU=Groups,DC=corp ; Admin:CN=GG-Server-Admins,OU=Groups,DC=corp;")
	if err != nil || len(got) != 2 || got[0] != (Mapping{"CN=GG-Helpdesk-L1,OU=Groups,DC=corp", store.RoleViewer}) ||
		got[1] != (Mapping{"CN=GG-Server-Admins,OU=Groups,DC=corp", store.RoleAdmin}) {
		t.Fatalf("ParseMappings = %+v, %v", got, err)
	}
	for _, bad := range []string{"CN=G,DC=corp", "superuser:CN=G"} {
		if _, err := ParseMappings(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseMappings(%q) = %v, want a configuration error", bad, err)
		}
	}
}

// sidString renders a binary SID (MS-DTYP §2.4.2.2: revision, count of
// sub-authorities, 48-bit big-endian authority, 32-bit little-endian
// sub-authorities) as S-1-5-21-…, so a test can say which SID its bytes are.
func sidString(b []byte) (string, error) {
	if len(b) < 8 || int(b[1])*4+8 != len(b) {
		return "", errors.New("directory: malformed SID")
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "S-%d-%d", b[0], auth)
	for i := 8; i < len(b); i += 4 {
		s.WriteString("-" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10))
	}
	return s.String(), nil
}
