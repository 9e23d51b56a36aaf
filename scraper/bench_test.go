package scraper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// Run with: go test -run '^$' -bench . -benchtime 5x ./scraper/
// Each benchmark reports the median of its iterations (median-ms) besides ns/op; the browser
// benchmarks also report the peak memory of the browser's processes, sampled every 20 ms: the
// sum of their RSS (shared pages counted once per process) and of their PSS (shared pages
// divided among them).

func BenchmarkScrape(b *testing.B) {
	for _, bc := range []struct {
		name  string
		count int
		warm  bool // a re-scrape: saved session and known orders
	}{
		{"first-100", 100, false},
		{"rescrape-100", 100, true},
		{"rescrape-1000", 1000, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tmp := b.TempDir()
			b.Setenv("TMPDIR", tmp)
			p, base := startPortal(b, demoportal.Options{Seed: 1, Count: bc.count})
			s, jar := newScraper(b, p, base, nil)
			ctx := context.Background()
			var known map[string]scheduler.Order
			if bc.warm {
				res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: 1})
				if err != nil {
					b.Fatal(err)
				}
				known = byID(res.Orders)
			}
			var times []time.Duration
			var peakRSS, peakPSS int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !bc.warm {
					_ = jar.SaveCookies(nil)
				}
				stop := sampleBrowserMemory(tmp, &peakRSS, &peakPSS)
				start := time.Now()
				res, err := s.Scrape(ctx, scheduler.ScrapeRequest{RunID: uint64(i + 2), Known: known})
				times = append(times, time.Since(start))
				stop()
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Orders) != bc.count || (bc.warm && (res.Logins != 0 || res.DetailVisits != 0)) {
					b.Fatalf("orders %d, logins %d, detail visits %d", len(res.Orders), res.Logins, res.DetailVisits)
				}
			}
			b.ReportMetric(float64(median(times).Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(peakRSS)/(1<<20), "browser-peak-rss-MiB")
			b.ReportMetric(float64(peakPSS)/(1<<20), "browser-peak-pss-MiB")
		})
	}
}

// BenchmarkPlainHTTP is the floor: the same JSON pages (and, for a first scrape, the same
// detail pages, 4 at a time) fetched with Go's HTTP client, no browser.
func BenchmarkPlainHTTP(b *testing.B) {
	for _, bc := range []struct {
		name  string
		count int
		warm  bool
	}{
		{"first-100", 100, false},
		{"rescrape-100", 100, true},
		{"rescrape-1000", 1000, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, base := startPortal(b, demoportal.Options{Seed: 1, Count: bc.count})
			email, pw := p.Credentials()
			session := httpLogin(b, base, email, pw)
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				jar, _ := cookiejar.New(nil)
				c := &http.Client{Jar: jar}
				if bc.warm {
					u, _ := url.Parse(base)
					jar.SetCookies(u, session)
				} else {
					c = &http.Client{Jar: jar}
					httpLoginWith(b, c, base, email, pw)
				}
				ids := httpList(b, c, base)
				if len(ids) != bc.count {
					b.Fatalf("%d orders", len(ids))
				}
				if !bc.warm {
					httpDetails(b, c, base, ids, 4)
				}
				times = append(times, time.Since(start))
				c.CloseIdleConnections()
			}
			b.ReportMetric(float64(median(times).Microseconds())/1000, "median-ms")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func httpLogin(b *testing.B, base, email, pw string) []*http.Cookie {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	httpLoginWith(b, c, base, email, pw)
	u, _ := url.Parse(base)
	return jar.Cookies(u)
}

func httpLoginWith(b *testing.B, c *http.Client, base, email, pw string) {
	res, err := c.Get(base + "/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token")
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {string(m[1])}, "next": {"/api/orders?page=1&size=25"}})
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

func httpList(b *testing.B, c *http.Client, base string) []string {
	var ids []string
	for page := 1; ; page++ {
		res, err := c.Get(base + "/api/orders?size=100&page=" + strconv.Itoa(page))
		if err != nil {
			b.Fatal(err)
		}
		var d struct {
			Pages  int `json:"pages"`
			Orders []struct {
				ID string `json:"id"`
			} `json:"orders"`
		}
		err = json.NewDecoder(res.Body).Decode(&d)
		res.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range d.Orders {
			ids = append(ids, o.ID)
		}
		if page >= d.Pages {
			return ids
		}
	}
}

func httpDetails(b *testing.B, c *http.Client, base string, ids []string, n int) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for id := range jobs {
				res, err := c.Get(base + "/orders/" + id)
				if err != nil {
					b.Error(err)
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.Contains(body, []byte("instructions-text")) {
					b.Errorf("detail page of %s has no instructions", id)
				}
			}
		})
	}
	for _, id := range ids {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
}

// sampleBrowserMemory samples the memory of the scraper's browser processes (those whose
// command line names a profile directory under tmp) until stop is called, keeping the peaks of
// their summed RSS and PSS.
func sampleBrowserMemory(tmp string, peakRSS, peakPSS *int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var rss, pss int64
			for _, pid := range processesWith([]byte(tmp + "/worktray-chromium-")) {
				rss += statusKB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:") << 10
				pss += statusKB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:") << 10
			}
			*peakRSS = max(*peakRSS, rss)
			*peakPSS = max(*peakPSS, pss)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// statusKB reads a "Key:   123 kB" line of a /proc file.
func statusKB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n
			}
		}
	}
	return 0
}
