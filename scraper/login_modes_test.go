package scraper

import (
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// TestLoginKinds signs in to a form drawn by JavaScript after load (no success marker: proven
// on the list) and to a two-step login, with the right and a wrong password. A wrong password
// is a login failure, tried exactly once per run, by Scrape and by TestLogin.
func TestLoginKinds(t *testing.T) {
	for _, file := range []string{"demo-js-login.toml", "demo-two-step-login.toml"} {
		t.Run(strings.TrimSuffix(file, ".toml"), func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 41, Count: 12})
			ctx := testCtx(t, 2*time.Minute)
			s, _ := newProfileScraper(t, p, base, exampleProfile(file), nil)
			res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Orders) != 12 || res.Logins != 1 {
				t.Errorf("%d orders, %d sign-ins; want 12 and 1", len(res.Orders), res.Logins)
			}
			for _, o := range p.Orders() {
				if g := byID(res.Orders)[o.ID]; g.Number != o.Number || g.Customer != o.Customer || g.VisitDate != o.VisitDate {
					t.Errorf("order %s read as %+v", o.Number, g)
				}
			}
			if st := p.Stats(); st.Logins != 1 || st.FailedLogins != 0 {
				t.Errorf("portal saw %d sign-ins and %d failed; want 1 and 0", st.Logins, st.FailedLogins)
			}

			p.ResetStats()
			bad, _ := newProfileScraper(t, p, base, exampleProfile(file), func(_ *Profile, c *Config) { c.Password = "wrong-password-1" })
			res, err = bad.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2})
			if cls := runClass(t, err); cls != scheduler.ClassLoginFailed {
				t.Errorf("wrong password: %s %v; want login_failed", cls, err)
			}
			if len(res.Orders) != 0 {
				t.Errorf("a failed sign-in returned %d orders", len(res.Orders))
			}
			if st := p.Stats(); st.FailedLogins != 1 || st.Logins != 0 {
				t.Errorf("a wrong password was tried %d times (accepted %d); want exactly once", st.FailedLogins, st.Logins)
			}
			p.ResetStats()
			bad, _ = newProfileScraper(t, p, base, exampleProfile(file), func(_ *Profile, c *Config) {
				c.Password, c.Cookies = "wrong-password-1", nil
			})
			if err := bad.TestLogin(ctx); err == nil || runClass(t, err) != scheduler.ClassLoginFailed {
				t.Errorf("TestLogin with a wrong password: %v; want login_failed", err)
			}
			if st := p.Stats(); st.FailedLogins != 1 {
				t.Errorf("TestLogin tried a wrong password %d times; want once", st.FailedLogins)
			}
		})
	}
}

// TestSessionBelongsToTheAccount: a kept session is used by the same account only; after the
// user name or password changes, the next scrape signs in anew (and a wrong new password is
// noticed at once).
func TestSessionBelongsToTheAccount(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 42, Count: 5})
	email, pw := p.Credentials()
	jar := &MemoryCookieJar{}
	local := strings.Replace(base, "127.0.0.1", "localhost", 1)
	scrape := func(url, user, pass string, run uint64) error {
		t.Helper()
		s, _ := newScraper(t, p, url, func(_ *Profile, c *Config) { c.Username, c.Password, c.Cookies = user, pass, jar })
		_, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: run})
		return err
	}
	steps := []struct {
		name             string
		url, user, pass  string
		logins, failures int
		fail             bool
	}{
		{"first scrape signs in", base, email, pw, 1, 0, false},
		{"same account keeps the session", base, email, pw, 0, 0, false},
		{"a wrong new password is noticed at once", base, email, "changed-but-wrong", 0, 1, true},
		{"the right password signs in again", base, email, pw, 1, 0, false},
		{"another user name signs in anew", base, strings.ToUpper(email), pw, 1, 0, false},
		{"and keeps its own session", base, strings.ToUpper(email), pw, 0, 0, false},
		{"another portal URL signs in anew", local, strings.ToUpper(email), pw, 1, 0, false},
		// The first URL's session was dropped with the change, not carried along.
		{"back to the first URL signs in anew", base, strings.ToUpper(email), pw, 1, 0, false},
	}
	for i, st := range steps {
		p.ResetStats()
		err := scrape(st.url, st.user, st.pass, uint64(i+1))
		if (err != nil) != st.fail {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := p.Stats(); got.Logins != st.logins || got.FailedLogins != st.failures {
			t.Errorf("%s: %d sign-ins, %d failed; want %d and %d", st.name, got.Logins, got.FailedLogins, st.logins, st.failures)
		}
	}
	b, _ := jar.LoadCookies()
	if strings.Contains(string(b), pw) || strings.Contains(string(b), email) {
		t.Error("the saved session holds the password or the user name in clear")
	}
}

// TestPageDialogs: dialogs the list page opens are answered at once and their text is kept in
// the run's warnings.
func TestPageDialogs(t *testing.T) {
	for _, tc := range []struct{ kind, text string }{
		{"alert", "Scheduled maintenance tonight"},
		{"confirm", "Show only urgent work orders?"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 43, Count: 4})
			s, _ := newProfileScraper(t, p, base, exampleProfile("demo-instructions-in-list.toml"), func(p *Profile, _ *Config) {
				p.List.URL = "/f/orders?dialog=" + tc.kind
				p.Login.URL = "/login?next=" + p.List.URL
				p.Timeouts.Page.Duration = 10 * time.Second
			})
			res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Orders) != 4 {
				t.Errorf("%d orders, want 4", len(res.Orders))
			}
			if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, " "), tc.text) ||
				!strings.Contains(res.Warnings[0], tc.kind) {
				t.Errorf("warnings %q; want the %s's text %q", res.Warnings, tc.kind, tc.text)
			}
		})
	}
}
