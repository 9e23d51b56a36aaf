package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"worktray/logging"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
	"worktray/store"
)

// newLogger returns the owner's logger (daily JSON files and stderr, secrets scrubbed) and a
// function that closes its file.
func newLogger(p paths.Paths, level string, stderr io.Writer, redactor logging.Redactor) (*slog.Logger, func(), error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	log, closer, err := logging.New(logging.Options{Dir: p.LogDir, Level: lv, Stderr: stderr, Redactor: redactor})
	if err != nil {
		return nil, nil, err
	}
	return log, func() { _ = closer.Close() }, nil
}

// scraper returns the scraper the scheduler runs, and the parts it needs: with --demo, the
// bundled demo portal in this process (loopback) and a first scrape at once.
func (o *owner) scraper(ctx context.Context) (scheduler.Scraper, []part, error) {
	scr := &portalScraper{db: o.db, secrets: o.secrets, artifacts: o.paths.ArtifactDir, log: o.log}
	if !o.opts.demo {
		return scr, nil, nil
	}
	portal := demoportal.New(demoportal.Options{Seed: 1, Count: 52})
	base, stopPortal, err := portal.Start("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	settings := scraper.Settings{URL: base, Profile: scraper.ProfileDemo, Username: demoportal.DefaultEmail}
	if err := o.db.PutSetting(scraper.SettingsKey, settings); err != nil {
		stopPortal()
		return nil, nil, err
	}
	if err := o.secrets.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
		stopPortal()
		return nil, nil, err
	}
	o.log.Info("demo portal started", "url", base, "email", demoportal.DefaultEmail)
	parts := []part{
		{"demo portal", func(ctx context.Context) error {
			<-ctx.Done()
			stopPortal()
			return nil
		}},
		{"demo first scrape", func(ctx context.Context) error {
			// Show a scrape at once rather than at the next slot; the scheduler may not have
			// started yet, so try until it answers.
			for ctx.Err() == nil {
				if _, err := o.svc.ScrapeNow(ctx); err == nil || errors.Is(err, scheduler.ErrAlreadyRunning) {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
			<-ctx.Done()
			return nil
		}},
	}
	return scr, parts, nil
}

// alerts builds the alert policy (the scheduler consults it inside each outcome's transaction)
// and returns the notifier that delivers the outbox to Pushover and the desktop.
func (o *owner) alerts() (part, error) {
	settings := notify.DefaultSettings()
	if _, err := o.db.Setting(notify.SettingsKey, &settings); err != nil {
		return part{}, fmt.Errorf("reading the alert settings: %w", err)
	}
	o.policy = notify.NewPolicy(settings, time.Local, o.secrets.Redactor())
	var desktop notify.Desktop
	if !o.opts.headless {
		desktop = &notify.DBusDesktop{AppName: "worktray"}
	}
	n, err := notify.New(notify.Config{Outbox: o.db, Settings: o.db, State: o.db, Policy: o.policy,
		Credentials: o.secrets, Desktop: desktop, Logger: o.log, Redactor: o.secrets.Redactor(),
		PushoverEndpoint: o.opts.pushoverEndpoint})
	if err != nil {
		return part{}, err
	}
	o.notifier = n
	return part{"notifier", n.Run}, nil
}

// alertWakeUp wakes the notifier on every EventAlertsQueued and keeps the policy in the
// schedule's zone.
func (o *owner) alertWakeUp(sub *scheduler.Subscription) part {
	return part{"alert wake-up", func(ctx context.Context) error {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev := <-sub.C:
				switch ev.Kind {
				case scheduler.EventAlertsQueued:
					o.notifier.Kick()
				case scheduler.EventScheduleChanged:
					sc := o.svc.Schedule()
					o.policy.SetLocation(sc.Location())
				}
			}
		}
	}}
}

// portalScraper scrapes the portal of the stored settings. It builds the scraper anew for each
// run, so a change of portal, profile, user or password applies at the next run, no restart.
type portalScraper struct {
	db        *store.DB
	secrets   *secret.Store
	artifacts string
	log       *slog.Logger
}

// Scrape implements scheduler.Scraper.
func (p *portalScraper) Scrape(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	s, err := p.build(true)
	if err != nil {
		return scheduler.ScrapeResult{}, err
	}
	return s.Scrape(ctx, req)
}

// build returns a scraper for the stored settings, or a RunError saying what to configure.
// Without cookies it signs in afresh (Test login).
func (p *portalScraper) build(cookies bool) (*scraper.Scraper, error) {
	return p.buildWith(cookies, "")
}

// buildWith is build with the profile file profile instead of the configured one, when set.
func (p *portalScraper) buildWith(cookies bool, profile string) (*scraper.Scraper, error) {
	var ps scraper.Settings
	ok, err := p.db.Setting(scraper.SettingsKey, &ps)
	if err != nil {
		return nil, fmt.Errorf("reading the portal settings: %w", err)
	}
	if !ok || ps.URL == "" {
		return nil, &scheduler.RunError{Class: scheduler.ClassPortalError,
			Msg: "no portal is configured: set one in Settings or with `worktray portal set`"}
	}
	if profile != "" {
		ps.Profile = profile
	}
	prof, err := ps.LoadProfile()
	if err != nil {
		// A profile file missing, unreadable or invalid is the configuration's problem.
		return nil, &scheduler.RunError{Class: scheduler.ClassConfig,
			Msg: "the portal profile cannot be used: " + err.Error()}
	}
	password, err := p.secrets.Get(secret.PortalPassword)
	if err != nil && !errors.Is(err, secret.ErrNotFound) {
		return nil, fmt.Errorf("reading the portal password: %w", err)
	}
	cfg := scraper.Config{Profile: prof, BaseURL: ps.URL, Username: ps.Username, Password: password,
		BrowserPath: ps.BrowserPath, ArtifactDir: p.artifacts, Logger: p.log}
	if sc, err := p.db.Schedule(); err == nil {
		cfg.Location = sc.Location() // the portal's zone unless the profile names one
	}
	if cookies {
		cfg.Cookies = p.db
	}
	return scraper.New(cfg)
}

// parts returns the owner's other long-lived parts: the history pruner, the control socket and
// health endpoint, and with a desktop the tray.
func (o *owner) parts(ctx context.Context) ([]part, error) {
	var all []part
	for _, f := range []func(context.Context) ([]part, error){o.retentionParts, o.controlParts, o.desktopParts} {
		ps, err := f(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return all, nil
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
