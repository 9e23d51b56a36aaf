package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"worktray/scheduler"
	"worktray/store"
)

func TestMain(m *testing.M) {
	if os.Getenv("WORKTRAY_TEST_HELPER") != "" {
		os.Exit(helperProcess())
	}
	goleak.VerifyTestMain(m)
}

// fakeScraper is a scraper whose outcome the test controls. It counts calls and records the
// largest number of scrapes that ever ran at once.
type fakeScraper struct {
	mu      sync.Mutex
	orders  []scheduler.Order
	empty   bool
	err     error
	block   chan struct{} // when not nil, Scrape waits for it (or ctx)
	started chan uint64   // receives each run id as its scrape starts, when not nil

	calls   atomic.Int32
	running atomic.Int32
	maxRun  atomic.Int32
}

func (f *fakeScraper) Scrape(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRun.Load()
		if n <= m || f.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	if f.started != nil {
		f.started <- req.RunID
	}
	if req.Progress != nil {
		req.Progress(scheduler.Progress{RunID: req.RunID, Stage: scheduler.StageList, Page: 1, Pages: 2, Orders: 25, Percent: 50})
	}
	f.mu.Lock()
	block, orders, empty, err := f.block, f.orders, f.empty, f.err
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return scheduler.ScrapeResult{}, ctx.Err()
		}
	}
	if err != nil {
		return scheduler.ScrapeResult{}, err
	}
	// Two complete reads, as the scraper reports when known orders went missing: removals are
	// confirmed at once.
	return scheduler.ScrapeResult{Orders: orders, EmptyState: empty, Pages: 1, Complete: true, ListReads: 2}, nil
}

func (f *fakeScraper) set(fn func(f *fakeScraper)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func makeOrders(n int) []scheduler.Order {
	out := make([]scheduler.Order, n)
	for i := range out {
		out[i] = scheduler.Order{PortalID: fmt.Sprintf("p%d", i), Number: fmt.Sprintf("W-%06d", 100000+i),
			Customer: "Acme", SiteName: fmt.Sprintf("Site %d", i)}
	}
	return out
}

// harness is a service on a fake clock and a real bbolt store in a temp dir.
type harness struct {
	t      *testing.T
	db     *store.DB
	fc     *clockwork.FakeClock
	skew   atomic.Int64 // wall clock minus timer clock, to model a suspend
	wall   wallClock    // fc with skew: the service's clock
	scr    *fakeScraper
	svc    *scheduler.Service
	cancel context.CancelFunc
	done   chan error
	path   string
	sub    *scheduler.Subscription

	// Set before start to replace the defaults.
	store        scheduler.Store   // default db
	scraper      scheduler.Scraper // default scr
	runTimeout   time.Duration     // default 1 h
	abandonAfter time.Duration
	stopTimeout  time.Duration
}

const checkInterval = 20 * time.Second

// wallClock is a fake clock whose wall-clock reading (Now) runs ahead of its timers by skew:
// a suspended laptop, or a wall clock that was set, while the monotonic timers stand still.
// The service reads the wall from it; its timers (the tick, the slot and retry timers) run on
// the fake clock, as the real clock's run on the monotonic clock.
type wallClock struct {
	*clockwork.FakeClock
	skew *atomic.Int64
}

func (c wallClock) Now() time.Time                  { return c.FakeClock.Now().Add(time.Duration(c.skew.Load())) }
func (c wallClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c wallClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	return openStoreClock(t, path, nil)
}

func openStoreClock(t *testing.T, path string, clock clockwork.Clock) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return db
}

// newHarness prepares a store at t0 with sched saved and the cursor at cursor (zero: t0).
func newHarness(t *testing.T, t0 time.Time, sched scheduler.Schedule, cursor time.Time) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "worktray.db")
	h := &harness{t: t, fc: clockwork.NewFakeClockAt(t0), scr: &fakeScraper{orders: makeOrders(3)}, path: path}
	h.wall = wallClock{h.fc, &h.skew}
	db := openStoreClock(t, path, h.wall)
	h.db = db
	if err := db.SaveSchedule(sched); err != nil {
		t.Fatalf("save schedule: %v", err)
	}
	if cursor.IsZero() {
		cursor = t0
	}
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.Cursor = cursor; return nil }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.stop()
		if err := db.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		_ = db.Close()
	})
	return h
}

func (h *harness) now() time.Time { return h.wall.Now() }

// testLogger logs to the test's output when WORKTRAY_TEST_LOG is set, else nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("WORKTRAY_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// start runs the service and waits until its timers (the wall-clock check and the next slot)
// are armed.
func (h *harness) start(timers int) {
	h.t.Helper()
	if h.wall.FakeClock == nil {
		h.wall = wallClock{h.fc, &h.skew}
	}
	var st scheduler.Store = h.db
	if h.store != nil {
		st = h.store
	}
	var scr scheduler.Scraper = h.scr
	if h.scraper != nil {
		scr = h.scraper
	}
	timeout := h.runTimeout
	if timeout == 0 {
		timeout = time.Hour
	}
	svc, err := scheduler.New(scheduler.Config{Store: st, Scraper: scr, Clock: h.wall,
		CheckInterval: checkInterval, RunTimeout: timeout, AbandonAfter: h.abandonAfter,
		StopTimeout: h.stopTimeout, Logger: testLogger(h.t)})
	if err != nil {
		h.t.Fatalf("scheduler.New: %v", err)
	}
	h.svc = svc
	h.sub = svc.Subscribe(256)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- svc.Run(ctx) }()
	h.waitTimers(timers)
	eventually(h.t, "the first check", func() bool { return svc.Checks() > 0 })
}

func (h *harness) waitTimers(n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.fc.BlockUntilContext(ctx, n); err != nil {
		h.t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
	h.sub.Close()
	h.cancel = nil
}

// advance moves both clocks by d.
func (h *harness) advance(d time.Duration) { h.fc.Advance(d) }

// runs returns every run, oldest first.
func (h *harness) runs() []scheduler.Run {
	h.t.Helper()
	rs, err := h.db.LatestRuns(1000)
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// waitRuns waits until n runs are recorded and none is running.
func (h *harness) waitRuns(n int) []scheduler.Run {
	h.t.Helper()
	var rs []scheduler.Run
	eventually(h.t, fmt.Sprintf("%d finished runs", n), func() bool {
		rs = h.runs()
		if len(rs) != n {
			return false
		}
		for _, r := range rs {
			if !r.Status.Finished() {
				return false
			}
		}
		return h.svc.Snapshot().Running == nil
	})
	return rs
}

// eventually polls cond until it holds, failing the test after 10 s; detail, when given, says
// what was seen last.
func eventually(t *testing.T, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg += ": " + d()
			}
			t.Fatalf("timed out waiting for %s%s", what, msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func hourlyUTC(minute int) scheduler.Schedule {
	sc := scheduler.DefaultSchedule("UTC")
	sc.Minute = minute
	return sc
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}
