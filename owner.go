package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"worktray/app/launcher"
	"worktray/app/tray"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/secret"
	"worktray/store"
)

// ownerOptions are the command-line options of the owner process.
type ownerOptions struct {
	commonFlags
	headless   bool
	demo       bool
	healthAddr string
	logLevel   string

	// pushoverEndpoint replaces Pushover's API address; tests set it to a local server
	// speaking Pushover's protocol. There is no flag for it.
	pushoverEndpoint string
}

// runOwnerCommand parses the owner's flags (`worktray` and `worktray run`) and runs the owner.
func runOwnerCommand(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	var o ownerOptions
	fs := newFlagSet(cmd, stderr)
	o.register(fs)
	fs.BoolVar(&o.headless, "headless", false, "run without a tray icon (servers, machines without a desktop)")
	fs.BoolVar(&o.demo, "demo", false, "start on the bundled demo portal, with its own data directory")
	fs.StringVar(&o.healthAddr, "health-addr", "", "serve GET /api/scheduler/health on this loopback address (e.g. 127.0.0.1:8098)")
	fs.StringVar(&o.logLevel, "log-level", "info", "stderr log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "worktray %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		// No desktop: run as the headless owner rather than fail to show a tray.
		o.headless = true
	}
	return exitCode(runOwner(ctx, o, stderr), stderr)
}

// owner is the long-running process: it holds the store, runs the scheduler and serves the
// control socket (and, with a desktop, the tray).
type owner struct {
	opts  ownerOptions
	paths paths.Paths
	log   *slog.Logger
	db    *store.DB
	svc   *scheduler.Service

	secrets  *secret.Store
	policy   *notify.Policy
	notifier *notify.Notifier
	windows  *launcher.Launcher // the windows process (wiring_desktop.go); nil when headless
	tray     *tray.Tray         // the tray icon (wiring_desktop.go); nil when headless
	pruner   *historyPruner     // keeps the run history to the retention (wiring_retention.go)
}

// runOwner runs the owner until ctx is done. Every long-lived part runs under one context; the
// first to fail stops the others.
func runOwner(ctx context.Context, opts ownerOptions, stderr io.Writer) error {
	p := opts.paths()
	if opts.demo && opts.dataDir == "" && os.Getenv(paths.EnvHome) == "" {
		p = paths.Resolve(paths.DemoHome())
	}
	if err := p.EnsureDirs(); err != nil {
		return err
	}
	// The store's lock decides who owns worktray: a second launch must touch nothing else (in
	// particular not the secrets, which the owner may move into the keyring).
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return secondLaunch(ctx, opts, p, err)
		}
		return err
	}
	// Secrets are opened before the logger so that it scrubs their values from every record.
	secrets, err := secret.Open(p.ConfigDir, useKeyring(opts))
	if err != nil {
		_ = db.Close()
		return err
	}
	log, closeLog, err := newLogger(p, opts.logLevel, stderr, secrets.Redactor())
	if err != nil {
		_ = db.Close()
		return err
	}
	defer closeLog()
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	o := &owner{opts: opts, paths: p, log: log, db: db, secrets: secrets}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var parts []part
	scr, demoParts, err := o.scraper(ctx)
	if err != nil {
		return err
	}
	parts = append(parts, demoParts...)
	notifier, err := o.alerts()
	if err != nil {
		return err
	}
	svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: scr, Policy: o.policy, Logger: log})
	if err != nil {
		return err
	}
	o.svc = svc
	sc := svc.Schedule()
	o.policy.SetLocation(sc.Location())
	// Subscribed before anything runs, so that the first alerts wake the notifier too.
	parts = append(parts, part{"scheduler", svc.Run}, notifier, o.alertWakeUp(svc.Subscribe(64)))
	more, err := o.parts(ctx)
	if err != nil {
		return err
	}
	parts = append(parts, more...)
	log.Info("worktray owner starting", "pid", os.Getpid(), "store", p.DB, "headless", opts.headless, "demo", opts.demo)
	return supervise(ctx, log, parts)
}

// part is one long-lived piece of the owner.
type part struct {
	name string
	run  func(ctx context.Context) error
}

// supervise runs every part until ctx is done or one of them returns; then it cancels the rest
// and waits for them. It returns the first error.
func supervise(ctx context.Context, log *slog.Logger, parts []part) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("part stopped", "part", p.name, "err", err)
				once.Do(func() { first = fmt.Errorf("%s: %w", p.name, err) })
			}
			cancel()
		}()
	}
	wg.Wait()
	return first
}

// useKeyring says whether secrets go to the OS keyring: yes for a normal installation; no for a
// data directory given on the command line (tests, portable use) or the demo, whose secrets
// belong with their files.
func useKeyring(opts ownerOptions) bool {
	return opts.dataDir == "" && os.Getenv(paths.EnvHome) == "" && !opts.demo
}
