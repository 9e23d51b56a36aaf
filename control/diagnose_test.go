package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// wallClock is a wall clock the test moves forward while the scheduler's timers stand still, as
// on a laptop that wakes up after a slot passed.
type wallClock struct{ offset atomic.Int64 }

func (w *wallClock) now() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }

// overdueHarness is a harness whose wall clock the test moves, with its next slot about half an
// hour away so that no real timer fires during the test, and no tick.
func overdueHarness(t *testing.T) (*harness, *wallClock) {
	t.Helper()
	wc := &wallClock{}
	h := newHarnessWith(t, Hooks{}, func(c *scheduler.Config) {
		c.Now = wc.now
		c.CheckInterval = time.Hour
	})
	sc := h.svc.Schedule()
	sc.Minute = (time.Now().In(sc.Location()).Minute() + 30) % 60
	if err := h.svc.UpdateSchedule(sc); err != nil {
		t.Fatal(err)
	}
	return h, wc
}

// jumpPastNextSlot moves the wall clock five minutes past the next slot (within the grace
// period) and returns the slot.
func jumpPastNextSlot(t *testing.T, h *harness, wc *wallClock) time.Time {
	t.Helper()
	slot := h.svc.Snapshot().Next
	if slot.IsZero() {
		t.Fatal("no next slot")
	}
	wc.offset.Store(int64(time.Until(slot) + 5*time.Minute))
	return slot
}

func catchUpCheck(d Diagnosis) (Check, bool) {
	for _, c := range d.Checks {
		if c.Name == "catch-up" {
			return c, true
		}
	}
	return Check{}, false
}

// TestDiagnoseFixClaimsTheOverdueSlot: `diagnose --fix` starts the overdue slot itself (claimed),
// not a manual run beside it, so the slot does not run again afterwards, and it says so.
func TestDiagnoseFixClaimsTheOverdueSlot(t *testing.T) {
	h, wc := overdueHarness(t)
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{EmptyState: true}, nil
	})
	slot := jumpPastNextSlot(t, h, wc)
	if snap := h.svc.Snapshot(); !snap.Overdue() || !snap.OverdueSlot.Equal(slot) {
		t.Fatalf("the slot is not overdue: %+v", snap)
	}
	d, err := h.client.Diagnose(ctxT(t), true)
	if err != nil {
		t.Fatal(err)
	}
	id := h.waitStarted()
	h.waitIdle()
	rec, err := h.db.RunBySlot(slot)
	if err != nil || rec.ID != id {
		t.Fatalf("the overdue slot's record: %+v, %v; want the run %d that --fix started", rec, err, id)
	}
	want := fmt.Sprintf("started run %d for the overdue %s slot", id, slot.Format(time.RFC3339))
	if len(d.Fixed) != 1 || !strings.Contains(d.Fixed[0], want) {
		t.Errorf("Fixed = %q, want %q", d.Fixed, want)
	}
	if c, ok := catchUpCheck(d); ok {
		t.Errorf("unexpected catch-up check: %+v", c)
	}
	// The next check finds nothing owed: the slot ran once.
	if run, err := h.svc.CheckNow(); err != nil || run != nil {
		t.Fatalf("CheckNow after the catch-up: %+v, %v", run, err)
	}
	h.waitIdle()
	runs, err := h.db.Runs(store.RunQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Errorf("%d runs, want the slot's only:", len(runs))
		for _, r := range runs {
			t.Logf("run %d %s slot %s %s", r.ID, r.Trigger, r.Slot.Format(time.RFC3339), r.Status)
		}
	}
	if snap := h.svc.Snapshot(); snap.Overdue() {
		t.Errorf("still overdue: %+v", snap)
	}
}

// TestDiagnoseFixWhileARunIsInProgress: with another run in progress the overdue slot cannot
// start; --fix says it is still waiting for that run (and repairs nothing), and the slot starts
// when the run ends.
func TestDiagnoseFixWhileARunIsInProgress(t *testing.T) {
	h, wc := overdueHarness(t)
	manual := h.scrape()
	slot := jumpPastNextSlot(t, h, wc)
	// The wall-clock tick notices the slot while the manual run holds the single flight.
	if run, err := h.svc.CheckNow(); err != nil || run == nil || run.ID != manual.ID {
		t.Fatalf("CheckNow = %+v, %v; want the manual run %d", run, err, manual.ID)
	}
	if snap := h.svc.Snapshot(); !snap.Overdue() || !snap.OverdueSlot.Equal(slot) {
		t.Fatalf("the slot is not overdue: %+v", snap)
	}
	d, err := h.client.Diagnose(ctxT(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Fixed) != 0 {
		t.Errorf("Fixed = %q, want nothing: the slot did not start", d.Fixed)
	}
	c, ok := catchUpCheck(d)
	want := fmt.Sprintf("the overdue %s slot is still waiting: run %d is in progress", slot.Format(time.RFC3339), manual.ID)
	if !ok || c.Status != CheckWarn || !strings.Contains(c.Detail, want) {
		t.Errorf("catch-up check = %+v, want a warning %q", c, want)
	}
	if _, err := h.db.RunBySlot(slot); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("the slot has a record already: %v", err)
	}
	// The slot starts as soon as the manual run ends.
	if err := h.client.Cancel(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	id := h.waitStarted()
	if rec, err := h.db.RunBySlot(slot); err != nil || rec.ID != id {
		t.Errorf("after the manual run the slot's record is %+v, %v; want run %d", rec, err, id)
	}
}

// TestSchedulerNotStartedIs503: a command the scheduler cannot take while it is not running is
// answered 503 code unavailable, which the client turns back into scheduler.ErrNotStarted.
func TestSchedulerNotStartedIs503(t *testing.T) {
	dir := shortTempDir(t)
	db, err := store.Open(filepath.Join(dir, "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: newFakeScraper(), Logger: log, Zone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Scheduler: svc, Store: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/scrape", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
		t.Errorf("POST /api/scrape before the scheduler runs: %d %s", rec.Code, rec.Body)
	}

	sock := filepath.Join(dir, "run", "control.sock")
	l, err := Listen(sock, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	c := NewClient(sock)
	defer c.Close()
	_, err = c.Scrape(ctxT(t))
	var e *Error
	if !errors.Is(err, scheduler.ErrNotStarted) || !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable {
		t.Errorf("Scrape before the scheduler runs: %v, want 503 matching scheduler.ErrNotStarted", err)
	}
}
