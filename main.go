// Command worktray keeps a field technician's work orders in sync with the portal they get work
// from: every hour it scrapes the portal with a headless Chromium, stores the orders, shows what
// is new in the tray, and alerts when a scheduled scrape was missed or keeps failing.
//
// main.go parses the command line and hands over: to the owner (package owner), to a client
// command (package cli), to the windows binary, or to the demo portal. It wires no service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"worktray/cli"
	"worktray/owner"
	"worktray/paths"
	"worktray/scraper/demoportal"
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
	// SIGHUP (the terminal of `worktray run --headless` closed) is a clean stop like SIGTERM:
	// the running scrape is canceled and recorded, the browser closed, the store closed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
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

// ownerFlags are the command-line options of the owner process.
type ownerFlags struct {
	commonFlags
	headless   bool
	demo       bool
	healthAddr string
	logLevel   string
}

// runOwnerCommand parses the owner's flags (`worktray` and `worktray run`), resolves what they
// and the environment decide, and runs the owner until ctx is done.
func runOwnerCommand(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	var f ownerFlags
	fs := newFlagSet(cmd, stderr)
	f.register(fs)
	fs.BoolVar(&f.headless, "headless", false, "run without a tray icon (servers, machines without a desktop)")
	fs.BoolVar(&f.demo, "demo", false, "start on the bundled demo portal, with its own data directory")
	fs.StringVar(&f.healthAddr, "health-addr", "", "serve GET /api/scheduler/health on this loopback address (e.g. 127.0.0.1:8098)")
	fs.StringVar(&f.logLevel, "log-level", "info", "stderr log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "worktray %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		// No desktop: run as the headless owner rather than fail to show a tray.
		f.headless = true
	}
	// A data directory given on the command line or in the environment keeps everything,
	// secrets included, under it; so does the demo, in a directory of its own.
	explicit := f.dataDir != "" || os.Getenv(paths.EnvHome) != ""
	p := f.paths()
	if f.demo && !explicit {
		p = paths.Resolve(paths.DemoHome())
	}
	err := owner.Run(ctx, owner.Options{
		Paths:      p,
		Keyring:    !explicit && !f.demo,
		Headless:   f.headless,
		Demo:       f.demo,
		HealthAddr: f.healthAddr,
		LogLevel:   f.logLevel,
		Stderr:     stderr,
	})
	return exitCode(err, stderr)
}

// runClientCommand runs a command that talks to the owner.
func runClientCommand(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	if !cli.Known(cmd) {
		fmt.Fprintf(stderr, "worktray: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return cli.Main(ctx, cmd, args, cli.IO{In: os.Stdin, Out: stdout, Err: stderr, LocalDiagnostics: owner.LocalDiagnostics})
}

// runDemoPortal serves the demo portal until interrupted.
func runDemoPortal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo-portal", stderr)
	addr := fs.String("addr", "127.0.0.1:8099", "listen address (loopback)")
	count := fs.Int("count", 52, "how many work orders (0 to 5000)")
	seed := fs.Uint64("seed", 1, "data seed: the same seed and count give the same orders")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	err := demoportal.Serve(ctx, *addr, demoportal.Options{Seed: *seed, Count: *count}, func(u string) {
		fmt.Fprintf(stdout, "demo portal on %s (sign in as %s / %s); Ctrl-C stops it\n", u,
			demoportal.DefaultEmail, demoportal.DefaultPassword)
	})
	_ = os.Stdout.Sync()
	return exitCode(err, stderr)
}

// runUI runs `worktray ui [status|history|orders|settings]` by handing over to the worktray-ui
// binary beside this one (exec: same process id, same standard input, so the owner's command pipe
// reaches it). The windows are a binary of their own so that the owner does not link Fyne, whose
// package initialisation alone doubles the owner's idle memory.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	bin, err := uiBinary()
	if err != nil {
		fmt.Fprintln(stderr, "worktray ui:", err)
		return 1
	}
	self, _ := os.Executable()
	env := append(os.Environ(), "WORKTRAY_BINARY="+self) // ui.EnvOwnerBinary; main must not import Fyne
	err = syscall.Exec(bin, append([]string{bin}, args...), env)
	fmt.Fprintf(stderr, "worktray ui: starting %s: %v\n", bin, err)
	return 1
}

// uiBinary finds worktray-ui: $WORKTRAY_UI_BINARY, else beside this binary, else on $PATH.
func uiBinary() (string, error) {
	if p := os.Getenv("WORKTRAY_UI_BINARY"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "worktray-ui")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("worktray-ui"); err == nil {
		return p, nil
	}
	return "", errors.New("the windows binary worktray-ui is not installed beside worktray (build it with `make build`)")
}
