// Package owner is worktray's long-running process: it holds the store, runs the scheduler,
// the notifier and the history pruner, serves the control socket (and the health endpoint), and
// with a desktop shows the tray and starts the windows process on demand.
//
// Run is the whole of it: main resolves what flags and environment decide (paths, keyring or
// not, headless or not) into Options and calls Run, which blocks until its context is done or
// a part fails. One file per responsibility of the wiring:
//
//   - owner.go: Options, Run (store, secrets, logger, parts, supervise)
//   - supervise.go: part, supervise, the failure-path cleanup
//   - startup.go: the openers (logger)
//   - secondlaunch.go: a launch while another owner holds the store
//   - scraper.go: portalScraper, the scheduler's scraper
//   - demo.go: the bundled demo portal and its first scrape (--demo)
//   - alerts.go: the alert policy, the notifier and its wake-up
//   - calendar.go: visits.ics kept current after each run
//   - control.go: the control socket and the health endpoint
//   - hooks.go: what the control API asks of the owner (portal, alerts, test login)
//   - retention.go: the history pruner
//   - backup.go: the daily backup after the first successful scrape of the day
//   - refuse.go: the desktop notification of an owner that cannot start on its store
//   - diagnostics.go: the checks of `worktray diagnose`, LocalDiagnostics
//   - desktop.go: the tray and the windows process
package owner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"worktray/app/launcher"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/secret"
	"worktray/store"
)

// Options are what the owner needs from the command line and the environment. The zero value
// of each field but Paths is a usable default.
type Options struct {
	// Paths are where every file goes (store, secrets, logs, socket, artifacts). Main resolves
	// them: --data-dir, $WORKTRAY_DATA_DIR, the demo's own directory or the XDG directories.
	Paths paths.Paths
	// Keyring puts the secrets in the OS keyring (a normal installation); false keeps them in a
	// file beside the configuration (a data directory given on the command line, the demo).
	Keyring bool
	// Headless runs without tray and windows (servers, no DISPLAY).
	Headless bool
	// Demo starts the bundled demo portal in this process, points the settings at it and
	// scrapes at once.
	Demo bool
	// HealthAddr, when set, serves GET /api/scheduler/health on this loopback address
	// ("127.0.0.1:8098").
	HealthAddr string
	// LogLevel is the stderr log level: "debug", "info" (the default when empty), "warn" or
	// "error".
	LogLevel string
	// Stderr receives the log records and the second launch's messages; nil is os.Stderr.
	Stderr io.Writer
	// PushoverEndpoint replaces Pushover's API address; tests set it to a local server speaking
	// Pushover's protocol. There is no flag for it.
	PushoverEndpoint string
	// DBusAddress is the session bus for the notification of an owner that cannot start on its
	// store (refuse.go); empty means the session's own. Tests set it to a private bus.
	DBusAddress string
}

// owner is the long-running process's state while Run runs.
type owner struct {
	opts  Options
	paths paths.Paths
	log   *slog.Logger
	db    *store.DB
	svc   *scheduler.Service

	secrets  *secret.Store
	policy   *notify.Policy
	notifier *notify.Notifier
	windows  *launcher.Launcher // the windows process (desktop.go); nil when headless
	pruner   *historyPruner     // keeps the run history to the retention (retention.go)

	// cleanup holds what setup opened outside a part (the demo portal, listeners): Run closes
	// it when it returns, so that a setup step failing after them leaves nothing open.
	cleanup cleanups
}

// Run runs the owner until ctx is done (a clean stop: it returns nil) or one of its parts fails
// (it returns that part's error). Every long-lived part runs under one context; the first to
// fail stops the others. It blocks.
//
// A store that is damaged, empty or unreadable stops Run before anything starts: it returns
// the store's *store.CorruptError, which names the file, the newest backup and the restore
// command (a non-zero exit, not a crash: a service manager sees the same error each time).
// When another owner holds the store, Run does not start: it asks that owner to show its
// status window (with a desktop) and returns nil, or returns an error saying which process
// owns worktray (headless). A setup step that fails closes whatever the steps before it opened.
func Run(ctx context.Context, opts Options) error {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	p := opts.Paths
	if err := p.EnsureDirs(); err != nil {
		return err
	}
	// The store's lock decides who owns worktray: a second launch must touch nothing else (in
	// particular not the secrets, which the owner may move into the keyring).
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return secondLaunch(ctx, opts, err)
		}
		sayCannotStart(ctx, opts, err)
		return err
	}
	// Secrets are opened before the logger so that it scrubs their values from every record.
	secrets, err := secret.Open(p.ConfigDir, opts.Keyring)
	if err != nil {
		_ = db.Close()
		return err
	}
	log, closeLog, err := newLogger(p, opts.LogLevel, opts.Stderr, secrets.Redactor())
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
	defer o.cleanup.run()
	o.sweepBrowsers(ctx)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts, err := o.setup(ctx)
	if err != nil {
		return err
	}
	log.Info("worktray owner starting", "pid", os.Getpid(), "store", p.DB, "headless", opts.Headless, "demo", opts.Demo)
	return supervise(ctx, log, parts)
}

// setup builds every part in order: the scraper (and the demo portal), the alerts, the
// scheduler and the daily backup, then the pruner, the control socket and the desktop. It starts no part; what it
// opens outside a part is in o.cleanup.
//
// A part that reacts to what the scheduler does (a run finished, alerts queued, the schedule
// changed) subscribes here, next to alertWakeUp, before anything runs, so that it misses no
// event; its own file holds it. Work that must happen once before any part starts, while this
// owner holds the store's lock, goes in Run before setup (as sweepBrowsers does).
func (o *owner) setup(ctx context.Context) ([]part, error) {
	var parts []part
	scr, demoParts, err := o.scraper(ctx)
	if err != nil {
		return nil, err
	}
	parts = append(parts, demoParts...)
	notifier, err := o.alerts()
	if err != nil {
		return nil, err
	}
	svc, err := scheduler.New(scheduler.Config{Store: o.db, Scraper: scr, Policy: o.policy, Logger: o.log})
	if err != nil {
		return nil, err
	}
	o.svc = svc
	sc := svc.Schedule()
	o.policy.SetLocation(sc.Location())
	// Subscribed before anything runs, so that the first alerts wake the notifier too.
	parts = append(parts, part{"scheduler", svc.Run}, notifier, o.alertWakeUp(svc.Subscribe(64)),
		o.dailyBackup(svc.Subscribe(16)), o.visitsCalendar(svc.Subscribe(16)))
	for _, f := range []func(context.Context) ([]part, error){o.retentionParts, o.controlParts, o.desktopParts} {
		ps, err := f(ctx)
		if err != nil {
			return nil, err
		}
		parts = append(parts, ps...)
	}
	return parts, nil
}
