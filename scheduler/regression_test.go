package scheduler_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
	"worktray/store"
)

// TestScheduleChangeKeepsOverdueSlot: a schedule change while a slot is overdue (a manual run
// holds the single flight) keeps the slot owed: it runs once the flight is free.
func TestScheduleChangeKeepsOverdueSlot(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute) // 10:30: the slot fires while the manual run holds the flight
	eventually(t, "overdue", func() bool { return h.svc.Snapshot().Overdue() })
	h.advance(time.Minute)
	sc := hourlyUTC(30)
	sc.Retries = 3 // an unrelated field
	if err := h.svc.UpdateSchedule(sc); err != nil {
		t.Fatal(err)
	}
	h.scr.set(func(f *fakeScraper) { f.block = nil })
	close(block)
	eventually(t, "the 10:30 slot to run or be recorded missed after a schedule change", func() bool {
		_, err := h.db.RunBySlot(mustTime("2026-06-01T10:30:00Z"))
		return err == nil
	})
}

// TestResumeWhenNotPausedKeepsOverdueSlot: Resume while not paused keeps an overdue slot owed.
func TestResumeWhenNotPausedKeepsOverdueSlot(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	eventually(t, "overdue", func() bool { return h.svc.Snapshot().Overdue() })
	if err := h.svc.Resume(); err != nil {
		t.Fatal(err)
	}
	h.scr.set(func(f *fakeScraper) { f.block = nil })
	close(block)
	eventually(t, "the 10:30 slot to run after Resume (not paused)", func() bool {
		_, err := h.db.RunBySlot(mustTime("2026-06-01T10:30:00Z"))
		return err == nil
	})
}

// TestScheduleChangeAfterSuspendRecordsMissed: after a suspend, saving the settings before the
// next wall-clock tick still records the missed slots and catches up.
func TestScheduleChangeAfterSuspendRecordsMissed(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	h.skew.Store(int64(2 * time.Hour)) // wall clock 12:00, timers still at 10:00
	sc := hourlyUTC(30)
	sc.Retries = 3
	if err := h.svc.UpdateSchedule(sc); err != nil {
		t.Fatal(err)
	}
	rs := h.waitRuns(2)
	if rs[0].Status != scheduler.StatusMissed || len(rs[0].MissedSlots) != 1 || rs[0].MissedSlots[0].Format("15:04") != "10:30" {
		t.Fatalf("first record %+v, want 10:30 recorded missed", rs[0])
	}
	if rs[1].Trigger != scheduler.TriggerCatchUp || rs[1].Slot.Format("15:04") != "11:30" {
		t.Fatalf("second record %+v, want the 11:30 slot caught up", rs[1])
	}
}

// TestPausedTicksDoNotWrite: while paused the wall-clock check does not write the store on each
// tick.
type countingStore struct {
	*store.DB
	updates atomic.Int32
}

func (c *countingStore) UpdateState(fn func(*scheduler.State) error) (scheduler.State, error) {
	c.updates.Add(1)
	return c.DB.UpdateState(fn)
}

func TestPausedTicksDoNotWrite(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	defer db.Close()
	_ = db.SaveSchedule(hourlyUTC(30))
	cs := &countingStore{DB: db}
	fc := clockwork.NewFakeClockAt(mustTime("2026-06-01T10:00:00Z"))
	svc, err := scheduler.New(scheduler.Config{Store: cs, Scraper: &fakeScraper{}, Clock: fc, CheckInterval: checkInterval})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	_ = fc.BlockUntilContext(ctx, 2)
	if err := svc.Pause(); err != nil {
		t.Fatal(err)
	}
	_ = fc.BlockUntilContext(ctx, 1)
	before := cs.updates.Load()
	for range 10 {
		c := svc.Checks()
		fc.Advance(checkInterval)
		eventually(t, "the check", func() bool { return svc.Checks() > c })
	}
	after := cs.updates.Load()
	cancel()
	<-done
	if after-before > 1 {
		t.Fatalf("%d bbolt write transactions (with fsync) in 10 ticks while paused", after-before)
	}
}

// TestRetryLateAfterSuspendIsDropped: a retry whose timer fires after a suspend, past the next
// slot, is dropped; the slot runs instead.
func TestRetryLateAfterSuspendIsDropped(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:05Z"), hourlyUTC(30), time.Time{})
	h.scr.set(func(f *fakeScraper) { f.err = &scheduler.RunError{Class: scheduler.ClassPortalError, Msg: "HTTP 500"} })
	h.start(2)
	h.advance(55 * time.Second) // 10:30:00: the slot fires and fails
	h.waitRuns(1)
	h.waitTimers(3)                                             // tick, slot, retry at 10:32:00
	h.advance(mustTime("2026-06-01T10:31:55Z").Sub(h.fc.Now())) // last tick at 10:31:45
	h.waitTimers(3)
	h.skew.Store(int64(75 * time.Minute)) // suspend: wall 11:46:55, timers at 10:31:55
	h.advance(5 * time.Second)            // the retry timer fires before the tick
	h.waitTimers(2)
	h.advance(checkInterval) // the tick sees the 11:30 slot
	rs := h.waitRuns(2)
	for _, r := range rs {
		t.Logf("run %d trigger=%s status=%s slot=%s started=%s", r.ID, r.Trigger, r.Status, r.Slot.Format("15:04"), r.Started.Format("15:04:05"))
	}
	if r := rs[1]; r.Trigger == scheduler.TriggerRetry || r.Slot.Format("15:04") != "11:30" {
		t.Fatalf("after the suspend %+v, want the 11:30 slot and no late retry of 10:30", r)
	}
}

type flakyClaim struct {
	*store.DB
	fail atomic.Bool
}

func (f *flakyClaim) ClaimRun(r scheduler.Run) (scheduler.Run, error) {
	if f.fail.CompareAndSwap(true, false) {
		return scheduler.Run{}, errors.New("disk I/O error")
	}
	return f.DB.ClaimRun(r)
}

// A transient store error on the claim: the run goes on and is recorded for its slot when it
// ends; the storage error clears.
func TestClaimErrorKeepsSlotOwed(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	defer db.Close()
	_ = db.SaveSchedule(hourlyUTC(30))
	fs := &flakyClaim{DB: db}
	fs.fail.Store(true)
	fc := clockwork.NewFakeClockAt(mustTime("2026-06-01T10:29:00Z"))
	svc, err := scheduler.New(scheduler.Config{Store: fs, Scraper: &fakeScraper{orders: makeOrders(2)}, Clock: fc, CheckInterval: checkInterval})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	_ = fc.BlockUntilContext(ctx, 2)
	fc.Advance(time.Minute) // 10:30: the claim fails once; the run goes on unrecorded
	eventually(t, "the 10:30 slot recorded after one failed claim", func() bool {
		_, err := db.RunBySlot(mustTime("2026-06-01T10:30:00Z"))
		return err == nil && svc.Snapshot().Running == nil
	})
	cancel()
	<-done
	if snap := svc.Snapshot(); snap.StorageError != "" || snap.Unrecorded != 0 {
		t.Fatalf("storage error %q unrecorded %d once the run was recorded", snap.StorageError, snap.Unrecorded)
	}
}
