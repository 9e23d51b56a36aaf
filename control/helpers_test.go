package control

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/scheduler"
	"worktray/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(peerHelper())
	}
	if os.Getenv(squatterEnv) != "" {
		os.Exit(squatter())
	}
	goleak.VerifyTestMain(m)
}

// fakeScraper is a scraper whose outcome the test decides. By default a scrape blocks until it is
// released or canceled.
type fakeScraper struct {
	mu      sync.Mutex
	scrape  func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error)
	started chan uint64
}

func newFakeScraper() *fakeScraper { return &fakeScraper{started: make(chan uint64, 16)} }

func (f *fakeScraper) set(fn func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error)) {
	f.mu.Lock()
	f.scrape = fn
	f.mu.Unlock()
}

func (f *fakeScraper) Scrape(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	f.mu.Lock()
	fn := f.scrape
	f.mu.Unlock()
	select {
	case f.started <- req.RunID:
	default:
	}
	if fn != nil {
		return fn(ctx, req)
	}
	if req.Progress != nil {
		req.Progress(scheduler.Progress{Stage: scheduler.StageList, Page: 1, Pages: 2, Orders: 10, Percent: 40})
	}
	<-ctx.Done()
	return scheduler.ScrapeResult{}, ctx.Err()
}

// harness is a real store and scheduler with a fake scraper, served on a real socket.
type harness struct {
	t      testing.TB
	dir    string
	socket string
	db     *store.DB
	svc    *scheduler.Service
	scr    *fakeScraper
	srv    *Server
	client *Client
	hooks  Hooks
}

// shortTempDir returns a temporary directory with a short path: a unix socket path is limited
// to 108 bytes.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wtc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func newHarness(t testing.TB, hooks Hooks) *harness {
	t.Helper()
	return newHarnessWith(t, hooks, nil)
}

// newHarnessWith is newHarness with the scheduler's configuration changed by configure (nil
// changes nothing).
func newHarnessWith(t testing.TB, hooks Hooks, configure func(*scheduler.Config)) *harness {
	t.Helper()
	h := &harness{t: t, dir: shortTempDir(t), scr: newFakeScraper(), hooks: hooks}
	h.socket = filepath.Join(h.dir, "run", "control.sock")
	db, err := store.Open(filepath.Join(h.dir, "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.db = db
	log := slog.New(slog.DiscardHandler)
	cfg := scheduler.Config{Store: db, Scraper: h.scr, Logger: log, Zone: "Europe/London"}
	if configure != nil {
		configure(&cfg)
	}
	svc, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	h.srv, err = NewServer(Config{Scheduler: svc, Store: db, Logger: log, Hooks: hooks,
		Owner: OwnerInfo{PID: os.Getpid(), Started: time.Now().UTC(), Headless: true}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(h.socket, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := svc.Run(ctx); err != nil {
			t.Errorf("scheduler: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := h.srv.Serve(ctx, l); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	h.client = NewClient(h.socket)
	// Wait for the scheduler's first check, which saves its cursor: a run finishing meanwhile
	// would race with it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if st, err := db.State(); err == nil && !st.Cursor.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not start")
		}
	}
	t.Cleanup(func() {
		h.client.Close()
		cancel()
		wg.Wait()
		if err := db.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		_ = db.Close()
	})
	return h
}

// scrape starts a scrape through the client, waiting for the scheduler to run first (ScrapeNow
// needs it), and waits until the scraper was called.
func (h *harness) scrape() scheduler.Run {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		run, err := h.client.Scrape(ctxT(h.t))
		if err == nil {
			if id := h.waitStarted(); id != run.ID {
				h.t.Fatalf("scraper called for run %d, want %d", id, run.ID)
			}
			return run
		}
		if !errors.Is(err, scheduler.ErrNotStarted) || time.Now().After(deadline) {
			h.t.Fatalf("Scrape: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitIdle waits until no run is in progress.
func (h *harness) waitIdle() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.svc.Snapshot().Running != nil {
		if time.Now().After(deadline) {
			h.t.Fatal("the run did not finish")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitStarted waits until the scraper has been called.
func (h *harness) waitStarted() uint64 {
	h.t.Helper()
	select {
	case id := <-h.scr.started:
		return id
	case <-time.After(5 * time.Second):
		h.t.Fatal("the scrape did not start")
		return 0
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
