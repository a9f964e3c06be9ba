package views

// DirectorySettings is the directory sign-in configuration the settings
// page shows. It never carries the service account's password, only the
// file it is read from.
type DirectorySettings struct {
	URL          string
	StartTLS     bool   // ldap:// upgraded with StartTLS (else LDAPS)
	CAFile       string // "" when the system's roots verify the server
	BindDN       string
	PasswordFile string
	Base         string
	UserFilter   string
	UPNFilter    string // "" when sign-in by UPN is off
	NameAttr     string
	Nested       string // in-chain, token-groups or recursive
	MaxDepth     int    // for recursive
	Timeout      string
	Groups       []DirectoryGroup // as configured; the highest matching role wins
}

// DirectoryGroup is one group → role mapping.
type DirectoryGroup struct {
	Group string
	Role  string
}
