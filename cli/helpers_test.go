package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/store"
)

// binary is the worktray binary built once for the tests that run real processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wtbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "worktray")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = ".." // the module root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building worktray: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutine leak: %v\n", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// shortTempDir returns a temporary directory with a short path (a unix socket path is limited to
// 108 bytes).
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wtcli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fakeScraper returns what the test sets; by default it blocks until released or canceled.
type fakeScraper struct {
	mu      sync.Mutex
	outcome func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error)
	started chan uint64
}

func (f *fakeScraper) set(fn func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error)) {
	f.mu.Lock()
	f.outcome = fn
	f.mu.Unlock()
}

func (f *fakeScraper) Scrape(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	f.mu.Lock()
	fn := f.outcome
	f.mu.Unlock()
	if req.Progress != nil {
		req.Progress(scheduler.Progress{Stage: scheduler.StageLogin, Percent: 10})
		req.Progress(scheduler.Progress{Stage: scheduler.StageList, Page: 1, Pages: 2, Orders: 25, Percent: 50})
	}
	select {
	case f.started <- req.RunID:
	default:
	}
	if fn != nil {
		return fn(ctx, req)
	}
	<-ctx.Done()
	return scheduler.ScrapeResult{}, ctx.Err()
}

// inProcessOwner is a real store, scheduler and control server in this process with a fake
// scraper, on the paths of a data directory, so that Main can be run against it.
type inProcessOwner struct {
	dir string
	svc *scheduler.Service
	scr *fakeScraper
}

func startInProcessOwner(t *testing.T) *inProcessOwner {
	t.Helper()
	return startInProcessOwnerWith(t, control.Hooks{})
}

// startInProcessOwnerWith is startInProcessOwner with the control server's hooks.
func startInProcessOwnerWith(t *testing.T, hooks control.Hooks) *inProcessOwner {
	t.Helper()
	return startInProcessOwnerWrapped(t, hooks, nil)
}

// startInProcessOwnerWrapped is startInProcessOwnerWith whose control server sees the scheduler
// through wrap (nil: as it is).
func startInProcessOwnerWrapped(t *testing.T, hooks control.Hooks, wrap func(*scheduler.Service) control.Scheduler) *inProcessOwner {
	t.Helper()
	dir := shortTempDir(t)
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	scr := &fakeScraper{started: make(chan uint64, 16)}
	svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: scr, Logger: log, Zone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	var sched control.Scheduler = svc
	if wrap != nil {
		sched = wrap(svc)
	}
	srv, err := control.NewServer(control.Config{Scheduler: sched, Store: db, Logger: log, Hooks: hooks,
		Owner: control.OwnerInfo{PID: os.Getpid(), Started: time.Now().UTC(), Headless: true}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := control.Listen(p.Socket, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = svc.Run(ctx) }()
	go func() { defer wg.Done(); _ = srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := db.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		db.Close()
	})
	// Wait for the scheduler's first check (it saves the cursor) and for the socket.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		st, err := db.State()
		_, serr := os.Stat(p.Socket)
		if err == nil && !st.Cursor.IsZero() && serr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the owner did not start")
		}
	}
	return &inProcessOwner{dir: dir, svc: svc, scr: scr}
}

// result is what a command printed and its exit code.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runMain runs a command in this process against the data directory dir.
func runMain(ctx context.Context, dir, cmd string, args ...string) result {
	var out, errb bytes.Buffer
	code := Main(ctx, cmd, append(args, "--data-dir", dir), IO{In: bytes.NewReader(nil), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
