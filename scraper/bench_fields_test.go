package scraper

import (
	"context"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// BenchmarkInstructionsInListRows: 150 orders whose instructions are in the list rows (the
// field mode's tooltip), read with docs/profiles/demo-instructions-in-list.toml. Each iteration
// does a first scrape (no session, no known orders: it signs in) and an unchanged re-scrape
// (kept session, known orders), browser start included in both. It reports the median of each
// and their ratio, which issue 11 bounds at 1.3.
// Run with: go test -run '^$' -bench InstructionsInListRows -benchtime 5x ./scraper/
func BenchmarkInstructionsInListRows(b *testing.B) {
	const count = 150
	b.Setenv("TMPDIR", b.TempDir())
	p, base := startPortal(b, demoportal.Options{Seed: 1, Count: count})
	s, jar := newProfileScraper(b, p, base, exampleProfile("demo-instructions-in-list.toml"), nil)
	ctx := context.Background()
	var first, again []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = jar.SaveCookies(nil)
		start := time.Now()
		res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: uint64(2 * i)})
		first = append(first, time.Since(start))
		if err != nil || len(res.Orders) != count || res.DetailVisits != 0 || res.Logins != 1 {
			b.Fatalf("first scrape: %v, %d orders, %d detail visits, %d logins", err, len(res.Orders), res.DetailVisits, res.Logins)
		}
		known := byID(res.Orders)
		start = time.Now()
		res, err = s.Scrape(ctx, scheduler.ScrapeRequest{RunID: uint64(2*i + 1), Known: known})
		again = append(again, time.Since(start))
		if err != nil || len(res.Orders) != count || res.Logins != 0 {
			b.Fatalf("re-scrape: %v, %d orders, %d logins", err, len(res.Orders), res.Logins)
		}
	}
	f, a := median(first), median(again)
	b.ReportMetric(float64(f.Microseconds())/1000, "first-median-ms")
	b.ReportMetric(float64(a.Microseconds())/1000, "rescrape-median-ms")
	b.ReportMetric(float64(f)/float64(a), "first/rescrape")
}
