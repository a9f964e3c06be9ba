package views

import (
	"strconv"
	"time"

	"github.com/a-h/templ"

	"wsusfix/store"
)

// ProfileProps is the signed-in user's own page: their API tokens.
type ProfileProps struct {
	User    store.User
	Tokens  []store.Token
	Roles   []store.Role // the roles a new token may have: at most the user's
	Created string       // a token's secret, shown once right after it was made
	Name    string       // the name it was made with
	Error   string       // why a token was refused
	Now     time.Time
}

// tokenRevokeHref is where a token's Revoke posts.
func tokenRevokeHref(id int64) templ.SafeURL {
	return templ.SafeURL("/profile/tokens/" + strconv.FormatInt(id, 10) + "/revoke")
}

// tokenState says whether a token can be used, in words.
func tokenState(t store.Token, now time.Time) (string, string) {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked", "tag bad"
	case !now.Before(t.ExpiresAt):
		return "expired", "tag warn"
	}
	return "active", "tag ok"
}
