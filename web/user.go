package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"wsusfix/handlers"
	"wsusfix/store"
	"wsusfix/store/secret"
)

const userUsage = `Usage: wsusfix user COMMAND [flags] NAME

Commands:
  add [-role viewer|operator|admin] [-password-file FILE] NAME
                   create an account; without -password-file a password is generated and printed once
  list             list the accounts
  set-role NAME ROLE
                   change an account's role (viewer, operator or admin)
  disable NAME     disable an account and end its sessions
  enable NAME      enable an account again
  reset-password [-password-file FILE] NAME
                   set a new password (generated unless -password-file) and end the account's sessions

Every command takes -db (WSUSFIX_DB). Passwords are never flag values, which other users could read in ps.
`

// runUser runs `wsusfix user …`: account management on the server itself,
// for the first admin, a locked-out admin, or scripts. Each change is
// written to the audit log as done by "cli:<login name>".
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return errors.New("user: no command given")
		}
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	e := env(getenv)
	fs := flag.NewFlagSet("user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage+"\nFlags:\n"); fs.PrintDefaults() }
	db := dbFlag(fs, e)
	var role, pwFile *string
	switch cmd {
	case "add":
		role = fs.String("role", "viewer", "the account's role: viewer, operator or admin")
		fallthrough
	case "reset-password":
		pwFile = fs.String("password-file", "", "file holding the password (first line); otherwise one is generated")
	case "list", "set-role", "disable", "enable":
	default:
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user: unknown command %q", cmd)
	}
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 1
	switch cmd {
	case "list":
		want = 0
	case "set-role":
		want = 2
	}
	if len(names) != want {
		fs.Usage()
		return fmt.Errorf("user %s: want %d argument(s), got %d", cmd, want, len(names))
	}
	st, err := openStore(ctx, *db, cliLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	u := userCmd{ctx: ctx, st: st, out: stdout, actor: cliActor(e)}
	switch cmd {
	case "list":
		return u.list()
	case "add":
		return u.add(names[0], *role, *pwFile)
	case "set-role":
		return u.setRole(names[0], names[1])
	case "disable", "enable":
		return u.setDisabled(names[0], cmd == "disable")
	default:
		return u.resetPassword(names[0], *pwFile)
	}
}

// userCmd carries what every user subcommand needs.
type userCmd struct {
	ctx   context.Context
	st    *store.Store
	out   io.Writer
	actor string
}

// cliActor names who ran a command on the server in the audit log: the
// operating system's user, as the shell gives it.
func cliActor(e env) string { return "cli:" + e.str("USER", e.str("USERNAME", "unknown")) }

func (u userCmd) audit(action, target, detail string) {
	_ = u.st.Audit(u.ctx, store.AuditEntry{Actor: u.actor, Client: "local", Action: action, Target: target,
		Outcome: store.OutcomeOK, Detail: detail})
}

func (u userCmd) list() error {
	users, err := u.st.Users(u.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tLAST SIGN-IN\tCREATED")
	for _, us := range users {
		state, last := "enabled", "never"
		if us.Disabled {
			state = "disabled"
		}
		if !us.LastLoginAt.IsZero() {
			last = us.LastLoginAt.Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", us.Name, us.Role, state, last, us.CreatedAt.Format("2006-01-02"))
	}
	return tw.Flush()
}

// password reads the password from file, or generates one; generated
// reports whether the caller must show it.
func password(file string) (pw secret.Secret, generated bool, err error) {
	if file == "" {
		return store.GeneratePassword(), true, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false, fmt.Errorf("-password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pw = secret.Secret(strings.TrimRight(line, "\r"))
	if err := store.ValidatePassword(pw); err != nil {
		return "", false, fmt.Errorf("-password-file: %w", err)
	}
	return pw, false, nil
}

func (u userCmd) add(name, roleName, pwFile string) error {
	role, err := store.ParseRole(roleName)
	if err != nil {
		return err
	}
	if err := store.ValidateUserName(name); err != nil {
		return fmt.Errorf("user name %q: %w", name, err)
	}
	pw, generated, err := password(pwFile)
	if err != nil {
		return err
	}
	us, err := u.st.CreateUser(u.ctx, name, role, pw)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user called %q already exists", name)
	}
	if err != nil {
		return err
	}
	u.audit(store.ActionUserCreate, us.Name, "role "+string(role))
	fmt.Fprintf(u.out, "Created %s (%s).\n", us.Name, us.Role)
	if generated {
		fmt.Fprintf(u.out, "  Password: %s\nIt is shown only once.\n", string(pw))
	}
	return nil
}

func (u userCmd) setRole(name, roleName string) error {
	role, err := store.ParseRole(roleName)
	if err != nil {
		return err
	}
	before, err := u.st.UserByName(u.ctx, name)
	if err != nil {
		return userErr(name, err)
	}
	us, err := u.st.SetRole(u.ctx, name, role)
	if err != nil {
		return userErr(name, err)
	}
	u.audit(store.ActionUserRole, us.Name, string(before.Role)+" → "+string(us.Role))
	fmt.Fprintf(u.out, "%s is now %s.\n", us.Name, us.Role)
	return nil
}

func (u userCmd) setDisabled(name string, disabled bool) error {
	us, err := u.st.SetDisabled(u.ctx, name, disabled)
	if err != nil {
		return userErr(name, err)
	}
	if !disabled {
		u.audit(store.ActionUserEnable, us.Name, "")
		fmt.Fprintf(u.out, "Enabled %s.\n", us.Name)
		return nil
	}
	n, err := handlers.EndSessions(u.ctx, u.st, us.ID)
	if err != nil {
		return err
	}
	u.audit(store.ActionUserDisable, us.Name, fmt.Sprintf("%d sessions ended", n))
	fmt.Fprintf(u.out, "Disabled %s; ended %d sessions.\n", us.Name, n)
	return nil
}

func (u userCmd) resetPassword(name, pwFile string) error {
	pw, generated, err := password(pwFile)
	if err != nil {
		return err
	}
	us, err := u.st.SetPassword(u.ctx, name, pw)
	if err != nil {
		return userErr(name, err)
	}
	n, err := handlers.EndSessions(u.ctx, u.st, us.ID)
	if err != nil {
		return err
	}
	u.audit(store.ActionUserPassword, us.Name, fmt.Sprintf("reset; %d sessions ended", n))
	fmt.Fprintf(u.out, "Set a new password for %s; ended %d sessions.\n", us.Name, n)
	if generated {
		fmt.Fprintf(u.out, "  Password: %s\nIt is shown only once.\n", string(pw))
	}
	return nil
}

// userErr words a store error about the account name for the command line.
func userErr(name string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no user called %q (see: wsusfix user list)", name)
	case errors.Is(err, store.ErrLastAdmin):
		return errors.New("at least one enabled admin must remain: make another user admin first")
	case errors.Is(err, store.ErrDirectoryManaged):
		return fmt.Errorf("%s signs in through the directory, which decides their role and password: change their groups there", name)
	}
	return err
}
