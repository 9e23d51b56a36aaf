// Command worktray keeps a field technician's work orders in sync with the portal they get work
// from: every hour it scrapes the portal with a headless Chromium, stores the orders, shows what
// is new in the tray, and alerts when a scheduled scrape was missed or keeps failing.
//
// main.go is the composition root: it parses the command line and wires the parts together.
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

	"worktray/paths"
)

// Rod registers a global -rod flag when imported; worktray parses its own flag sets.
func init() { _ = os.Setenv("DISABLE_ROD_FLAG", "1") }

const usage = `worktray keeps your work orders in sync with your portal.

Usage:
  worktray [--data-dir DIR]                 start worktray in the tray (the owner)
  worktray run --headless [--data-dir DIR]  run the scheduler without a tray (servers)
  worktray run --demo                       start on the bundled demo portal
  worktray ui [status|history|orders|settings]
  worktray status | scrape | cancel | pause | resume
  worktray history [-n N] [--failed] | orders [--csv|--json]
  worktray diagnose [--fix] | backup FILE
  worktray schedule show|set | portal set | alerts set|test
  worktray retention show|set --keep N      how many runs the history keeps
  worktray demo-portal [--addr 127.0.0.1:8099] [--count 52] [--seed 1]

Every command takes --data-dir DIR (or $WORKTRAY_DATA_DIR) to keep all files under DIR.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "run":
		return runOwnerCommand(ctx, cmd, args, stdout, stderr)
	case "ui":
		return runUI(ctx, args, stdout, stderr)
	case "demo-portal":
		return runDemoPortal(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		return runClientCommand(ctx, cmd, args, stdout, stderr)
	}
}

// commonFlags are the flags every command takes.
type commonFlags struct {
	dataDir string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", "", "keep every worktray file under this directory (default: XDG directories; env "+paths.EnvHome+")")
}

func (c *commonFlags) paths() paths.Paths { return paths.FromEnv(c.dataDir) }

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("worktray "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// exitCode maps a command's error to an exit code, printing it once.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	fmt.Fprintln(stderr, "worktray:", err)
	return 1
}
