package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// newLogger returns the owner's logger and a function that closes its files.
func newLogger(p paths.Paths, level string, stderr io.Writer) (*slog.Logger, func(), error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv})), func() {}, nil
}

// scraper returns the scraper the scheduler runs, and the parts it needs (the demo portal).
func (o *owner) scraper(ctx context.Context) (scheduler.Scraper, []part, error) {
	return noPortal{}, nil, nil
}

// parts returns the owner's other long-lived parts: the control socket and health endpoint,
// the alert notifier, and with a desktop the tray.
func (o *owner) parts(ctx context.Context) ([]part, error) {
	var all []part
	for _, f := range []func(context.Context) ([]part, error){o.controlParts, o.desktopParts} {
		ps, err := f(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return all, nil
}

// noPortal is the scraper while no portal is configured: every run fails saying what to do.
type noPortal struct{}

func (noPortal) Scrape(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassPortalError,
		Msg: "no portal is configured: set one in Settings or with `worktray portal set`"}
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
