package owner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"worktray/scheduler"
	"worktray/scraper"
	"worktray/secret"
	"worktray/store"
)

// scraper returns the scraper the scheduler runs, and the parts it needs: with --demo, the
// bundled demo portal in this process (loopback) and a first scrape at once (demo.go).
func (o *owner) scraper(ctx context.Context) (scheduler.Scraper, []part, error) {
	scr := &portalScraper{db: o.db, secrets: o.secrets, artifacts: o.paths.ArtifactDir, log: o.log, dataDir: o.paths.DataDir}
	if !o.opts.Demo {
		return scr, nil, nil
	}
	parts, err := o.demo(ctx)
	if err != nil {
		return nil, nil, err
	}
	return scr, parts, nil
}

// ErrNoPortal is the cause of a scrape refused because no portal is set up; the scrape's
// *scheduler.RunError wrapping it has class scheduler.ClassConfig.
var ErrNoPortal = errors.New("no portal is configured")

// portalScraper scrapes the portal of the stored settings. It builds the scraper anew for each
// run, so a change of portal, profile, user or password applies at the next run, no restart.
type portalScraper struct {
	db        *store.DB
	secrets   *secret.Store
	artifacts string
	log       *slog.Logger
	dataDir   string // names the browser's profile directory, for the sweep at start
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
		return nil, &scheduler.RunError{Class: scheduler.ClassConfig, Err: ErrNoPortal,
			Msg: "no portal is configured: set one in Settings → Portal or with `worktray portal set`"}
	}
	if profile != "" {
		ps.Profile = profile
	}
	prof, err := ps.LoadProfile()
	if err != nil {
		// The profile is the user's configuration (a file gone missing, unreadable or invalid),
		// not the portal's pages.
		return nil, &scheduler.RunError{Class: scheduler.ClassConfig, Err: err,
			Msg: "the portal profile cannot be used: " + err.Error()}
	}
	password, err := p.secrets.Get(secret.PortalPassword)
	if err != nil && !errors.Is(err, secret.ErrNotFound) {
		return nil, &scheduler.RunError{Class: scheduler.ClassConfig, Err: err,
			Msg: "the portal password cannot be read from the secret store: " + err.Error()}
	}
	cfg := scraper.Config{Profile: prof, BaseURL: ps.URL, Username: ps.Username, Password: password,
		BrowserPath: ps.BrowserPath, ArtifactDir: p.artifacts, Logger: p.log,
		DataDir: p.dataDir, Secrets: p.secretValues()}
	if sc, err := p.db.Schedule(); err == nil {
		cfg.Location = sc.Location() // the portal's zone unless the profile names one
	}
	if cookies {
		cfg.Cookies = p.db
	}
	return scraper.New(cfg)
}
