package scraper

import (
	"context"
	"time"

	"worktray/scheduler"
)

// TestLogin signs in to the portal in a browser of its own and reports whether the portal
// accepted the credentials, without reading the list. Give it a Scraper without a cookie jar
// so that it really signs in. It blocks until done; the browser is cleaned up on every path.
// Errors are *FailureError, like Scrape's.
func (s *Scraper) TestLogin(ctx context.Context) error {
	r := &run{s: s, ctx: ctx, log: s.log.With("test_login", true), stageStart: time.Now()}
	defer r.close()
	err := func() error {
		if s.cfg.Username == "" || s.cfg.Password == "" {
			return scheduler.Errorf(scheduler.ClassLoginFailed,
				"no portal username or password is set; enter them in the portal settings")
		}
		if err := r.launch(); err != nil {
			return err
		}
		defer r.watchDialogs()()
		return r.login()
	}()
	if err != nil {
		fe := r.failure(err)
		r.close()
		return fe
	}
	return nil
}
