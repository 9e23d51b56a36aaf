package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// invariant reports why the liveness invariant does not hold now ("" when it does): while the
// schedule is enabled and not paused, a live timer is armed for the next slot, or the service
// shows stuck with a reason.
func (h *harness) invariant() string {
	snap := h.svc.Snapshot()
	if snap.Paused || !snap.Schedule.Enabled || snap.Stuck != "" {
		return ""
	}
	next := snap.Schedule.Next(h.now())
	slot, ok := h.svc.ArmedTimer()
	if ok && slot.Equal(next) && snap.Armed.Equal(next) {
		return ""
	}
	return fmt.Sprintf("enabled, not paused, not stuck, next slot %s, but armed %s (timer live: %v)",
		next.Format(time.RFC3339), slot.Format(time.RFC3339), ok)
}

// waitInvariant waits until the invariant holds (the effects of a step are asynchronous).
func (h *harness) waitInvariant(what string) {
	h.t.Helper()
	var why string
	eventually(h.t, "the liveness invariant "+what, func() bool {
		why = h.invariant()
		return why == ""
	}, func() string { return why })
}

// tick advances the timers by one check interval and waits until the check and the watchdog
// have both handled it.
func (h *harness) tick() {
	h.t.Helper()
	c, w := h.svc.Checks(), h.svc.Watched()
	h.waitTimers(1)
	h.advance(checkInterval)
	eventually(h.t, "the check and the watchdog", func() bool {
		return h.svc.Checks() > c && h.svc.Watched() > w
	})
}

// TestWeeklySlotInGapKeepsRunning: "every hour at :30, active 02–03, Sundays" in New York. On
// the spring-forward Sunday the 02:30 slot does not exist; the next slot is the next Sunday,
// it is armed, shown, and it runs.
func TestWeeklySlotInGapKeepsRunning(t *testing.T) {
	sc := scheduler.DefaultSchedule("America/New_York")
	sc.Weekdays, sc.ActiveFrom, sc.ActiveTo, sc.Minute = []time.Weekday{time.Sunday}, 2, 3, 30
	h := newHarness(t, mustTime("2026-03-07T12:00:00Z"), sc, time.Time{})
	h.start(2)
	want := mustTime("2026-03-15T06:30:00Z") // Sunday 02:30 EDT, a week after the gap
	if snap := h.svc.Snapshot(); !snap.Next.Equal(want) || !snap.Armed.Equal(want) || snap.Stuck != "" {
		t.Fatalf("next %v armed %v stuck %q, want %v armed and not stuck", snap.Next, snap.Armed, snap.Stuck, want)
	}
	h.waitInvariant("at start")
	// Walk through the gap Sunday hour by hour: nothing runs, nothing is missed.
	for h.now().Before(mustTime("2026-03-08T12:00:00Z")) {
		h.advance(time.Hour)
		h.waitInvariant("across the gap")
	}
	if n := len(h.runs()); n != 0 {
		t.Fatalf("%d records across the gap, want none", n)
	}
	h.advance(want.Sub(h.now()))
	rs := h.waitRuns(1)
	if !rs[0].Slot.Equal(want) || rs[0].Status != scheduler.StatusSucceeded {
		t.Fatalf("run %+v, want the %v slot", rs[0], want)
	}
	h.waitInvariant("after the run")
	if got := h.svc.Snapshot().Next; !got.Equal(mustTime("2026-03-22T06:30:00Z")) {
		t.Fatalf("next after the run %v", got)
	}
}

// TestWatchdogShowsStuckAndRepairs: a slot timer lost behind the service's back is found by
// the watchdog, not by the check (which believes it armed): the service shows stuck with the
// reason, publishes it, queues an alert, re-arms, and is no longer stuck at the next tick.
func TestWatchdogShowsStuckAndRepairs(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	h.waitInvariant("at start")
	if !h.svc.DropSlotTimer() {
		t.Fatal("no slot timer to drop")
	}
	h.tick() // the check does not see it; the watchdog sees it once
	if snap := h.svc.Snapshot(); snap.Stuck != "" {
		t.Fatalf("stuck after one watchdog tick (%q); it waits for a second one", snap.Stuck)
	}
	h.tick()
	snap := h.svc.Snapshot()
	if !strings.Contains(snap.Stuck, "is gone") || snap.StuckSince.IsZero() {
		t.Fatalf("stuck %q since %v, want the lost timer named", snap.Stuck, snap.StuckSince)
	}
	if ev := h.waitEvent(scheduler.EventStuck); ev.Message == "" {
		t.Fatalf("stuck event without a reason: %+v", ev)
	}
	alerts, err := h.db.PendingAlerts(10)
	if err != nil || len(alerts) != 1 || alerts[0].Kind != scheduler.AlertStuck || !strings.Contains(alerts[0].Message, "is gone") {
		t.Fatalf("outbox %+v, %v; want one stuck alert naming the reason", alerts, err)
	}
	h.waitInvariant("after the repair")
	if slot, ok := h.svc.ArmedTimer(); !ok || !slot.Equal(mustTime("2026-06-01T10:30:00Z")) {
		t.Fatalf("after the repair armed %v (%v)", slot, ok)
	}
	h.tick()
	if snap := h.svc.Snapshot(); snap.Stuck != "" {
		t.Fatalf("still stuck after the repair: %q", snap.Stuck)
	}
	// The repaired timer fires.
	h.advance(mustTime("2026-06-01T10:30:00Z").Sub(h.now()))
	if rs := h.waitRuns(1); !rs[0].Slot.Equal(mustTime("2026-06-01T10:30:00Z")) {
		t.Fatalf("run %+v", rs[0])
	}
}

// waitEvent returns the next event of kind, skipping others.
func (h *harness) waitEvent(kind scheduler.EventKind) scheduler.Event {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-h.sub.C:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			h.t.Fatalf("no %s event", kind)
		}
	}
}

// blockingState is a store whose state writes block while armed: a check stuck on the disk.
type blockingState struct {
	*store.DB
	block   atomic.Bool
	release chan struct{}
}

func (b *blockingState) UpdateState(fn func(*scheduler.State) error) (scheduler.State, error) {
	if b.block.Load() {
		<-b.release
	}
	return b.DB.UpdateState(fn)
}

// TestWatchdogSeesAHungCheck: a check that hangs (its store write never returns) leaves the
// next slot unhandled; the watchdog, on its own goroutine, shows the service stuck.
func TestWatchdogSeesAHungCheck(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	bs := &blockingState{DB: h.db, release: make(chan struct{})}
	h.store = bs
	h.start(2)
	bs.block.Store(true)
	released := false
	defer func() {
		if !released {
			close(bs.release)
		}
	}()
	h.scr.set(func(f *fakeScraper) { f.err = errors.New("HTTP 500") }) // the failure's state write hangs
	h.advance(time.Minute)
	for range 4 {
		w := h.svc.Watched()
		h.advance(checkInterval)
		eventually(t, "the watchdog", func() bool { return h.svc.Watched() > w })
	}
	if snap := h.svc.Snapshot(); !strings.Contains(snap.Stuck, "has not completed") {
		t.Fatalf("stuck %q, want the hung check named", snap.Stuck)
	}
	close(bs.release)
	released = true
	bs.block.Store(false)
	eventually(t, "the stuck state to clear", func() bool {
		w := h.svc.Watched()
		h.advance(checkInterval)
		eventually(t, "the watchdog", func() bool { return h.svc.Watched() > w })
		return h.svc.Snapshot().Stuck == ""
	})
}

// TestWakeUpCheckSurvivesWallClockSetBack: the wall clock is set back one hour, then the laptop
// sleeps three hours; the slots that passed are noticed within one check interval. (A check
// timed on the wall clock would wait an hour more.)
func TestWakeUpCheckSurvivesWallClockSetBack(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	h.tick()
	h.skew.Add(int64(-time.Hour)) // wall 09:00:20
	h.tick()
	h.skew.Add(int64(3 * time.Hour)) // asleep until wall 12:00:40; the timers stood still
	h.tick()
	rs := h.waitRuns(2)
	// The clock set back makes 09:30 come again: with 10:30 it passed in the sleep.
	if rs[0].Status != scheduler.StatusMissed || rs[0].Message != "2 slots missed, 09:30–10:30" {
		t.Fatalf("first record %+v, want 09:30 and 10:30 missed", rs[0])
	}
	if d := rs[0].Started.Sub(mustTime("2026-06-01T12:00:40Z")); d > checkInterval {
		t.Fatalf("noticed %v after the wake-up, want within one check interval", d)
	}
	if !rs[1].Slot.Equal(mustTime("2026-06-01T11:30:00Z")) || rs[1].Trigger != scheduler.TriggerCatchUp {
		t.Fatalf("second record %+v, want 11:30 caught up", rs[1])
	}
	h.waitInvariant("after the sleep")
}

// TestWallClockAheadThenCorrectedDoesNotSkipSlots: the wall clock runs three hours ahead, so
// slots look missed; when it is corrected back, those slots whose real time has not come are no
// longer missed, and they run at their time.
func TestWallClockAheadThenCorrectedDoesNotSkipSlots(t *testing.T) {
	sc := hourlyUTC(30)
	sc.GraceMinutes = 30
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), sc, time.Time{})
	h.start(2)
	h.skew.Store(int64(3 * time.Hour)) // wall 13:00, real 10:00
	h.tick()
	rs := h.waitRuns(2)
	if rs[0].Status != scheduler.StatusMissed || len(rs[0].MissedSlots) != 3 {
		t.Fatalf("while ahead: %+v, want 10:30–12:30 missed", rs[0])
	}
	h.skew.Store(0) // corrected: real 10:00:40
	h.tick()
	if _, err := h.db.Run(rs[0].ID); err == nil {
		t.Fatalf("the missed record of slots that had not come is still there")
	}
	for _, sl := range []string{"2026-06-01T10:30:00Z", "2026-06-01T11:30:00Z", "2026-06-01T12:30:00Z"} {
		if claimed, err := h.db.SlotClaimed(mustTime(sl)); err != nil || claimed {
			t.Fatalf("slot %s claimed %v (%v) after the correction, want free", sl, claimed, err)
		}
	}
	h.waitInvariant("after the correction")
	h.advance(mustTime("2026-06-01T10:30:00Z").Sub(h.now()))
	rs = h.waitRuns(2) // the early catch-up, then 10:30 at its time
	if r := rs[1]; !r.Slot.Equal(mustTime("2026-06-01T10:30:00Z")) || r.Trigger != scheduler.TriggerScheduled {
		t.Fatalf("at 10:30: %+v, want the 10:30 slot run at its time", r)
	}
}

// hangingScraper ignores its context until released: a browser that hangs.
type hangingScraper struct {
	release chan struct{}
	calls   atomic.Int32
	hang    atomic.Bool
}

func (s *hangingScraper) Scrape(ctx context.Context, _ scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	s.calls.Add(1)
	if s.hang.Load() {
		<-s.release
		return scheduler.ScrapeResult{}, errors.New("released")
	}
	return scheduler.ScrapeResult{Orders: makeOrders(2)}, nil
}

// TestRunDeadlineAbandonsAHangingScraper: a scraper that ignores its context is abandoned at
// the run's deadline: the run is a timeout, the single flight is free, the next slot runs, and
// shutdown does not wait for it beyond the stop timeout.
func TestRunDeadlineAbandonsAHangingScraper(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	hs := &hangingScraper{release: make(chan struct{})}
	defer close(hs.release) // the abandoned goroutines end with the test
	hs.hang.Store(true)
	h.scraper = hs
	h.runTimeout, h.abandonAfter, h.stopTimeout = 100*time.Millisecond, 50*time.Millisecond, time.Second
	h.start(2)
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := h.waitRuns(1)
	if rs[0].Status != scheduler.StatusFailed || rs[0].ErrorClass != scheduler.ClassTimeout {
		t.Fatalf("hanging run %+v, want failed with timeout", rs[0])
	}
	hs.hang.Store(false)
	h.advance(30 * time.Minute) // 10:30
	rs = h.waitRuns(2)
	if !rs[1].Slot.Equal(mustTime("2026-06-01T10:30:00Z")) || rs[1].Status != scheduler.StatusSucceeded {
		t.Fatalf("next slot %+v, want it run", rs[1])
	}
	// Shutdown with a hanging run in progress returns.
	hs.hang.Store(true)
	h.runTimeout = time.Hour
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run", func() bool { return hs.calls.Load() == 3 })
	h.stop() // fails the test if Run does not return
}

// TestShutdownDoesNotWaitBeyondStopTimeout: a scraper that ignores its context and is not yet
// abandoned does not hold shutdown beyond the stop timeout.
func TestShutdownDoesNotWaitBeyondStopTimeout(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	hs := &hangingScraper{release: make(chan struct{})}
	defer close(hs.release)
	hs.hang.Store(true)
	h.scraper = hs
	h.abandonAfter, h.stopTimeout = time.Hour, 200*time.Millisecond
	h.start(2)
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run", func() bool { return hs.calls.Load() == 1 })
	h.stop() // fails the test if Run does not return
	if rs := h.runs(); len(rs) != 1 || rs[0].Status != scheduler.StatusRunning {
		t.Fatalf("records %+v, want the abandoned run still running (interrupted at the next start)", rs)
	}
}

// TestScheduleChangeKeepsOverdueSlotTheNewScheduleLacks: a slot overdue while a manual run holds
// the single flight stays owed when the schedule changes to one without it: it runs as a
// catch-up when the flight is free.
func TestScheduleChangeKeepsOverdueSlotTheNewScheduleLacks(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	eventually(t, "overdue", func() bool { return h.svc.Snapshot().Overdue() })
	if err := h.svc.UpdateSchedule(hourlyUTC(45)); err != nil { // no slot at :30 any more
		t.Fatal(err)
	}
	h.scr.set(func(f *fakeScraper) { f.block = nil })
	close(block)
	rs := h.waitRuns(2)
	if r := rs[1]; !r.Slot.Equal(mustTime("2026-06-01T10:30:00Z")) || r.Status != scheduler.StatusSucceeded {
		t.Fatalf("after the change %+v, want the 10:30 slot run", r)
	}
	eventually(t, "nothing owed once the slot ran", func() bool { st, _ := h.db.State(); return len(st.Owed) == 0 })
	h.waitInvariant("after the change")
}

// TestEnablingADisabledScheduleOwesNothing: a schedule disabled for three days and enabled again
// (by the owner, or by the command line while no owner runs) owes no slot of that time.
func TestEnablingADisabledScheduleOwesNothing(t *testing.T) {
	for _, viaStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "owner", true: "command line"}[viaStore], func(t *testing.T) {
			h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
			h.start(2)
			off := hourlyUTC(30)
			off.Enabled = false
			if err := h.svc.UpdateSchedule(off); err != nil {
				t.Fatal(err)
			}
			if viaStore {
				h.stop()
			}
			h.advance(71 * time.Hour)
			if viaStore {
				if err := h.db.SaveSchedule(hourlyUTC(30)); err != nil {
					t.Fatal(err)
				}
				h.start(2)
			} else if err := h.svc.UpdateSchedule(hourlyUTC(30)); err != nil {
				t.Fatal(err)
			}
			h.tick()
			if rs := h.runs(); len(rs) != 0 {
				t.Fatalf("enabling owed %d records: %+v", len(rs), rs[0])
			}
			if snap := h.svc.Snapshot(); snap.Overdue() || snap.LastMissed != nil {
				t.Fatalf("overdue %v missed %+v after enabling", snap.OverdueSlot, snap.LastMissed)
			}
			h.waitInvariant("after enabling")
		})
	}
}

// TestGraceLongerThanIntervalIsNotMissed: with 90 minutes of grace on an hourly schedule, a
// slot 75 minutes late is not missed: the 10:30 run stands for it.
func TestGraceLongerThanIntervalIsNotMissed(t *testing.T) {
	sc := hourlyUTC(30)
	sc.GraceMinutes = 90
	h := newHarness(t, mustTime("2026-06-01T10:45:00Z"), sc, mustTime("2026-06-01T09:00:00Z"))
	h.start(2)
	rs := h.waitRuns(1)
	r := rs[0]
	if r.Status != scheduler.StatusSucceeded || !r.Slot.Equal(mustTime("2026-06-01T10:30:00Z")) ||
		len(r.CoveredSlots) != 1 || !r.CoveredSlots[0].Equal(mustTime("2026-06-01T09:30:00Z")) {
		t.Fatalf("run %+v, want 10:30 run standing for 09:30", r)
	}
	if got, err := h.db.RunBySlot(mustTime("2026-06-01T09:30:00Z")); err != nil || got.ID != r.ID {
		t.Fatalf("09:30 claimed by %+v, %v", got, err)
	}
}

// TestPendingRetrySurvivesRestart: a failed slot's retry, armed for 10:32, still runs when the
// owner restarts at 10:31.
func TestPendingRetrySurvivesRestart(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	h.scr.set(func(f *fakeScraper) { f.err = &scheduler.RunError{Class: scheduler.ClassPortalError, Msg: "HTTP 500"} })
	h.start(2)
	h.advance(time.Minute)
	h.waitRuns(1)
	h.waitTimers(3)
	h.stop()
	if st, _ := h.db.State(); st.Retry == nil || st.Retry.Attempt != 2 || !st.Retry.At.Equal(mustTime("2026-06-01T10:32:00Z")) {
		t.Fatalf("saved retry %+v, want attempt 2 at 10:32", st.Retry)
	}
	h.advance(time.Minute) // down for a minute
	h.scr.set(func(f *fakeScraper) { f.err = nil })
	h.start(3) // tick, slot, and the restored retry
	if snap := h.svc.Snapshot(); !snap.RetryAt.Equal(mustTime("2026-06-01T10:32:00Z")) {
		t.Fatalf("retry at %v after the restart", snap.RetryAt)
	}
	h.advance(time.Minute)
	rs := h.waitRuns(2)
	if r := rs[1]; r.Trigger != scheduler.TriggerRetry || r.Attempt != 2 || r.Status != scheduler.StatusSucceeded {
		t.Fatalf("after the restart %+v, want the second attempt", r)
	}
	if st, _ := h.db.State(); st.Retry != nil {
		t.Fatalf("retry %+v still saved after it ran", st.Retry)
	}
}

// TestInterruptedSlotRetriedAtStartIsNotOverdue: a slot whose run was interrupted, retried at
// start, is not shown overdue while the retry runs, nor after.
func TestInterruptedSlotRetriedAtStartIsNotOverdue(t *testing.T) {
	slot := mustTime("2026-06-01T10:30:00Z")
	h := newHarness(t, slot.Add(time.Minute), hourlyUTC(30), mustTime("2026-06-01T10:00:00Z"))
	// A process that died mid-run left the slot claimed and its run "running"; the cursor
	// was never moved past the slot.
	if _, err := h.db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: slot, Attempt: 1,
		Started: slot, Status: scheduler.StatusRunning, PID: 999999}); err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	eventually(t, "the retry", func() bool { return h.svc.Snapshot().Running != nil })
	for range 3 {
		if snap := h.svc.Snapshot(); snap.Overdue() {
			t.Fatalf("overdue %v while its retry runs", snap.OverdueSlot)
		}
		h.tick()
	}
	close(block)
	rs := h.waitRuns(2)
	if rs[1].Trigger != scheduler.TriggerRetry || !rs[1].Slot.Equal(slot) {
		t.Fatalf("retry %+v", rs[1])
	}
	if snap := h.svc.Snapshot(); snap.Overdue() {
		t.Fatalf("overdue %v after its retry", snap.OverdueSlot)
	}
}

// TestPruningNeitherReopensNorBlocksSlots: the rule of store.PruneRuns. After slots ran and
// others were recorded missed, the history is pruned to one record and the wall clock moves
// back over them: none runs again; and new slots are still claimed and recorded, also missed
// ones next to pruned claims.
func TestPruningNeitherReopensNorBlocksSlots(t *testing.T) {
	sc := hourlyUTC(30)
	sc.GraceMinutes = 30
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), sc, time.Time{})
	h.start(2)
	for i, slot := range []string{"2026-06-01T10:30:00Z", "2026-06-01T11:30:00Z", "2026-06-01T12:30:00Z"} {
		h.advance(mustTime(slot).Sub(h.now()))
		h.waitRuns(i + 1)
		h.waitInvariant("while running slots")
	}
	h.skew.Store(int64(2*time.Hour + 30*time.Minute)) // asleep: 13:30 and 14:30 missed, 15:00 wall
	h.tick()
	h.waitRuns(5) // missed record + catch-up
	if n, err := h.db.PruneRuns(1); err != nil || n != 4 {
		t.Fatalf("pruned %d, %v; want 4", n, err)
	}
	calls := h.scr.calls.Load()
	h.skew.Store(int64(-2*time.Hour - 30*time.Minute)) // the wall clock goes back to 10:00
	h.tick()
	for end := mustTime("2026-06-01T15:20:00Z"); h.now().Before(end); {
		h.advance(min(30*time.Minute, end.Sub(h.now())))
		h.waitInvariant("while the clock replays the pruned slots")
	}
	h.tick()
	if got := h.scr.calls.Load(); got != calls {
		t.Fatalf("%d scrapes for slots whose records were pruned, want none", got-calls)
	}
	// New slots are claimed and recorded: 15:30 runs; 16:30 and 17:30 are missed in a sleep.
	h.advance(mustTime("2026-06-01T15:30:00Z").Sub(h.now()))
	eventually(t, "15:30", func() bool { _, err := h.db.RunBySlot(mustTime("2026-06-01T15:30:00Z")); return err == nil })
	h.skew.Add(int64(2*time.Hour + 30*time.Minute))
	h.tick()
	eventually(t, "16:30 recorded missed", func() bool {
		r, err := h.db.RunBySlot(mustTime("2026-06-01T16:30:00Z"))
		return err == nil && r.Status == scheduler.StatusMissed
	})
	h.waitInvariant("at the end")
}

// failingStore is the real store with writes that fail while fail is set, as on a full disk.
type failingStore struct {
	*store.DB
	fail atomic.Bool
	// big makes only the writes of a run's outcome with its work orders fail, as on a disk
	// with room left for a small record but not for the orders.
	big  atomic.Bool
	mu   sync.Mutex
	errs int
}

var errDiskFull = errors.New("write worktray.db: no space left on device")

func (f *failingStore) failed() error {
	if !f.fail.Load() {
		return nil
	}
	f.mu.Lock()
	f.errs++
	f.mu.Unlock()
	return errDiskFull
}

func (f *failingStore) ClaimRun(r scheduler.Run) (scheduler.Run, error) {
	if err := f.failed(); err != nil {
		return scheduler.Run{}, err
	}
	return f.DB.ClaimRun(r)
}

func (f *failingStore) FinishRun(r scheduler.Run, o []scheduler.Order, at time.Time,
	decide func(*scheduler.Run, scheduler.Diff, *scheduler.State) []scheduler.Alert) (scheduler.Run, scheduler.Diff, error) {
	if err := f.failed(); err != nil {
		return scheduler.Run{}, scheduler.Diff{}, err
	}
	if f.big.Load() && len(o) > 0 {
		return scheduler.Run{}, scheduler.Diff{}, errDiskFull
	}
	return f.DB.FinishRun(r, o, at, decide)
}

func (f *failingStore) UpdateState(fn func(*scheduler.State) error) (scheduler.State, error) {
	if err := f.failed(); err != nil {
		return scheduler.State{}, err
	}
	return f.DB.UpdateState(fn)
}

func (f *failingStore) EnqueueAlerts(a []scheduler.Alert) error {
	if err := f.failed(); err != nil {
		return err
	}
	return f.DB.EnqueueAlerts(a)
}

// TestStorageFailuresAreStorageFailedAndRecordedLater (issue 10): with the disk full, each slot
// still runs; its outcome is storage_failed, never portal_error; the snapshot says so and counts
// the runs that could not be recorded; once the disk has room they are recorded.
func TestStorageFailuresAreStorageFailedAndRecordedLater(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	fs := &failingStore{DB: h.db}
	h.store = fs
	h.start(2)
	fs.fail.Store(true)
	for i, slot := range []string{"2026-06-01T10:30:00Z", "2026-06-01T11:30:00Z", "2026-06-01T12:30:00Z"} {
		h.advance(mustTime(slot).Sub(h.now()))
		eventually(t, "the scrape of "+slot, func() bool {
			return int(h.scr.calls.Load()) == i+1 && h.svc.Snapshot().Running == nil
		})
		snap := h.svc.Snapshot()
		if snap.StorageError == "" || !strings.Contains(snap.StorageError, "no space left") || snap.Unrecorded != i+1 {
			t.Fatalf("after %s: storage error %q, unrecorded %d; want the error and %d", slot, snap.StorageError, snap.Unrecorded, i+1)
		}
		if lr := snap.LastRun; lr == nil || lr.ErrorClass != scheduler.ClassStorageFailed || lr.Status != scheduler.StatusFailed {
			t.Fatalf("last run %+v, want failed storage_failed", lr)
		}
		h.waitInvariant("with the disk full")
	}
	if n := len(h.runs()); n != 0 {
		t.Fatalf("%d records written to a full disk", n)
	}
	fs.fail.Store(false)
	h.tick()
	rs := h.waitRuns(3)
	for i, r := range rs {
		if r.Status != scheduler.StatusFailed || r.ErrorClass != scheduler.ClassStorageFailed || r.Slot.IsZero() {
			t.Fatalf("recorded run %d: %+v, want storage_failed for its slot", i, r)
		}
	}
	snap := h.svc.Snapshot()
	if snap.StorageError != "" || snap.Unrecorded != 0 {
		t.Fatalf("after recovery: storage error %q, unrecorded %d", snap.StorageError, snap.Unrecorded)
	}
	// The slots are claimed: none runs twice.
	for _, r := range rs {
		if claimed, _ := h.db.SlotClaimed(r.Slot); !claimed {
			t.Fatalf("slot %v not claimed after recovery", r.Slot)
		}
	}
}

// TestStorageErrorKeptWhileOnlySmallWritesFit: when a run's orders cannot be saved but its
// failure record (and the scheduler's cursor) can, the run is storage_failed and the snapshot's
// StorageError stays set through later small writes, until a run's outcome is saved again. A
// scrape that fails on the store by itself (class storage_failed) sets it too.
func TestStorageErrorKeptWhileOnlySmallWritesFit(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	fs := &failingStore{DB: h.db}
	h.store = fs
	h.scr.set(func(f *fakeScraper) { f.orders = makeOrders(5) })
	h.start(1)
	fs.big.Store(true)
	h.advance(mustTime("2026-06-01T10:30:00Z").Sub(h.now()))
	eventually(t, "the 10:30 scrape", func() bool {
		lr := h.svc.Snapshot().LastRun
		return lr != nil && lr.Slot.Equal(mustTime("2026-06-01T10:30:00Z")) && h.svc.Snapshot().Running == nil
	})
	check := func(when string) {
		t.Helper()
		snap := h.svc.Snapshot()
		if snap.StorageError == "" || !strings.Contains(snap.StorageError, "no space left") {
			t.Fatalf("%s: storage error %q; want the failure kept", when, snap.StorageError)
		}
		if lr := snap.LastRun; lr == nil || lr.ErrorClass != scheduler.ClassStorageFailed {
			t.Fatalf("%s: last run %+v, want storage_failed", when, lr)
		}
	}
	check("after the run whose orders could not be saved")
	if rs := h.runs(); len(rs) != 1 || rs[0].ErrorClass != scheduler.ClassStorageFailed {
		t.Fatalf("records %+v, want the one storage_failed run", rs)
	}
	// The cursor saves of later checks fit; they do not clear the error.
	h.advance(10 * time.Minute)
	h.tick()
	h.waitInvariant("after a cursor save")
	check("after the cursor was saved")

	// A scrape that fails on the store by itself keeps it too.
	fs.big.Store(false)
	h.scr.set(func(f *fakeScraper) {
		f.err = &scheduler.RunError{Class: scheduler.ClassStorageFailed, Msg: "saving the failure artifacts: no space left on device"}
	})
	h.advance(mustTime("2026-06-01T11:30:00Z").Sub(h.now()))
	eventually(t, "the 11:30 scrape", func() bool {
		lr := h.svc.Snapshot().LastRun
		return lr != nil && lr.Slot.Equal(mustTime("2026-06-01T11:30:00Z")) && h.svc.Snapshot().Running == nil
	})
	check("after a scrape that failed on the store")

	// A run whose outcome is saved clears it.
	h.scr.set(func(f *fakeScraper) { f.err = nil })
	h.advance(mustTime("2026-06-01T12:30:00Z").Sub(h.now()))
	eventually(t, "the 12:30 scrape", func() bool {
		lr := h.svc.Snapshot().LastRun
		return lr != nil && lr.Status == scheduler.StatusSucceeded && h.svc.Snapshot().Running == nil
	})
	if snap := h.svc.Snapshot(); snap.StorageError != "" {
		t.Fatalf("after a saved run: storage error %q, want none", snap.StorageError)
	}
}
