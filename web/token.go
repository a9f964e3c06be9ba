package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"wsusfix/store"
)

const tokenUsage = `Usage: wsusfix token create -user NAME -name TOKEN [-role ROLE] [-days N] [-db FILE]

Makes an API token for a user, as the profile page does, and prints its
secret once on stdout (nothing else goes there, so a script can capture
it). The role is at most the user's (default viewer); the token lasts
-days days (default 90, at most 365). Revoke it on the user's profile page.
`

// runToken runs `wsusfix token create`.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, tokenUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errors.New("token: the command is create")
	}
	e := env(getenv)
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage+"\nFlags:\n"); fs.PrintDefaults() }
	db := dbFlag(fs, e)
	user := fs.String("user", "", "the user the token acts for")
	name := fs.String("name", "", "the token's name, shown on the profile page and in the audit log")
	role := fs.String("role", string(store.RoleViewer), "viewer, operator or admin; at most the user's role")
	days := fs.Int("days", 90, "how many days the token lasts (1 to 365)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || *user == "" || *name == "" {
		fs.Usage()
		return errors.New("token create: -user and -name are required")
	}
	r, err := store.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	st, err := openStore(ctx, *db, cliLogger(stderr))
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	defer st.Close()
	u, err := st.UserByName(ctx, *user)
	if err != nil {
		return fmt.Errorf("token create: %w", userErr(*user, err))
	}
	if u.Disabled {
		return fmt.Errorf("token create: user %q is disabled", *user)
	}
	sec, t, err := st.CreateToken(ctx, u, *name, r, *days)
	if ie := (*store.InvalidError)(nil); errors.As(err, &ie) {
		return fmt.Errorf("token create: %s", ie.Reason)
	}
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	if err := st.Audit(ctx, store.AuditEntry{Actor: cliActor(e), Client: "local", Action: store.ActionTokenCreate,
		Target: "token " + t.Name + " of " + u.Name, Outcome: store.OutcomeOK}); err != nil {
		return fmt.Errorf("token create: audit: %w", err)
	}
	fmt.Fprintln(stdout, sec.Reveal()) // the one place the secret is shown
	fmt.Fprintf(stderr, "Made token %q for %s (%s), expiring %s. It is not shown again.\n", t.Name, u.Name, t.Role,
		t.ExpiresAt.Format("2006-01-02"))
	return nil
}
