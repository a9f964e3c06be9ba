// Command wsusfix is the WSUS failed-update dashboard: `serve` runs it over
// an inventory, `demo` runs it over a simulated fleet, `import` loads CSV
// files, `sync` reads the inventory from a WSUS server, `user` manages
// accounts. This package wires the others together and owns
// configuration, logging and shutdown; it holds no business logic.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wsusfix:", err)
		}
		os.Exit(1)
	}
}

const usage = `wsusfix: find Windows hosts whose updates failed, and repair them.

Usage: wsusfix COMMAND [flags]

Commands:
  serve     run the dashboard over the inventory database
  demo      run the dashboard over a simulated fleet (no Windows needed)
  import    load hosts or update history from CSV: import hosts|history FILE.csv
  sync      sync the inventory from a WSUS server once
  sim       run a simulated fleet of Windows hosts that answers WinRM
  user      manage accounts: user add|list|set-role|disable|enable|reset-password
  token     make an API token for a user: token create -user NAME -name TOKEN

Run 'wsusfix COMMAND -h' for a command's flags.
`

// run is the whole program, with its environment passed in so tests can run
// it in-process. It returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "sync":
		return runSync(ctx, args[1:], getenv, stdout, stderr)
	case "sim":
		return runSim(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return runToken(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
