package owner

import (
	"context"
	"time"

	"worktray/control"
	"worktray/scraper"
)

// testProfile is the control API's profile test (`worktray profile test`, the settings window's
// "Test profile"): it signs in with the saved account in a browser of its own and reports what
// the configured profile, or in.File, matches on the first pages. It stores nothing.
func (o *owner) testProfile(ctx context.Context, in control.ProfileTestInput) (any, error) {
	p := &portalScraper{db: o.db, secrets: o.secrets, artifacts: o.paths.ArtifactDir, log: o.log, dataDir: o.paths.DataDir}
	s, err := p.buildWith(false, in.File)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	rep, err := s.TestProfile(ctx, scraper.ProfileTestOptions{Pages: in.Pages, Details: in.Details, Screenshot: in.Screenshot})
	return rep, err
}
