package scraper

import (
	"errors"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// TestOneBrokenDetailPage: one detail page answers HTTP 500 for ever and one order has no
// detail link. Both are stored from their list fields with the reason, the run succeeds with a
// warning, and the broken page is tried again next run until it answers.
func TestOneBrokenDetailPage(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 31, Count: 20})
	orders := p.Orders()
	broken, linkless := orders[3], orders[7]
	p.BreakDetail(broken.ID)
	p.HideDetailLink(linkless.ID)
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), nil)
	ctx := testCtx(t, 2*time.Minute)

	first, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatalf("one broken detail page failed the run: %v", err)
	}
	var want []scheduler.Order
	for _, o := range orders {
		w := wantFieldMode(base, o, o.ID != broken.ID && o.ID != linkless.ID)
		switch o.ID {
		case broken.ID:
			w.DetailMissing = byID(first.Orders)[o.ID].DetailMissing
		case linkless.ID:
			w.DetailMissing = byID(first.Orders)[o.ID].DetailMissing
		}
		want = append(want, w)
	}
	assertFieldOrders(t, first.Orders, want)
	got := byID(first.Orders)
	if m := got[broken.ID].DetailMissing; !strings.Contains(m, "HTTP 500") {
		t.Errorf("broken order: detail missing %q, want the HTTP 500", m)
	}
	if m := got[linkless.ID].DetailMissing; !strings.Contains(m, "no detail page link") {
		t.Errorf("order without a link: detail missing %q", m)
	}
	if len(first.Warnings) != 1 || !strings.Contains(first.Warnings[0], broken.Number) || !strings.Contains(first.Warnings[0], linkless.Number) {
		t.Errorf("warnings %q; want one naming %s and %s", first.Warnings, broken.Number, linkless.Number)
	}

	// The next run tries again only those two (the one without a link is not visited).
	p.ResetStats()
	second, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: byID(first.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.DetailVisits != 1 || st.DetailsByID[broken.ID] != 1 {
		t.Errorf("second run visited %v; want the broken order's page once", st.DetailsByID)
	}
	if byID(second.Orders)[broken.ID].DetailMissing == "" {
		t.Error("the broken detail page is no longer marked missing")
	}

	// Once it answers, its detail arrives and the mark goes.
	p.FixDetail(broken.ID)
	third, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 3, Known: byID(second.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	if o := byID(third.Orders)[broken.ID]; o.DetailMissing != "" || o.Instructions != demoportal.ShownInstructions(broken) || o.DetailReadAt.IsZero() {
		t.Errorf("after the fix: missing %q, instructions %q, read at %v", o.DetailMissing, o.Instructions, o.DetailReadAt)
	}
	if len(third.Warnings) != 1 || strings.Contains(third.Warnings[0], broken.Number) {
		t.Errorf("third run's warnings %q; want only the order without a link", third.Warnings)
	}
}

// TestMostDetailPagesFailing fails the run when most detail pages fail.
func TestMostDetailPagesFailing(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 32, Count: 12})
	for _, o := range p.Orders()[:7] {
		p.BreakDetail(o.ID)
	}
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), nil)
	_, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if cls := runClass(t, err); cls != scheduler.ClassPortalError || !strings.Contains(err.Error(), "7 of 12 detail pages") {
		t.Errorf("%s %v; want portal_error naming 7 of 12", cls, err)
	}
}

// TestEditedInstructionIsReadAgain: an instruction edited at the office while nothing in the
// list row changed arrives by the rolling re-read, a bounded number of pages per run, the
// oldest first; details read recently are not read again.
func TestEditedInstructionIsReadAgain(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 33, Count: 20})
	const perRun = 6
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), func(p *Profile, _ *Config) {
		p.Detail.RefreshPerRun = perRun
	})
	ctx := testCtx(t, 3*time.Minute)
	first, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	edited := p.Orders()[11]
	if err := p.Edit(edited.ID, func(o *demoportal.Order) { o.Instructions = "Rescheduled at the office: bring the spare compressor." }); err != nil {
		t.Fatal(err)
	}
	edited = p.Orders()[11]

	// Read a moment ago: nothing is read again.
	p.ResetStats()
	second, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: byID(first.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.DetailVisits != 0 {
		t.Errorf("details read %v ago were read again (%d pages)", time.Since(first.Orders[0].DetailReadAt), st.DetailVisits)
	}
	if byID(second.Orders)[edited.ID].Instructions == edited.Instructions {
		t.Fatal("the edit arrived without a detail visit: the test does not test the re-read")
	}

	// A day later: each run re-reads at most perRun of them, oldest first, until the edit arrives.
	known := byID(second.Orders)
	day := time.Now().Add(-25 * time.Hour)
	i := 0
	for id, o := range known {
		o.DetailReadAt = day.Add(time.Duration(i) * time.Minute)
		known[id] = o
		i++
	}
	seen := map[string]bool{}
	for run := 3; ; run++ {
		if run > 3+20/perRun {
			t.Fatal("the edited instruction never arrived")
		}
		oldest := time.Now()
		for _, o := range known {
			if !seen[o.PortalID] && o.DetailReadAt.Before(oldest) {
				oldest = o.DetailReadAt
			}
		}
		p.ResetStats()
		res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: uint64(run), Known: known})
		if err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		if st.DetailVisits > perRun {
			t.Fatalf("run %d read %d detail pages; at most %d are due per run", run, st.DetailVisits, perRun)
		}
		for id := range st.DetailsByID {
			if seen[id] {
				t.Errorf("run %d re-read %s twice", run, id)
			}
			if known[id].DetailReadAt.After(oldest.Add(time.Duration(perRun) * time.Minute)) {
				t.Errorf("run %d re-read %s, which is not among the oldest", run, id)
			}
			seen[id] = true
		}
		known = byID(res.Orders)
		if known[edited.ID].Instructions == demoportal.ShownInstructions(edited) {
			if !seen[edited.ID] {
				t.Error("the edit arrived without reading its page")
			}
			break
		}
	}
}

// TestFetchModeOnAPageDrawnByJavaScript says so and suggests "navigate", which then works.
func TestFetchModeOnAPageDrawnByJavaScript(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 34, Count: 5})
	js := func(mode string) func(*Profile, *Config) {
		return func(p *Profile, _ *Config) {
			p.List.URL = "/f/orders?detail=js"
			p.Login.URL = "/login?next=/f/orders?detail=js"
			p.Detail.Mode = mode
		}
	}
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), js("fetch"))
	_, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	var re *scheduler.RunError
	if !errors.As(err, &re) || re.Class != scheduler.ClassConfig || !strings.Contains(re.Msg, "drawn by JavaScript") ||
		!strings.Contains(re.Msg, `detail.mode = "navigate"`) {
		t.Fatalf("fetch mode on a script-drawn page: %v; want config_error suggesting navigate", err)
	}
	s, _ = newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), js("navigate"))
	res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 2})
	if err != nil {
		t.Fatal(err)
	}
	var want []scheduler.Order
	for _, o := range p.Orders() {
		want = append(want, wantFieldMode(base, o, true))
	}
	assertFieldOrders(t, res.Orders, want)
}
