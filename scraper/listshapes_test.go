package scraper

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// exampleScraper returns a scraper of the demo portal at base that uses the example profile
// docs/examples/<file> as a user would (LoadProfile); mod may change the profile and config.
func exampleScraper(t testing.TB, p *demoportal.Portal, base, file string, mod func(*Profile, *Config)) *Scraper {
	t.Helper()
	var prof *Profile
	var err error
	if file == "" {
		prof, err = DemoProfile(base)
	} else {
		prof, err = LoadProfile(filepath.Join("..", "docs", "examples", file))
	}
	if err != nil {
		t.Fatal(err)
	}
	email, pw := p.Credentials()
	cfg := Config{Profile: prof, BaseURL: base, Username: email, Password: pw, Cookies: &MemoryCookieJar{},
		ArtifactDir: filepath.Join(t.TempDir(), "artifacts")}
	if mod != nil {
		mod(prof, &cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertComplete fails unless res is a complete read of the portal's orders, every field right.
func assertComplete(t *testing.T, res scheduler.ScrapeResult, base string, p *demoportal.Portal) {
	t.Helper()
	assertOrders(t, res.Orders, want(base, p.Orders()))
	if !res.Complete {
		t.Error("a successful scrape does not say it is complete")
	}
	if res.EmptyState != (len(p.Orders()) == 0) {
		t.Errorf("EmptyState = %v with %d orders", res.EmptyState, len(p.Orders()))
	}
}

// TestListShapes reads each list shape and page-size control of the demo portal with its example
// profile: every order, every field.
func TestListShapes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		modes     demoportal.ListModes
		file      string
		count     int
		mod       func(*Profile, *Config)
		wantPages int
		apiCalls  int // calls of the JSON list endpoint a read needs, when checked (signing in loads page 1 once more)
	}{
		{name: "load more", modes: demoportal.ListModes{Shape: demoportal.ShapeLoadMore},
			file: "load-more.toml", count: 90, wantPages: 5, apiCalls: 5},
		// Without list.total the list ends when the button goes away.
		{name: "load more without a count", modes: demoportal.ListModes{Shape: demoportal.ShapeLoadMore, Step: 25},
			file: "load-more.toml", count: 60, wantPages: 3, mod: func(p *Profile, _ *Config) { p.List.Total = nil }},
		{name: "infinite scroll", modes: demoportal.ListModes{Shape: demoportal.ShapeScroll},
			file: "infinite-scroll.toml", count: 70, wantPages: 4, apiCalls: 4},
		// Without list.total the list ends when a scroll brings no new rows.
		{name: "infinite scroll without a count", modes: demoportal.ListModes{Shape: demoportal.ShapeScroll, Step: 30},
			file: "infinite-scroll.toml", count: 50, wantPages: 2, mod: func(p *Profile, _ *Config) { p.List.Total = nil }},
		// The "›" of the last page draws it again: no new rows, the end.
		{name: "numbered pager that never disables", modes: demoportal.ListModes{Shape: demoportal.ShapeNumbered},
			file: "numbered-pager.toml", count: 230, wantPages: 3},
		{name: "numbered pager with a count", modes: demoportal.ListModes{Shape: demoportal.ShapeNumbered},
			file: "numbered-pager.toml", count: 230, wantPages: 3, mod: func(p *Profile, _ *Config) {
				p.List.Total = &Field{Selector: ".page-info", Regex: `(\d+) work orders`}
			}},
		{name: "page size from a drop-down of links", modes: demoportal.ListModes{PageSize: demoportal.SizeLinks},
			file: "page-size-links.toml", count: 180, wantPages: 2, apiCalls: 3},
		{name: "page size in a form to send", modes: demoportal.ListModes{PageSize: demoportal.SizeForm},
			file: "page-size-form.toml", count: 180, wantPages: 2, apiCalls: 3},
		{name: "slow list", modes: demoportal.ListModes{HiddenEmpty: true, RowsDelay: 400 * time.Millisecond, Bursts: 3, BurstDelay: 120 * time.Millisecond},
			file: "slow-list.toml", count: 150, wantPages: 2},
		// Each burst takes longer than list.settle: only the request in flight shows the page
		// is not finished.
		{name: "rows in slow bursts", modes: demoportal.ListModes{Bursts: 4, BurstDelay: 700 * time.Millisecond},
			file: "", count: 100, wantPages: 1},
		{name: "load more, empty", modes: demoportal.ListModes{Shape: demoportal.ShapeLoadMore, HiddenEmpty: true},
			file: "load-more.toml", count: 0, wantPages: 1},
		{name: "numbered pager, one page", modes: demoportal.ListModes{Shape: demoportal.ShapeNumbered},
			file: "numbered-pager.toml", count: 7, wantPages: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 21, Count: tc.count, List: tc.modes})
			s := exampleScraper(t, p, base, tc.file, tc.mod)
			res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			assertComplete(t, res, base, p)
			if res.Pages != tc.wantPages {
				t.Errorf("read %d pages, want %d", res.Pages, tc.wantPages)
			}
			if res.ListReads != 1 {
				t.Errorf("read the list %d times, want once", res.ListReads)
			}
			// Signing in ends on the list, which proves the sign-in and is read as it is: no list
			// request more than the shape needs.
			if st := p.Stats(); tc.apiCalls > 0 && st.ListAPICalls != tc.apiCalls {
				t.Errorf("the portal answered %d list requests, want %d", st.ListAPICalls, tc.apiCalls)
			}
		})
	}
}

// TestHiddenMarkersNeverEmptyTheList: a "no work orders" marker in the page's HTML but hidden,
// read while the list is still loading, once turned 100 open orders into "0 orders (100
// removed)". Markers count only while visible, and a visible loading marker makes the scraper
// wait.
func TestHiddenMarkersNeverEmptyTheList(t *testing.T) {
	modes := demoportal.ListModes{HiddenEmpty: true, RowsDelay: 700 * time.Millisecond}
	p, base := startPortal(t, demoportal.Options{Seed: 31, Count: 100, List: modes})
	s := exampleScraper(t, p, base, "slow-list.toml", nil)
	ctx := testCtx(t, 2*time.Minute)
	res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	assertComplete(t, res, base, p)

	// The loading marker that never goes is a timeout that names it, never an empty list.
	modes.RowsDelay = time.Hour
	p.SetListModes(modes)
	short := exampleScraper(t, p, base, "slow-list.toml", func(prof *Profile, _ *Config) { prof.Timeouts.Page.Duration = 1500 * time.Millisecond })
	res, err = short.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: byID(res.Orders)})
	if err == nil {
		t.Fatalf("a list that never finished loading gave %d orders (empty state %v)", len(res.Orders), res.EmptyState)
	}
	if cls := runClass(t, err); cls != scheduler.ClassTimeout || !strings.Contains(err.Error(), "list.loading") {
		t.Errorf("error %s %q; want a timeout naming list.loading", cls, err)
	}

	// An empty list shows the marker: then it counts.
	for _, o := range p.Orders() {
		if err := p.Remove(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	modes.RowsDelay = 300 * time.Millisecond
	p.SetListModes(modes)
	res, err = s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !res.EmptyState || len(res.Orders) != 0 {
		t.Errorf("empty portal: %d orders, empty state %v", len(res.Orders), res.EmptyState)
	}
}

// TestListShiftingIsReadAgain: an order closed on page 1 while page 2 is read moves every later
// row up, and one open order is never shown. A read that lacks known orders is read once more,
// and the result is the union: no open order is missing, and an order is reported absent only
// after two complete reads lacked it.
func TestListShiftingIsReadAgain(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 41, Count: 100})
	s := exampleScraper(t, p, base, "", func(prof *Profile, _ *Config) { prof.List.PageSize = PageSize{} }) // 25 per page
	ctx := testCtx(t, 3*time.Minute)
	first, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	assertComplete(t, first, base, p)
	known := byID(first.Orders)

	p.SetListModes(demoportal.ListModes{CloseOnPage: 2})
	second, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 2, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	closed := p.Closed()
	if len(closed) != 1 {
		t.Fatalf("the portal closed %v; want one order", closed)
	}
	got := byID(second.Orders)
	for _, o := range p.Orders() {
		if _, ok := got[o.ID]; !ok {
			t.Errorf("open order %s (%s) is missing from the result: it would be removed", o.ID, o.Number)
		}
	}
	if second.ListReads != 2 {
		t.Errorf("the list was read %d times; a read lacking known orders must be read again", second.ListReads)
	}
	if _, ok := got[closed[0]]; !ok {
		t.Errorf("order %s, closed while the first read ran, is not in the result although that read listed it", closed[0])
	}

	// The next scrape: the closed order is lacking from two complete reads.
	third, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 3, Known: byID(second.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	assertComplete(t, third, base, p)
	if third.ListReads != 2 {
		t.Errorf("the list was read %d times; want 2 (a known order is missing)", third.ListReads)
	}

	// Nothing missing: one read.
	fourth, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 4, Known: byID(third.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	if fourth.ListReads != 1 {
		t.Errorf("the list was read %d times with nothing missing; want once", fourth.ListReads)
	}

	// More than half of the known orders gone: read again before anything is applied.
	p.SetListModes(demoportal.ListModes{})
	for _, o := range p.Orders()[:60] {
		if err := p.Remove(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	fifth, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 5, Known: byID(fourth.Orders)})
	if err != nil {
		t.Fatal(err)
	}
	assertComplete(t, fifth, base, p)
	if fifth.ListReads != 2 {
		t.Errorf("60 of 99 known orders missing: the list was read %d times; want 2", fifth.ListReads)
	}
}

// TestMaxPagesIsAGuardNotACut: reaching list.max_pages fails the scrape; it never returns the
// pages read so far.
func TestMaxPagesIsAGuardNotACut(t *testing.T) {
	for _, tc := range []struct {
		name  string
		modes demoportal.ListModes
		file  string
	}{
		{"next pages", demoportal.ListModes{}, ""},
		{"load more", demoportal.ListModes{Shape: demoportal.ShapeLoadMore}, "load-more.toml"},
		{"infinite scroll", demoportal.ListModes{Shape: demoportal.ShapeScroll}, "infinite-scroll.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 51, Count: 90, List: tc.modes})
			s := exampleScraper(t, p, base, tc.file, func(prof *Profile, _ *Config) {
				prof.List.PageSize = PageSize{}
				prof.List.MaxPages = 2
			})
			res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err == nil {
				t.Fatalf("scrape returned %d orders; want a list.max_pages failure", len(res.Orders))
			}
			if res.Orders != nil || !strings.Contains(err.Error(), "list.max_pages") {
				t.Errorf("%d orders, error %v; want none and an error naming list.max_pages", len(res.Orders), err)
			}
		})
	}
}

// TestNextThatChangesNothingIsSaidSo: a next-page control that still matches but whose click
// changes nothing, while the portal's count says more orders exist, is reported in those words,
// naming list.next, and never as a slow portal.
func TestNextThatChangesNothingIsSaidSo(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 61, Count: 80, List: demoportal.ListModes{Shape: demoportal.ShapeNumbered}})
	s := exampleScraper(t, p, base, "numbered-pager.toml", func(prof *Profile, _ *Config) {
		prof.List.PageSize = PageSize{}
		prof.List.Total = &Field{Selector: ".page-info", Regex: `(\d+) work orders`}
		prof.List.Next.Selector = "nav.pager a[aria-current]" // the link of the page shown: it draws that page again
	})
	res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err == nil {
		t.Fatalf("scrape returned %d orders; want a failure", len(res.Orders))
	}
	msg := err.Error()
	if !strings.Contains(msg, "list.next") || !strings.Contains(msg, "changed nothing") || strings.Contains(msg, "slow or down") {
		t.Errorf("message %q; want list.next named, \"changed nothing\", no \"slow or down\"", msg)
	}
	if cls := runClass(t, err); cls != scheduler.ClassLayoutChanged {
		t.Errorf("class %s, want %s", cls, scheduler.ClassLayoutChanged)
	}
}

// TestFieldTextIsWhatAPersonSees reads a portal that draws fields with <br>, blocks and
// paragraphs: words are never glued, and multiline instructions keep their blank lines.
func TestFieldTextIsWhatAPersonSees(t *testing.T) {
	for _, mode := range []string{"fetch", "navigate"} {
		t.Run(mode, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 71, Count: 12, List: demoportal.ListModes{RichText: true}})
			orders := p.Orders()
			if err := p.Edit(orders[3].ID, func(o *demoportal.Order) {
				o.Instructions = "Day 2 of 2\n\nBring the 6' ladder.\nGate code: 4821#.\n\nCall Zoë on arrival."
			}); err != nil {
				t.Fatal(err)
			}
			s := exampleScraper(t, p, base, "", func(prof *Profile, _ *Config) { prof.Detail.Mode = mode })
			res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			assertComplete(t, res, base, p)
		})
	}
}

// TestListShapesProperty scrapes the demo portal in random list modes, page sizes and counts,
// sometimes closing an order while the list is read, and checks after each scrape: every order
// open on the portal is in the result (no false removal), no order twice, the result complete;
// and when nothing was closed, exactly the portal's orders, every field right. The known orders
// of each round are the result of the one before. WORKTRAY_LIST_ROUNDS sets the number of
// rounds (default 4; `make soak` sets more).
func TestListShapesProperty(t *testing.T) {
	rounds := 4
	if v, err := strconv.Atoi(os.Getenv("WORKTRAY_LIST_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (rounds %d)", seed, rounds)
	r := rand.New(rand.NewPCG(seed, 3))
	shapes := []struct {
		shape demoportal.ListShape
		file  string
	}{
		{demoportal.ShapePages, ""}, {demoportal.ShapeNumbered, "numbered-pager.toml"},
		{demoportal.ShapeLoadMore, "load-more.toml"}, {demoportal.ShapeScroll, "infinite-scroll.toml"},
	}
	p, base := startPortal(t, demoportal.Options{Seed: seed, Count: 0})
	var known map[string]scheduler.Order
	for round := range rounds {
		sh := shapes[r.IntN(len(shapes))]
		modes := demoportal.ListModes{
			Shape: sh.shape, Step: 10 + r.IntN(40), HiddenEmpty: r.IntN(2) == 0,
			Bursts: 1 + r.IntN(3), BurstDelay: time.Duration(r.IntN(120)) * time.Millisecond,
			RowsDelay: time.Duration(r.IntN(400)) * time.Millisecond, RichText: r.IntN(2) == 0,
		}
		if sh.shape == demoportal.ShapePages || sh.shape == demoportal.ShapeNumbered {
			modes.PageSize = []demoportal.PageSizeControl{demoportal.SizeSelect, demoportal.SizeLinks, demoportal.SizeForm}[r.IntN(3)]
		}
		// Grow or shrink the portal to a random count.
		n := r.IntN(160)
		if cur := len(p.Orders()); n > cur {
			p.Add(n - cur)
		} else {
			for _, o := range p.Orders()[n:] {
				_ = p.Remove(o.ID)
			}
		}
		closing := r.IntN(3) == 0
		if closing {
			modes.CloseOnPage = 2
		}
		p.SetListModes(modes)
		withTotal := r.IntN(2) == 0
		s := exampleScraper(t, p, base, sh.file, func(prof *Profile, _ *Config) {
			switch modes.PageSize {
			case demoportal.SizeLinks:
				prof.List.PageSize = PageSize{Clicks: []string{"button.size-toggle", "ul.size-menu a[data-size='50']"}}
			case demoportal.SizeForm:
				prof.List.PageSize = PageSize{Selector: "form.size-form select[name=size]", Value: "50", Clicks: []string{"form.size-form button[type=submit]"}}
			}
			if withTotal {
				prof.List.Total = &Field{Selector: ".page-info", Regex: `(\d+) work orders`}
			} else {
				prof.List.Total = nil
			}
			if closing {
				// The closed order's detail page is gone (404): that is the detail pages'
				// business, not the list's.
				prof.Detail = DetailProfile{}
			}
		})
		t.Logf("round %d: %d orders, modes %+v, list.total %v, %d known", round, n, modes, withTotal, len(known))
		closedBefore := len(p.Closed())
		res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: uint64(round + 1), Known: known})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !res.Complete {
			t.Fatalf("round %d: the result is not complete", round)
		}
		got := byID(res.Orders)
		// With no known orders (a first read), nothing tells the scraper that an order closed
		// mid-read shifted the list, so one open order per closed one may be read only at the
		// next scrape; it is not known, so nothing is removed. With known orders, every open
		// order must be read (the scraper reads the list again when one is missing).
		closedDuring := len(p.Closed()) - closedBefore
		var missing []string
		for _, o := range p.Orders() {
			if _, ok := got[o.ID]; !ok {
				missing = append(missing, o.ID)
			}
		}
		if len(missing) > 0 && (len(known) > 0 || len(missing) > closedDuring) {
			t.Fatalf("round %d: open orders %v are missing from the result (%d of %d read, %d known, %d list reads)",
				round, missing, len(res.Orders), len(p.Orders()), len(known), res.ListReads)
		}
		if len(missing) > 0 {
			t.Logf("round %d: first read, %v shifted by a close mid-read; read next time", round, missing)
		}
		switch {
		case !closing:
			assertComplete(t, res, base, p)
		case len(p.Closed()) > closedBefore:
			t.Logf("round %d: order %s was closed during the read; %d list reads", round, p.Closed()[len(p.Closed())-1], res.ListReads)
		}
		known = got
		if closing {
			known = nil // read without instructions: the next round reads every detail page
		}
		if ids := slices.Collect(func(yield func(string) bool) {
			for _, o := range res.Orders {
				if !yield(o.PortalID) {
					return
				}
			}
		}); len(ids) != len(byID(res.Orders)) {
			t.Fatalf("round %d: an order was returned twice", round)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}
