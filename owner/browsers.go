package owner

import (
	"context"
	"time"

	"worktray/scraper"
	"worktray/secret"
)

// sweepLimit bounds the sweep at start: killing and reaping a left browser takes well under a
// second; a process that does not die is reported, not waited for.
const sweepLimit = 15 * time.Second

// sweepBrowsers removes what an earlier owner of this data directory left when it was killed in
// the middle of a scrape: its browser processes and their profile directories (scraper.Sweep).
// It runs once at start, while this owner holds the store's lock and before any scrape. A
// failure is logged; it does not keep the owner from starting. It blocks.
func (o *owner) sweepBrowsers(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, sweepLimit)
	defer cancel()
	killed, removed, err := scraper.Sweep(ctx, o.paths.DataDir)
	if err != nil {
		o.log.Warn("cannot clean up what an earlier owner's browser left", "killed", killed, "removed", removed, "err", err)
		return
	}
	if killed > 0 || removed > 0 {
		o.log.Info("cleaned up what an earlier owner's browser left", "killed_processes", killed, "removed_directories", removed)
	}
}

// secretValues returns the secrets a failure artifact must not show besides the portal password
// (the Pushover token and user key), those that are set.
func (p *portalScraper) secretValues() []string {
	var out []string
	for _, name := range []string{secret.PushoverToken, secret.PushoverUserKey} {
		if v, err := p.secrets.Get(name); err == nil && v != "" {
			out = append(out, v)
		}
	}
	return out
}
