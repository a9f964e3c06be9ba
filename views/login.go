package views

import "context"

// SignedIn is who is using the page, as the header's user menu shows it.
type SignedIn struct {
	Name string
	Role string // viewer, operator or admin
}

// Admin reports whether the user may see the admin pages.
func (u SignedIn) Admin() bool { return u.Role == "admin" }

type signedInKey struct{}

// WithSignedIn returns ctx carrying the signed-in user for the layout; the
// handlers' session middleware calls it once per request.
func WithSignedIn(ctx context.Context, u SignedIn) context.Context {
	return context.WithValue(ctx, signedInKey{}, u)
}

// signedIn is the typed accessor templates use; ok is false on pages seen
// by nobody in particular (the sign-in page, errors before sign-in).
func signedIn(ctx context.Context) (SignedIn, bool) {
	u, ok := ctx.Value(signedInKey{}).(SignedIn)
	return u, ok
}

// LoginProps is what the sign-in page shows.
type LoginProps struct {
	Username string // kept on a failed attempt; the password never is
	Next     string // where to go after signing in: a local path
	Problem  string // why the last attempt failed, in words for people
	// Directory says domain accounts can sign in too.
	Directory bool
}
