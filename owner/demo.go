package owner

import (
	"context"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"

	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
)

// demo starts the bundled demo portal in this process (loopback, a free port), points the
// portal settings and password at it, and returns its parts: the portal, which stops with the
// owner, and a first scrape at once. The portal is also closed when Run returns, so that a later
// setup step failing does not leave it serving.
func (o *owner) demo(context.Context) ([]part, error) {
	portal := demoportal.New(demoportal.Options{Seed: 1, Count: 52})
	base, stop, err := portal.Start(o.demoAddr())
	if err != nil {
		base, stop, err = portal.Start("127.0.0.1:0") // that port is taken now: any free one
	}
	if err != nil {
		return nil, err
	}
	stopPortal := sync.OnceFunc(stop)
	o.cleanup.add(stopPortal)
	settings := scraper.Settings{URL: base, Profile: scraper.ProfileDemo, Username: demoportal.DefaultEmail}
	if err := o.db.PutSetting(scraper.SettingsKey, settings); err != nil {
		return nil, err
	}
	if err := o.secrets.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
		return nil, err
	}
	o.log.Info("demo portal started", "url", base, "email", demoportal.DefaultEmail)
	return []part{
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
	}, nil
}

// demoAddr is the loopback address the demo portal served from in this data directory before,
// so that its orders' portal links, and so the orders, stay the same across restarts; a free
// port ("127.0.0.1:0") the first time.
func (o *owner) demoAddr() string {
	var prev scraper.Settings
	if ok, err := o.db.Setting(scraper.SettingsKey, &prev); err != nil || !ok {
		return "127.0.0.1:0"
	}
	u, err := url.Parse(prev.URL)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", u.Port())
}
