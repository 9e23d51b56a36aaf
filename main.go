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
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"worktray/cli"
	"worktray/owner"
	"worktray/paths"
	"worktray/scraper/demoportal"
	"worktray/store"
)

// Rod registers a global -rod flag when imported; worktray parses its own flag sets.
func init() { _ = os.Setenv("DISABLE_ROD_FLAG", "1") }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	// SIGHUP (the terminal of `worktray run --headless` closed) is a clean stop like SIGTERM:
	// the running scrape is canceled and recorded, the browser closed, the store closed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return cli.Execute(ctx, args, program(stdout, stderr))
}

// program is the whole command line: the client commands of package cli, and the owner, `ui`
// and `demo-portal`, which main runs itself.
func program(stdout, stderr io.Writer) cli.Program {
	var of ownerFlags
	var df demoFlags
	ownerCmd := func(name string) cli.External {
		return cli.External{Name: name, Use: "[--headless] [--demo] [flags]", Flags: of.register,
			Summary: "run the owner: the scheduler, the store and (with a desktop) the tray",
			Long: `Runs the owner, the long-running worktray process: it holds the store, runs the scheduler,
serves the control socket and, on a desktop, shows the tray icon. One runs per user (per data
directory): a second desktop launch shows the running one's status window and exits 0, a
second headless one names the running owner's pid and exits 1. With no
$DISPLAY it runs headless. --demo starts it on the bundled demo portal in a data directory of
its own. SIGINT, SIGTERM and SIGHUP stop it cleanly (a running scrape is recorded canceled).`,
			Run: func(ctx context.Context, args []string) int { return runOwnerCommand(ctx, name, args, &of, stderr) }}
	}
	return cli.Program{
		IO:    cli.IO{In: os.Stdin, Out: stdout, Err: stderr, LocalDiagnostics: owner.LocalDiagnostics},
		Owner: ownerCmd(""),
		Externals: []cli.External{
			ownerCmd("run"),
			{Name: "ui", Use: "[status|history|orders|settings|portal]", Summary: "open a worktray window",
				Long: "Opens (or raises) one of worktray's windows; the tray's menu opens the same ones. portal is the settings window at its Portal tab.",
				Run:  func(ctx context.Context, args []string) int { return runUI(ctx, args, stdout, stderr) }},
			{Name: "demo-portal", Use: "[flags]", Summary: "serve the bundled demo portal (for trying profiles)",
				Long: `Serves the demo portal worktray's demo and tests use: a work-order portal with a sign-in,
a list in pages, detail pages, and switches for the faults real portals have. Sign in as
` + demoportal.DefaultEmail + ` / ` + demoportal.DefaultPassword + `.`,
				Flags: df.register,
				Run:   func(ctx context.Context, args []string) int { return runDemoPortal(ctx, args, &df, stdout, stderr) }},
		},
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
	if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnreadable) || errors.Is(err, store.ErrWriteFailed) {
		// The owner refuses a damaged, empty or unreadable store with the code every command
		// uses for it, so that a service manager can be told not to restart it
		// (RestartPreventExitStatus=8).
		return cli.ExitStore
	}
	return 1
}

// parseError reports a flag-parse error once and returns the usage exit code (2).
func parseError(name string, err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "worktray %s: %v (see `worktray %s --help`)\n", name, err, name)
	return 2
}

// ownerFlags are the command-line options of the owner process.
type ownerFlags struct {
	commonFlags
	headless   bool
	demo       bool
	healthAddr string
	logLevel   string
}

func (f *ownerFlags) register(fs *flag.FlagSet) {
	f.commonFlags.register(fs)
	fs.BoolVar(&f.headless, "headless", false, "run without a tray icon (servers, machines without a desktop)")
	fs.BoolVar(&f.demo, "demo", false, "start on the bundled demo portal, with its own data directory")
	fs.StringVar(&f.healthAddr, "health-addr", "", "serve GET /api/scheduler/health on this loopback address (e.g. 127.0.0.1:8098)")
	fs.StringVar(&f.logLevel, "log-level", "info", "stderr log level: debug, info, warn or error")
}

// runOwnerCommand parses the owner's flags (`worktray` and `worktray run`), resolves what they
// and the environment decide, and runs the owner until ctx is done.
func runOwnerCommand(ctx context.Context, cmd string, args []string, f *ownerFlags, stderr io.Writer) int {
	fs := newFlagSet(cmd, io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(cmd, err, stderr)
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

// demoFlags are the demo portal's options: its data, its list's shape and its fault switches.
type demoFlags struct {
	addr            string
	count           int
	seed            uint64
	shape, pageSize string
	demoportal.Faults
	List demoportal.ListModes
}

// options checks the flags and returns the portal's options; errors name the flag.
func (d *demoFlags) options() (demoportal.Options, error) {
	host, _, err := net.SplitHostPort(d.addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return demoportal.Options{}, fmt.Errorf("--addr %q: the demo portal listens on a loopback address only (its password is published), e.g. 127.0.0.1:8099", d.addr)
	}
	if d.count < 0 || d.count > demoportal.MaxOrders {
		return demoportal.Options{}, fmt.Errorf("--count %d: must be from 0 to %d", d.count, demoportal.MaxOrders)
	}
	shapes := map[string]demoportal.ListShape{"pages": demoportal.ShapePages, "numbered": demoportal.ShapeNumbered,
		"load-more": demoportal.ShapeLoadMore, "scroll": demoportal.ShapeScroll}
	shape, ok := shapes[d.shape]
	if !ok {
		return demoportal.Options{}, fmt.Errorf("--list %q: must be pages, numbered, load-more or scroll", d.shape)
	}
	sizes := map[string]demoportal.PageSizeControl{"select": demoportal.SizeSelect, "links": demoportal.SizeLinks, "form": demoportal.SizeForm}
	size, ok := sizes[d.pageSize]
	if !ok {
		return demoportal.Options{}, fmt.Errorf("--page-size-control %q: must be select, links or form", d.pageSize)
	}
	if d.List.Step < 1 || d.List.Step > 100 {
		return demoportal.Options{}, fmt.Errorf("--step %d: must be from 1 to 100", d.List.Step)
	}
	list := d.List
	list.Shape, list.PageSize = shape, size
	return demoportal.Options{Seed: d.seed, Count: d.count, Faults: d.Faults, List: list}, nil
}

func (d *demoFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.addr, "addr", "127.0.0.1:8099", "listen address (loopback)")
	fs.IntVar(&d.count, "count", 52, "how many work orders (0 to 5000)")
	fs.Uint64Var(&d.seed, "seed", 1, "data seed: the same seed and count give the same orders")
	fs.DurationVar(&d.Latency, "latency", 0, "fault: delay every response by this long")
	fs.IntVar(&d.ServerErrorEvery, "server-error-every", 0, "fault: answer every Nth request with HTTP 500 (0: never)")
	fs.StringVar(&d.ServerErrorPrefix, "server-error-prefix", "", "fault: only requests whose path starts with this get the HTTP 500s")
	fs.BoolVar(&d.LoginAlwaysFails, "login-fails", false, "fault: refuse every sign-in as if the password were wrong")
	fs.IntVar(&d.SessionMaxRequests, "session-max-requests", 0, "fault: end a session after this many requests (0: never)")
	fs.BoolVar(&d.ChangedLayout, "changed-layout", false, "fault: render the list with other class names, as after a redesign")
	fs.BoolVar(&d.Hang, "hang", false, "fault: the work-order list starts loading and never finishes")
	fs.DurationVar(&d.PagerDelay, "pager-delay", 0, "fault: draw the pager this long after the rows")
	fs.StringVar(&d.shape, "list", "pages", "list shape: pages (Next replaces the rows), numbered (a pager whose next never disables), load-more or scroll")
	fs.IntVar(&d.List.Step, "step", 20, "rows a Load more click or a scroll adds (1 to 100)")
	fs.StringVar(&d.pageSize, "page-size-control", "select", "page-size control: select, links (a drop-down of links) or form (a select applied by its form's button)")
	fs.BoolVar(&d.List.HiddenEmpty, "hidden-empty", false, "behaviour: a hidden \"no work orders\" marker is in the list page while it loads")
	fs.DurationVar(&d.List.RowsDelay, "rows-delay", 0, "behaviour: the list page asks for its rows this long after it loads (the loading marker shows)")
	fs.IntVar(&d.List.Bursts, "bursts", 0, "behaviour: each page's rows arrive in this many requests, drawn as they come")
	fs.DurationVar(&d.List.BurstDelay, "burst-delay", 0, "behaviour: delay each burst's answer by this long")
	fs.IntVar(&d.List.CloseOnPage, "close-on-page", 0, "behaviour: close the first order of page 1 when this page (2 or more) is first asked for")
	fs.BoolVar(&d.List.RichText, "rich-text", false, "behaviour: multi-block customers, <br> in site names, paragraphs in instructions")
	fs.BoolVar(&d.EchoPassword, "echo-password", false, "fault: a refused sign-in page shows the typed password back")
}

// runDemoPortal serves the demo portal until interrupted.
func runDemoPortal(ctx context.Context, args []string, d *demoFlags, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo-portal", io.Discard)
	d.register(fs)
	if err := fs.Parse(args); err != nil {
		return parseError("demo-portal", err, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "worktray demo-portal: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	opts, err := d.options()
	if err != nil {
		fmt.Fprintf(stderr, "worktray demo-portal: %v\n", err)
		return 2
	}
	err = demoportal.Serve(ctx, d.addr, opts, func(u string) {
		fmt.Fprintf(stdout, "demo portal on %s (sign in as %s / %s); Ctrl-C stops it\n", u,
			demoportal.DefaultEmail, demoportal.DefaultPassword)
	})
	_ = os.Stdout.Sync()
	return exitCode(err, stderr)
}

// runUI runs `worktray ui [status|history|orders|settings|portal]` by handing over to the worktray-ui
// binary beside this one (exec: same process id, same standard input, so the owner's command pipe
// reaches it). The windows are a binary of their own so that the owner does not link Fyne, whose
// package initialisation alone doubles the owner's idle memory.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(stderr, "worktray ui: there is no desktop to show a window on ($DISPLAY and $WAYLAND_DISPLAY are unset); use the command line (worktray status, worktray help)")
		return 1
	}
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
