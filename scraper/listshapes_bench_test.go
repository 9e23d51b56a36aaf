package scraper

import (
	"context"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// BenchmarkListShapes re-scrapes 1,000 unchanged orders (saved session, known orders, so the
// list alone is read; the browser's start included) shown as "Next" pages of 100 and as a
// "Load more" list that adds 20 rows per click. The bar: load more ≤ 1.5× next.
// Run with: go test -run '^$' -bench ListShapes -benchtime 5x ./scraper/
func BenchmarkListShapes(b *testing.B) {
	for _, bc := range []struct {
		name  string
		modes demoportal.ListModes
		file  string
	}{
		{"next-100-to-1000", demoportal.ListModes{}, ""},
		{"load-more-20-to-1000", demoportal.ListModes{Shape: demoportal.ShapeLoadMore, Step: 20}, "load-more.toml"},
		{"scroll-20-to-1000", demoportal.ListModes{Shape: demoportal.ShapeScroll, Step: 20}, "infinite-scroll.toml"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.Setenv("TMPDIR", b.TempDir())
			p, base := startPortal(b, demoportal.Options{Seed: 1, Count: 1000, List: bc.modes})
			s := exampleScraper(b, p, base, bc.file, nil)
			ctx := context.Background()
			res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				b.Fatal(err)
			}
			known := byID(res.Orders)
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: uint64(i + 2), Known: known})
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Orders) != 1000 || res.DetailVisits != 0 || res.ListReads != 1 {
					b.Fatalf("orders %d, detail visits %d, list reads %d", len(res.Orders), res.DetailVisits, res.ListReads)
				}
			}
			b.ReportMetric(float64(median(times).Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(res.Pages), "pages")
		})
	}
}
