package scraper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeBrowserEnv) != "" {
		// Started by TestConnectIsBoundedByTheRun as the browser.
		runFakeBrowser()
	}
	if _, err := FindBrowser(""); err != nil {
		fmt.Fprintln(os.Stderr, "scraper tests need Chromium:", err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// assertOrders fails unless got holds exactly the orders of want, every field equal.
func assertOrders(t *testing.T, got, want []scheduler.Order) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d orders, want %d", len(got), len(want))
	}
	g := byID(got)
	if len(g) != len(got) {
		t.Errorf("got %d orders but %d distinct portal ids", len(got), len(g))
	}
	bad := 0
	for _, w := range want {
		o, ok := g[w.PortalID]
		if ok && o.DetailReadAt.IsZero() != w.DetailReadAt.IsZero() && len(o.Instructions) > 0 {
			// The time a detail page was read is the scraper's; only whether it was read is
			// compared.
			w.DetailReadAt = o.DetailReadAt
		}
		if !ok {
			t.Errorf("order %s (%s) missing", w.PortalID, w.Number)
		} else if !reflect.DeepEqual(o, w) {
			t.Errorf("order %s:\n got %+v\nwant %+v", w.PortalID, o, w)
		} else {
			continue
		}
		if bad++; bad > 5 {
			t.Fatal("too many differences")
		}
	}
}

func TestScrapeReadsEveryOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		count     int
		pageSize  string // "" keeps the portal's 25 rows per page
		wantPages int
	}{
		{"0 orders", 0, "100", 1},
		{"1 order", 1, "100", 1},
		{"90 orders", 90, "100", 1},
		{"90 orders at 25 per page", 90, "", 4},
		{"1000 orders", 1000, "100", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 7, Count: tc.count})
			s, _ := newScraper(t, p, base, func(prof *Profile, _ *Config) {
				if tc.pageSize == "" {
					prof.List.PageSize = PageSize{}
				}
			})
			var last scheduler.Progress
			res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1, Progress: func(p scheduler.Progress) { last = p }})
			if err != nil {
				t.Fatal(err)
			}
			assertOrders(t, res.Orders, want(base, p.Orders()))
			if res.EmptyState != (tc.count == 0) {
				t.Errorf("EmptyState = %v with %d orders", res.EmptyState, tc.count)
			}
			if res.Pages != tc.wantPages {
				t.Errorf("read %d pages, want %d", res.Pages, tc.wantPages)
			}
			st := p.Stats()
			if res.Logins != 1 || st.Logins != 1 {
				t.Errorf("logins: scraper %d, portal %d; want 1", res.Logins, st.Logins)
			}
			if res.DetailVisits != tc.count || st.DetailVisits != tc.count {
				t.Errorf("detail visits: scraper %d, portal %d; want %d", res.DetailVisits, st.DetailVisits, tc.count)
			}
			if st.StaticRequests != 0 {
				t.Errorf("%d image, font or media requests reached the portal; want them blocked", st.StaticRequests)
			}
			if last.Percent != 100 || last.RunID != 1 {
				t.Errorf("last progress %+v, want 100%% of run 1", last)
			}
			for _, st := range []scheduler.Stage{scheduler.StageBrowser, scheduler.StageLogin, scheduler.StageList} {
				if !slices.ContainsFunc(res.Stages, func(x scheduler.StageTiming) bool { return x.Stage == st && x.Duration > 0 }) {
					t.Errorf("no timing for stage %s in %v", st, res.Stages)
				}
			}
		})
	}
}

// TestScrapeWaitsForALatePager covers portals that draw their pager after their rows: a pager
// read the moment the rows appear said "no next page" and the scrape silently returned only the
// first page.
func TestScrapeWaitsForALatePager(t *testing.T) {
	for _, delay := range []time.Duration{80 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 12, Count: 60, Faults: demoportal.Faults{PagerDelay: delay}})
			s, _ := newScraper(t, p, base, func(prof *Profile, _ *Config) {
				prof.List.PageSize = PageSize{} // 25 rows per page: 3 pages
			})
			res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			assertOrders(t, res.Orders, want(base, p.Orders()))
			if res.Pages != 3 {
				t.Errorf("read %d pages, want 3", res.Pages)
			}
		})
	}
}

func TestScrapeNavigateMode(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 3, Count: 30})
	s, _ := newScraper(t, p, base, func(prof *Profile, _ *Config) { prof.Detail.Mode = "navigate" })
	res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	assertOrders(t, res.Orders, want(base, p.Orders()))
	if st := p.Stats(); st.DetailVisits != 30 || st.StaticRequests != 0 {
		t.Errorf("portal saw %d detail visits and %d static requests; want 30 and 0", st.DetailVisits, st.StaticRequests)
	}
}

// diff compares a scrape with the known orders as the store will.
func diff(known map[string]scheduler.Order, got []scheduler.Order) (added, changed, removed []string) {
	g := byID(got)
	for id, o := range g {
		k, ok := known[id]
		switch {
		case !ok:
			added = append(added, id)
		case k.ContentHash() != o.ContentHash():
			changed = append(changed, id)
		}
	}
	for id := range known {
		if _, ok := g[id]; !ok {
			removed = append(removed, id)
		}
	}
	sort.Strings(added)
	sort.Strings(changed)
	sort.Strings(removed)
	return added, changed, removed
}

func TestRescrapeVisitsOnlyNewAndChangedOrders(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 11, Count: 90})
	s, _ := newScraper(t, p, base, nil)
	ctx := testCtx(t, 2*time.Minute)
	first, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	known := byID(first.Orders)

	p.ResetStats()
	second, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Logins != 0 || second.Logins != 0 {
		t.Errorf("unchanged re-scrape logged in %d times (scraper says %d); want 0", st.Logins, second.Logins)
	}
	if st.DetailVisits != 0 || second.DetailVisits != 0 {
		t.Errorf("unchanged re-scrape visited %d detail pages (scraper says %d); want 0", st.DetailVisits, second.DetailVisits)
	}
	assertOrders(t, second.Orders, want(base, p.Orders()))
	if a, c, r := diff(known, second.Orders); len(a)+len(c)+len(r) != 0 {
		t.Errorf("unchanged portal: new %v changed %v removed %v", a, c, r)
	}

	// Add 3, edit 2, remove 1.
	known = byID(second.Orders)
	orders := p.Orders()
	added := p.Add(3)
	edits := []string{orders[10].ID, orders[50].ID}
	for i, id := range edits {
		if err := p.Edit(id, func(o *demoportal.Order) {
			o.VisitDate = "2026-05-0" + fmt.Sprint(i+1)
			o.Instructions = "Rescheduled: call ahead."
		}); err != nil {
			t.Fatal(err)
		}
	}
	removedID := orders[20].ID
	if err := p.Remove(removedID); err != nil {
		t.Fatal(err)
	}
	p.ResetStats()
	third, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 3, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	assertOrders(t, third.Orders, want(base, p.Orders()))
	a, c, r := diff(known, third.Orders)
	wantNew := []string{added[0].ID, added[1].ID, added[2].ID}
	sort.Strings(wantNew)
	sort.Strings(edits)
	if !slices.Equal(a, wantNew) || !slices.Equal(c, edits) || !slices.Equal(r, []string{removedID}) {
		t.Errorf("diff: new %v changed %v removed %v; want new %v changed %v removed [%s]", a, c, r, wantNew, edits, removedID)
	}
	st = p.Stats()
	var visited []string
	for id, n := range st.DetailsByID {
		if n != 1 {
			t.Errorf("detail page of %s visited %d times", id, n)
		}
		visited = append(visited, id)
	}
	sort.Strings(visited)
	wantVisited := slices.Sorted(slices.Values(append(slices.Clone(wantNew), edits...)))
	if !slices.Equal(visited, wantVisited) {
		t.Errorf("visited detail pages %v, want exactly %v", visited, wantVisited)
	}
	if st.Logins != 0 {
		t.Errorf("logged in %d times, want 0", st.Logins)
	}
}

func TestSessionCookiesAreKeptAndExpiryLogsInAgain(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 5, Count: 10})
	s, jar := newScraper(t, p, base, nil)
	ctx := testCtx(t, 2*time.Minute)
	first, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := jar.LoadCookies(); !strings.Contains(string(b), demoportal.SessionCookie) {
		t.Fatalf("the jar holds no session cookie: %s", b)
	}
	// A new scraper with the same jar (as after a restart) reuses the session.
	s2, _ := newScraper(t, p, base, func(_ *Profile, c *Config) { c.Cookies = jar })
	res, err := s2.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: byID(first.Orders)})
	if err != nil || res.Logins != 0 {
		t.Fatalf("re-scrape with saved cookies: logins %d, err %v; want 0, nil", res.Logins, err)
	}
	// The portal ends every session: the next scrape is sent to the login page and signs in.
	p.ExpireSessions()
	res, err = s2.Scrape(ctx, scheduler.ScrapeRequest{RunID: 3, Known: byID(first.Orders)})
	if err != nil || res.Logins != 1 {
		t.Fatalf("scrape after session expiry: logins %d, err %v; want 1, nil", res.Logins, err)
	}
	assertOrders(t, res.Orders, want(base, p.Orders()))
}

func TestSessionEndingMidListLogsInAgainAndRestarts(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 9, Count: 350})
	s, _ := newScraper(t, p, base, nil)
	expired := false
	res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1, Progress: func(pr scheduler.Progress) {
		if pr.Stage == scheduler.StageList && pr.Page == 2 && !expired {
			expired = true
			p.ExpireSessions()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !expired || res.Logins != 2 || p.Stats().Logins != 2 {
		t.Errorf("expired %v; logins: scraper %d, portal %d; want 2", expired, res.Logins, p.Stats().Logins)
	}
	assertOrders(t, res.Orders, want(base, p.Orders()))
}

func TestFaultsAreClassified(t *testing.T) {
	short := func(prof *Profile, _ *Config) {
		prof.Timeouts.Page.Duration = 1500 * time.Millisecond
		prof.Timeouts.Login.Duration = 1500 * time.Millisecond
		prof.Timeouts.Detail.Duration = 1500 * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		faults demoportal.Faults
		mod    func(*Profile, *Config)
		ctx    func() (context.Context, context.CancelFunc)
		down   bool // the portal is not running
		class  scheduler.ErrorClass
		inMsg  string
	}{
		{name: "login always fails", faults: demoportal.Faults{LoginAlwaysFails: true},
			class: scheduler.ClassLoginFailed, inMsg: "Invalid email or password"},
		{name: "wrong password", mod: func(_ *Profile, c *Config) { c.Password = "hunter2-wrong" },
			class: scheduler.ClassLoginFailed, inMsg: "check the username and password"},
		{name: "no credentials", mod: func(_ *Profile, c *Config) { c.Password = "" },
			class: scheduler.ClassLoginFailed, inMsg: "no portal username or password"},
		{name: "HTTP 500 from the list API", faults: demoportal.Faults{ServerErrorEvery: 1, ServerErrorPrefix: "/api/orders"},
			class: scheduler.ClassPortalError, inMsg: "HTTP 500"},
		// One failing detail page does not fail a run (TestOneBrokenDetailPage); most do.
		{name: "HTTP 500 from detail pages", faults: demoportal.Faults{ServerErrorEvery: 1, ServerErrorPrefix: "/orders/"},
			class: scheduler.ClassPortalError, inMsg: "HTTP 500"},
		{name: "HTTP 500 from every page", faults: demoportal.Faults{ServerErrorEvery: 1},
			class: scheduler.ClassPortalError, inMsg: "HTTP 500"},
		{name: "session expires after 3 requests", faults: demoportal.Faults{SessionMaxRequests: 3},
			class: scheduler.ClassLoginFailed, inMsg: "keeps ending the session"},
		{name: "changed layout", faults: demoportal.Faults{ChangedLayout: true}, mod: short,
			class: scheduler.ClassLayoutChanged, inMsg: "list.row"},
		{name: "page never finishes", faults: demoportal.Faults{Hang: true}, mod: short,
			class: scheduler.ClassTimeout, inMsg: "did not finish"},
		{name: "latency beyond the timeouts", faults: demoportal.Faults{Latency: 3 * time.Second}, mod: short,
			class: scheduler.ClassTimeout, inMsg: "within 1.5s"},
		{name: "run deadline", faults: demoportal.Faults{Hang: true},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 2*time.Second)
			},
			class: scheduler.ClassTimeout, inMsg: "time limit"},
		{name: "canceled", faults: demoportal.Faults{Hang: true},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(1500*time.Millisecond, cancel)
				return ctx, cancel
			},
			class: scheduler.ClassCanceled, inMsg: "canceled"},
		{name: "portal down", down: true, class: scheduler.ClassPortalError, inMsg: "could not be reached"},
		{name: "no browser", mod: func(_ *Profile, c *Config) { c.BrowserPath = "/nonexistent/chromium" },
			class: scheduler.ClassBrowserFailed, inMsg: "does not exist"},
		{name: "invalid selector", mod: func(p *Profile, _ *Config) { p.List.Row = "tr[[" },
			class: scheduler.ClassLayoutChanged, inMsg: "not valid CSS"},
		// A configured order count that is not on the page is a layout change, not a check to
		// skip.
		{name: "order count not found", mod: func(p *Profile, _ *Config) { p.List.Total = &Field{Selector: ".no-such-count"} },
			class: scheduler.ClassLayoutChanged, inMsg: "list.total"},
		{name: "order count does not match its regex", mod: func(p *Profile, _ *Config) {
			p.List.Total = &Field{Selector: ".page-info", Regex: `(\d+) orders in all`}
		}, class: scheduler.ClassLayoutChanged, inMsg: "does not match its regex"},
		// In navigate mode the failed detail tab is kept for the artifacts.
		{name: "HTTP 500 from detail pages in navigate mode", faults: demoportal.Faults{ServerErrorEvery: 1, ServerErrorPrefix: "/orders/"},
			mod:   func(p *Profile, _ *Config) { p.Detail.Mode = "navigate" },
			class: scheduler.ClassPortalError, inMsg: "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 2, Count: 30})
			if tc.down {
				base = "http://127.0.0.1:1"
			}
			var cfg *Config
			s, _ := newScraper(t, p, base, func(prof *Profile, c *Config) {
				if tc.mod != nil {
					tc.mod(prof, c)
				}
				cfg = c
			})
			p.SetFaults(tc.faults)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			start := time.Now()
			res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 42})
			if err == nil {
				t.Fatalf("scrape succeeded with %d orders; want a %s failure", len(res.Orders), tc.class)
			}
			if res.Orders != nil {
				t.Errorf("a failed scrape returned %d orders", len(res.Orders))
			}
			var re *scheduler.RunError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a RunError", err, err)
			}
			if re.Class != tc.class {
				t.Errorf("class %s, want %s (%v)", re.Class, tc.class, err)
			}
			if !strings.Contains(re.Msg, tc.inMsg) {
				t.Errorf("message %q does not contain %q", re.Msg, tc.inMsg)
			}
			if cls, _ := scheduler.Classify(err); cls != tc.class {
				t.Errorf("scheduler.Classify says %s", cls)
			}
			if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
				t.Errorf("the error shows the password: %v", err)
			}
			var fe *FailureError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FailureError", err)
			}
			wantArtifacts := tc.class != scheduler.ClassCanceled && re.Class == tc.class &&
				tc.name != "no credentials" && tc.name != "no browser"
			if wantArtifacts {
				if len(fe.Artifacts) != 2 {
					t.Errorf("artifacts %v, want a screenshot and the HTML", fe.Artifacts)
				}
				for _, f := range fe.Artifacts {
					if st, err := os.Stat(f); err != nil || st.Size() == 0 {
						t.Errorf("artifact %s: %v", f, err)
					}
				}
			} else if len(fe.Artifacts) != 0 {
				t.Errorf("artifacts %v for a %s failure", fe.Artifacts, re.Class)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestNoBrowserIsLeftBehind(t *testing.T) {
	// Browsers of this test get their profile directories under a directory of its own, so
	// that processes of other test runs on the machine are not counted.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mine := []byte(tmp + "/worktray-chromium-")
	before := chromiumProcesses(t)
	p, base := startPortal(t, demoportal.Options{Seed: 4, Count: 40})
	s, _ := newScraper(t, p, base, func(prof *Profile, _ *Config) {
		prof.Timeouts.Page.Duration = 700 * time.Millisecond
	})
	outcomes := map[string]int{}
	for i := range 30 {
		faults := demoportal.Faults{}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		switch i % 5 {
		case 1: // The page hangs: a step times out.
			faults.Hang = true
		case 2: // Canceled at a point that moves through the run.
			time.AfterFunc(time.Duration(100+i*40)*time.Millisecond, cancel)
		case 3: // The run's deadline passes while the page hangs.
			faults.Hang = true
			cancel()
			ctx, cancel = context.WithTimeout(context.Background(), 400*time.Millisecond)
		case 4: // A progress callback panics.
			faults.Latency = 50 * time.Millisecond
		}
		p.SetFaults(faults)
		req := scheduler.ScrapeRequest{RunID: uint64(i)}
		if i%5 == 4 {
			req.Progress = func(pr scheduler.Progress) {
				if pr.Stage == scheduler.StageList && pr.Page == 1 {
					panic("progress callback failed")
				}
			}
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					outcomes["panic"]++
				}
			}()
			_, err := s.Scrape(ctx, req)
			cls, _ := scheduler.Classify(err)
			outcomes[string(cls)]++
		}()
		cancel()
		// When Scrape returns (or panics through), its browser is gone; dying processes may
		// take a moment to leave /proc on a loaded machine.
		for wait := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			left := processesWith(mine)
			if len(left) == 0 {
				break
			}
			if time.Now().After(wait) {
				var desc []string
				for _, pid := range left {
					st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
					desc = append(desc, string(st[:min(len(st), 60)]))
				}
				t.Errorf("scrape %d left browser processes: %q", i, desc)
				break
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
	for _, k := range []string{"", "timeout", "canceled", "panic"} {
		if outcomes[k] == 0 {
			t.Errorf("no scrape ended %q; the test does not cover that path", k)
		}
	}
	// No Chromium process that started during the test and uses one of its profile
	// directories is left.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, pid := range chromiumProcesses(t) {
			if !slices.Contains(before, pid) && slices.Contains(processesWith(mine), pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Chromium processes left behind: %v", len(left), left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ents, _ := os.ReadDir(tmp); slices.ContainsFunc(ents, func(e os.DirEntry) bool {
		return strings.HasPrefix(e.Name(), "worktray-chromium-")
	}) {
		t.Errorf("a browser profile directory is left in %s", tmp)
	}
}
