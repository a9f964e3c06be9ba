package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"wsusfix/handlers/directory"
	"wsusfix/store"
	"wsusfix/store/secret"
	"wsusfix/views"
)

// Directory signs people in against Active Directory or LDAP; satisfied
// by *directory.Client. Its errors wrap the directory package's kinds.
type Directory interface {
	SignIn(ctx context.Context, name string, pw secret.Secret) (directory.Account, error)
	Lookup(ctx context.Context, account string) (directory.Account, error)
	Summary() directory.Summary
}

// refusal is a failed sign-in: the person sees the same refusal as for a
// wrong password; detail (no secret in it) goes to the audit log.
type refusal struct{ detail string }

// Error returns the detail, for logs.
func (e refusal) Error() string { return "sign-in refused: " + e.detail }

// Is makes a refusal a store.ErrBadCredentials, so handleLogin answers it
// as one.
func (e refusal) Is(target error) bool { return target == store.ErrBadCredentials }

// authenticate checks a name and password. A name that is a local account
// is checked here, and only here: it is never sent to the directory, so a
// local password is never tried against the directory (nor counted
// towards a lockout there), and a directory password never opens a local
// account. Every other name goes to the directory, when one is configured.
func (h *handler) authenticate(r *http.Request, name string, pw secret.Secret) (store.User, error) {
	ctx := r.Context()
	if h.dir == nil {
		return h.store.Authenticate(ctx, name, pw)
	}
	local, err := h.store.HasLocalUser(ctx, name)
	if err != nil {
		return store.User{}, err
	}
	if local {
		return h.store.Authenticate(ctx, name, pw)
	}
	a, err := h.dir.SignIn(ctx, name, pw)
	if err != nil {
		h.logDirectory(r, "directory sign-in refused", name, err)
		return store.User{}, refusal{detail: directoryDetail(err)}
	}
	if len(a.Missing) > 0 {
		h.log.Warn("mapped directory groups not found; check -ldap-groups", "groups", a.Missing, "request_id", requestIDFrom(ctx))
	}
	u, err := h.store.DirectorySignIn(ctx, a.Name, a.DN, a.Role)
	if _, bad := invalid(err); bad {
		// The directory allows names wsusfix does not (spaces, over 64
		// characters): an administrator must pick another -ldap-name-attr.
		h.log.Error("directory account name cannot be recorded; an administrator must fix -ldap-name-attr (plain names only)",
			"user", name, "account", a.Name, "dn", a.DN, "error", err, "request_id", requestIDFrom(ctx))
		return store.User{}, refusal{detail: "directory: account name not usable"}
	}
	if err != nil {
		return store.User{}, err
	}
	if u.Disabled {
		h.log.Info("directory sign-in refused: disabled here by an admin", "user", u.Name, "request_id", requestIDFrom(ctx))
		return store.User{}, refusal{detail: "directory: disabled here"}
	}
	return u, nil
}

// logDirectory logs a directory failure with its reason: at Error when an
// administrator must act (the directory, its certificate, the service
// account, the base), at Info when it is the person's own (wrong
// password, no mapped group), which the audit log also records.
func (h *handler) logDirectory(r *http.Request, msg, name string, err error) {
	level := slog.LevelInfo
	if directory.IsAdminError(err) {
		level, msg = slog.LevelError, msg+"; an administrator must fix the directory settings or the directory"
	}
	h.log.Log(r.Context(), level, msg, "user", name, "client", h.clientAddr(r), "error", err,
		"request_id", requestIDFrom(r.Context()))
}

// directoryDetail names the kind of a directory failure for the audit log.
func directoryDetail(err error) string {
	for _, k := range []struct {
		err  error
		what string
	}{
		{directory.ErrRefused, "refused"}, {directory.ErrNoRole, "in no mapped group"},
		{directory.ErrUnreachable, "unreachable"}, {directory.ErrUntrusted, "certificate not trusted"},
		{directory.ErrServiceBind, "service account refused"}, {directory.ErrBase, "search base not found"},
	} {
		if errors.Is(err, k.err) {
			return "directory: " + k.what
		}
	}
	return "directory: error"
}

// freshRole asks the directory again, before a repair starts, whether a
// directory user still holds perm, through the same search and group
// check as sign-in: someone taken out of the repair group cannot start a
// repair with a session from before, and someone taken out of every group
// (or disabled there) loses every session. The role is written back, so
// the rest of the session shows what the directory says now. When the
// directory cannot answer, nothing starts (fail closed). Local users pass.
func (h *handler) freshRole(perm permission) func(http.Handler) http.Handler {
	need := roleFor[perm]
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := currentUser(r)
			if !ok || u.Source != store.SourceDirectory {
				next.ServeHTTP(w, r)
				return
			}
			u, err := h.recheck(r, u)
			if t, ok := currentToken(r); ok {
				u = tokenRole(u, t)
			}
			var gone refusal
			switch {
			case errors.As(err, &gone):
				h.audit(r, store.ActionAccessDenied, r.Method+" "+r.URL.Path, store.OutcomeDenied, gone.detail)
				h.refuse(w, r, http.StatusForbidden, "Not allowed", "Your directory account no longer allows this, so you have been signed out. "+
					"Ask an administrator if you need it.")
			case err != nil:
				h.audit(r, store.ActionAccessDenied, r.Method+" "+r.URL.Path, store.OutcomeError, directoryDetail(err))
				h.fail(w, r, unavailable{"The directory could not confirm your role, so nothing was started. " +
					"Try again in a minute; if it keeps happening, tell an administrator."})
			case !u.Role.Allows(need):
				h.log.Warn("access denied by the directory's current role", "user", u.Name, "role", u.Role, "need", need,
					"route", routePattern(r), "request_id", requestIDFrom(r.Context()))
				h.audit(r, store.ActionAccessDenied, r.Method+" "+r.URL.Path, store.OutcomeDenied,
					"directory role now "+string(u.Role)+", needs "+string(need))
				h.refuse(w, r, http.StatusForbidden, "Not allowed", "Your directory groups now give you the role "+string(u.Role)+
					", which does not allow this. Ask an administrator if you need it.")
			default:
				ctx := context.WithValue(r.Context(), userKey{}, u)
				ctx = views.WithSignedIn(ctx, views.SignedIn{Name: u.Name, Role: string(u.Role)})
				next.ServeHTTP(w, r.WithContext(ctx))
			}
		})
	}
}

// defaultDirectoryRecheck is how long a directory user's role is trusted
// between two looks at the directory (ASVS 5.0 8.3.2 asks for a periodic
// re-check of changed authorisation; starting a repair always re-checks).
const defaultDirectoryRecheck = 5 * time.Minute

// refreshDirectoryRole re-reads a directory user's role once the session
// last confirmed it more than the re-check interval ago, so someone taken
// out of every group, or disabled, in the directory loses even read
// access within minutes, not at their session's end. ok is false when the
// directory no longer admits u (their sessions are ended). When the
// directory cannot answer, u keeps the role last confirmed until the next
// interval: reading pages goes on through a directory outage, and
// starting a repair does not (freshRole).
func (h *handler) refreshDirectoryRole(r *http.Request, u store.User) (store.User, bool) {
	ctx := r.Context()
	last := time.Unix(h.sessions.GetInt64(ctx, sessDirChecked), 0)
	if h.dir == nil || time.Since(last) < h.dirRecheck {
		return u, true
	}
	nu, ok := h.recheckRole(r, u)
	if ok {
		h.sessions.Put(ctx, sessDirChecked, time.Now().Unix())
	}
	return nu, ok
}

// recheckRole asks the directory about u again (recheck), for a session
// and for a token alike. ok is false when the directory no longer admits
// u: the refusal is audited, and recheck has ended their sessions. When
// the directory cannot answer, u keeps the role last confirmed.
func (h *handler) recheckRole(r *http.Request, u store.User) (_ store.User, ok bool) {
	nu, err := h.recheck(r, u)
	var gone refusal
	if errors.As(err, &gone) {
		h.audit(r, store.ActionAccessDenied, r.Method+" "+r.URL.Path, store.OutcomeDenied, gone.detail)
		return u, false
	}
	if err != nil {
		return u, true // logged by recheck
	}
	return nu, true
}

// recheck reads u's role from the directory and stores it. A refusal
// means the directory no longer lets u in at all: their sessions are
// ended. Any other error is the directory's (or its settings').
func (h *handler) recheck(r *http.Request, u store.User) (store.User, error) {
	ctx := r.Context()
	// The role to compare is the one stored, not one a token capped (the
	// caller caps it again, tokenRole): a token's lower role is no change
	// in the directory. The read is the store's per-generation memo.
	if stored, err := h.store.UserByID(ctx, u.ID); err == nil {
		u = stored
	}
	if h.dir == nil {
		h.log.Error("a directory user tried to start a repair, but no directory is configured", "user", u.Name,
			"request_id", requestIDFrom(ctx))
		return u, fmt.Errorf("handlers: recheck %s: %w", u.Name, directory.ErrUnreachable)
	}
	a, err := h.dir.Lookup(ctx, u.Account())
	if err != nil {
		h.logDirectory(r, "directory re-check of a signed-in user failed", u.Name, err)
		if directory.IsAdminError(err) {
			return u, err
		}
		if err := h.store.EndDirectoryAccess(context.WithoutCancel(ctx), u.ID); err != nil {
			return u, err
		}
		if _, err := EndSessions(context.WithoutCancel(ctx), h.store, u.ID); err != nil {
			h.log.Warn("deleting the sessions of a user the directory no longer admits failed", "user", u.Name, "error", err)
		}
		return u, refusal{detail: directoryDetail(err) + "; sessions ended"}
	}
	if a.Role == u.Role {
		return u, nil
	}
	nu, err := h.store.DirectorySignIn(ctx, a.Name, a.DN, a.Role)
	if err != nil {
		return u, err
	}
	h.log.Info("directory role changed since sign-in", "user", u.Name, "was", u.Role, "now", nu.Role,
		"request_id", requestIDFrom(ctx))
	return nu, nil
}
