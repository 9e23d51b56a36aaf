package scraper

import (
	"context"
	"errors"
	"testing"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

func TestTestLogin(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 1, Count: 3})
	s, _ := newScraper(t, p, base, func(_ *Profile, c *Config) { c.Cookies = nil })
	if err := s.TestLogin(context.Background()); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	// It signs in even though an earlier session may exist, and reads no order.
	if st := p.Stats(); st.Logins != 1 || st.DetailVisits != 0 {
		t.Fatalf("portal saw %d logins and %d detail visits, want 1 and 0", st.Logins, st.DetailVisits)
	}
	bad, _ := newScraper(t, p, base, func(_ *Profile, c *Config) { c.Cookies, c.Password = nil, "wrong-password" })
	err := bad.TestLogin(context.Background())
	var re *scheduler.RunError
	if !errors.As(err, &re) || re.Class != scheduler.ClassLoginFailed {
		t.Fatalf("wrong password: %v, want login_failed", err)
	}
}
