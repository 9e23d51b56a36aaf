package scheduler_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
)

func TestFiresAtSlotAndArmsNext(t *testing.T) {
	t0 := mustTime("2026-06-01T10:00:00Z")
	h := newHarness(t, t0, hourlyUTC(30), time.Time{})
	h.start(2)
	if got, want := h.svc.Snapshot().Next, mustTime("2026-06-01T10:30:00Z"); !got.Equal(want) {
		t.Fatalf("next = %v, want %v", got, want)
	}
	for i, slot := range []string{"2026-06-01T10:30:00Z", "2026-06-01T11:30:00Z", "2026-06-01T12:30:00Z"} {
		h.advance(mustTime(slot).Sub(h.fc.Now()))
		rs := h.waitRuns(i + 1)
		r := rs[i]
		if !r.Slot.Equal(mustTime(slot)) || r.Trigger != scheduler.TriggerScheduled || r.Status != scheduler.StatusSucceeded {
			t.Fatalf("run %d = %+v, want a succeeded scheduled run of %s", i, r, slot)
		}
		if late := r.Started.Sub(r.Slot); late < 0 || late > time.Second {
			t.Fatalf("run started %v after its slot, want within 1 s", late)
		}
		if r.Found != 3 || r.PID != os.Getpid() {
			t.Fatalf("run %+v: want 3 orders found and our pid", r)
		}
		snap := h.svc.Snapshot()
		if want := mustTime(slot).Add(time.Hour); !snap.Next.Equal(want) {
			t.Fatalf("after run %d next = %v, want %v", i, snap.Next, want)
		}
		if snap.LastRun == nil || snap.LastRun.ID != r.ID || snap.Orders != 3 {
			t.Fatalf("snapshot last run %+v orders %d, want run %d and 3 orders", snap.LastRun, snap.Orders, r.ID)
		}
		h.waitTimers(2)
	}
}

// TestActiveHoursNeverFireOutside runs a whole day of an hourly :30 schedule with active hours
// 08–17 in New York and checks that no run is outside them (never 04:30).
func TestActiveHoursNeverFireOutside(t *testing.T) {
	sc := scheduler.DefaultSchedule("America/New_York")
	sc.ActiveFrom, sc.ActiveTo = 8, 17
	t0 := mustTime("2026-06-01T04:00:00Z") // 00:00 in New York
	h := newHarness(t, t0, sc, time.Time{})
	h.start(2)
	loc, _ := time.LoadLocation("America/New_York")
	want := 0
	for range 24 {
		h.advance(time.Hour)
		if l := h.fc.Now().Add(-30 * time.Minute).In(loc); l.Hour() >= 8 && l.Hour() < 17 {
			want++
		}
		h.waitRuns(want)
		h.waitTimers(2)
	}
	rs := h.runs()
	if len(rs) != 9 {
		t.Fatalf("%d runs in a day, want 9 (08:30 to 16:30)", len(rs))
	}
	for _, r := range rs {
		l := r.Slot.In(loc)
		if l.Hour() < 8 || l.Hour() >= 17 || l.Minute() != 30 {
			t.Fatalf("run at %s local is outside 08–17", l.Format("15:04"))
		}
	}
}

func TestScrapeNowWhileRunningIsAlreadyRunning(t *testing.T) {
	t0 := mustTime("2026-06-01T10:29:00Z")
	h := newHarness(t, t0, hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	h.advance(time.Minute)
	eventually(t, "the scheduled run to start", func() bool { return h.svc.Snapshot().Running != nil })
	running := h.svc.Snapshot().Running
	for range 5 {
		r, err := h.svc.ScrapeNow(context.Background())
		if !errors.Is(err, scheduler.ErrAlreadyRunning) {
			t.Fatalf("ScrapeNow during a run: %v, want ErrAlreadyRunning", err)
		}
		if r.ID != running.ID {
			t.Fatalf("ScrapeNow answered run %d, want the running run %d", r.ID, running.ID)
		}
	}
	close(block)
	h.waitRuns(1)
	h.scr.set(func(f *fakeScraper) { f.block = nil })
	r, err := h.svc.ScrapeNow(context.Background())
	if err != nil || r.Trigger != scheduler.TriggerManual {
		t.Fatalf("ScrapeNow after the run: %+v, %v", r, err)
	}
	rs := h.waitRuns(2)
	if got := h.scr.maxRun.Load(); got != 1 {
		t.Fatalf("%d scrapes overlapped, want 1", got)
	}
	if rs[1].Trigger != scheduler.TriggerManual || !rs[1].Slot.IsZero() {
		t.Fatalf("manual run %+v", rs[1])
	}
}

// TestManyConcurrentRequestsNeverOverlap hammers ScrapeNow from many goroutines.
func TestManyConcurrentRequestsNeverOverlap(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	var wg sync.WaitGroup
	var started atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := h.svc.ScrapeNow(context.Background()); err == nil {
					started.Add(1)
				} else if !errors.Is(err, scheduler.ErrAlreadyRunning) {
					t.Errorf("ScrapeNow: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	h.waitRuns(int(started.Load()))
	if got := h.scr.maxRun.Load(); got != 1 {
		t.Fatalf("%d scrapes overlapped, want 1", got)
	}
	if int(h.scr.calls.Load()) != int(started.Load()) {
		t.Fatalf("%d scrapes for %d started runs", h.scr.calls.Load(), started.Load())
	}
}

// TestDownThreeHours starts the service three hours after its last run: one coalesced missed
// record names the three slots and one catch-up run follows.
func TestDownThreeHours(t *testing.T) {
	sc := hourlyUTC(30)
	sc.GraceMinutes = 30
	// The last slot handled was 07:30; the process was down until 11:20.
	h := newHarness(t, mustTime("2026-06-01T11:20:00Z"), sc, mustTime("2026-06-01T07:30:00Z"))
	h.start(2)
	rs := h.waitRuns(2)
	missed, catchUp := rs[0], rs[1]
	if missed.Status != scheduler.StatusMissed || len(missed.MissedSlots) != 3 {
		t.Fatalf("first record %+v, want one missed record of 3 slots", missed)
	}
	for i, s := range []string{"08:30", "09:30", "10:30"} {
		if got := missed.MissedSlots[i].Format("15:04"); got != s {
			t.Fatalf("missed slot %d = %s, want %s", i, got, s)
		}
	}
	if missed.Message != "3 slots missed, 08:30–10:30" {
		t.Fatalf("missed message %q", missed.Message)
	}
	if catchUp.Trigger != scheduler.TriggerCatchUp || catchUp.Status != scheduler.StatusSucceeded {
		t.Fatalf("second record %+v, want a succeeded catch-up run", catchUp)
	}
	for _, sl := range missed.MissedSlots {
		r, err := h.db.RunBySlot(sl)
		if err != nil || r.ID != missed.ID {
			t.Fatalf("slot %v claimed by %+v, %v; want the missed record", sl, r, err)
		}
	}
	snap := h.svc.Snapshot()
	if snap.LastMissed != nil {
		t.Fatalf("a successful catch-up followed, yet the snapshot still shows missed %+v", snap.LastMissed)
	}
	// A restart does not record them again nor run another catch-up.
	h.stop()
	h.start(2) // returns after the first check
	if n := len(h.runs()); n != 2 || h.svc.Snapshot().Running != nil {
		t.Fatalf("after a restart %d records, want still 2", n)
	}
}

// TestGraceBoundary: 59 minutes late runs as a catch-up without a missed record; 61 is missed.
func TestGraceBoundary(t *testing.T) {
	sc := hourlyUTC(30)
	sc.EveryHours = 2 // slots 00:30, 02:30, …: only one slot is due
	for _, tt := range []struct {
		late   time.Duration
		missed bool
	}{{59 * time.Minute, false}, {61 * time.Minute, true}} {
		t.Run(tt.late.String(), func(t *testing.T) {
			slot := mustTime("2026-06-01T10:30:00Z")
			h := newHarness(t, slot.Add(tt.late), sc, slot.Add(-time.Hour))
			h.start(2)
			want := 1
			if tt.missed {
				want = 2
			}
			rs := h.waitRuns(want)
			last := rs[len(rs)-1]
			if last.Trigger != scheduler.TriggerCatchUp || last.Status != scheduler.StatusSucceeded {
				t.Fatalf("run %+v, want a catch-up", last)
			}
			if tt.missed {
				if rs[0].Status != scheduler.StatusMissed || len(rs[0].MissedSlots) != 1 || !rs[0].MissedSlots[0].Equal(slot) {
					t.Fatalf("first record %+v, want the 10:30 slot missed", rs[0])
				}
				if !last.Slot.IsZero() {
					t.Fatalf("catch-up after a missed slot claims slot %v", last.Slot)
				}
			} else if !last.Slot.Equal(slot) {
				t.Fatalf("catch-up ran slot %v, want %v", last.Slot, slot)
			}
		})
	}
}

// TestSuspendNoticedWithinOneCheck jumps the wall clock by two hours while the timers stand
// still, as a laptop that slept, and expects the next wall-clock check to notice.
func TestSuspendNoticedWithinOneCheck(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	h.skew.Store(int64(2 * time.Hour)) // wall clock 12:00, timers still at 10:00
	jump := h.now()
	h.advance(checkInterval)
	rs := h.waitRuns(2)
	if rs[0].Status != scheduler.StatusMissed || len(rs[0].MissedSlots) != 1 || rs[0].MissedSlots[0].Format("15:04") != "10:30" {
		t.Fatalf("first record %+v, want 10:30 missed", rs[0])
	}
	run := rs[1]
	if !run.Slot.Equal(mustTime("2026-06-01T11:30:00Z")) || run.Trigger != scheduler.TriggerCatchUp {
		t.Fatalf("run %+v, want the 11:30 slot as a catch-up", run)
	}
	if d := run.Started.Sub(jump); d > checkInterval {
		t.Fatalf("noticed %v after the jump, want within %v", d, checkInterval)
	}
}

func TestRetriesBackOffAndStopBeforeNextSlot(t *testing.T) {
	sc := hourlyUTC(30)
	sc.Retries = 5
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), sc, time.Time{})
	h.scr.set(func(f *fakeScraper) {
		f.err = &scheduler.RunError{Class: scheduler.ClassPortalError, Msg: "HTTP 500"}
	})
	h.start(2)
	h.advance(time.Minute)
	wantStarts := []string{"10:30", "10:32", "10:36", "10:44", "11:00"}
	for i := range wantStarts {
		h.waitRuns(i + 1)
		if i < len(wantStarts)-1 {
			h.waitTimers(3) // check, slot, retry
			next := mustTime("2026-06-01T" + wantStarts[i+1] + ":00Z")
			h.advance(next.Sub(h.fc.Now()))
		}
	}
	// The next retry would be at 11:32, past the 11:30 slot: none is armed.
	h.waitTimers(2)
	if snap := h.svc.Snapshot(); !snap.RetryAt.IsZero() || snap.ConsecutiveFailures != 5 {
		t.Fatalf("snapshot retry at %v, failures %d; want no retry and 5 failures", snap.RetryAt, snap.ConsecutiveFailures)
	}
	rs := h.runs()
	for i, r := range rs {
		if got := r.Started.Format("15:04"); got != wantStarts[i] {
			t.Fatalf("attempt %d started %s, want %s", i+1, got, wantStarts[i])
		}
		if r.Attempt != i+1 || r.ErrorClass != scheduler.ClassPortalError || !r.Slot.Equal(mustTime("2026-06-01T10:30:00Z")) {
			t.Fatalf("attempt %d: %+v", i+1, r)
		}
		if (i == 0) != (r.Trigger == scheduler.TriggerScheduled) || (i > 0) != (r.Trigger == scheduler.TriggerRetry) {
			t.Fatalf("attempt %d trigger %s", i+1, r.Trigger)
		}
	}
	// The portal recovers; the 11:30 slot runs and resets the failure count.
	h.scr.set(func(f *fakeScraper) { f.err = nil })
	h.advance(mustTime("2026-06-01T11:30:00Z").Sub(h.fc.Now()))
	rs = h.waitRuns(6)
	if rs[5].Status != scheduler.StatusSucceeded || h.svc.Snapshot().ConsecutiveFailures != 0 {
		t.Fatalf("11:30 run %+v; failures %d", rs[5], h.svc.Snapshot().ConsecutiveFailures)
	}
}

// TestConfigErrorNotRetried: a run that fails on the configuration (no portal set up) gets no
// retry, as it cannot go away by itself; the next slot tries again.
func TestConfigErrorNotRetried(t *testing.T) {
	sc := hourlyUTC(30)
	sc.Retries = 5
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), sc, time.Time{})
	h.scr.set(func(f *fakeScraper) {
		f.err = &scheduler.RunError{Class: scheduler.ClassConfig, Msg: "no portal is configured"}
	})
	h.start(2)
	h.advance(time.Minute)
	rs := h.waitRuns(1)
	h.waitTimers(2) // check and slot: no retry
	if snap := h.svc.Snapshot(); !snap.RetryAt.IsZero() || rs[0].ErrorClass != scheduler.ClassConfig {
		t.Fatalf("after a config error: retry at %v, run %+v; want no retry", snap.RetryAt, rs[0])
	}
	h.advance(mustTime("2026-06-01T11:30:00Z").Sub(h.fc.Now()))
	if rs := h.waitRuns(2); rs[1].Trigger != scheduler.TriggerScheduled || rs[1].Attempt != 1 {
		t.Fatalf("the next run %+v, want the 11:30 slot", rs[1])
	}
}

func TestRetriesDefault(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:29:00Z"), hourlyUTC(30), time.Time{})
	h.scr.set(func(f *fakeScraper) { f.err = errors.New("boom") })
	h.start(2)
	h.advance(time.Minute)
	h.waitRuns(1)
	h.waitTimers(3)
	h.advance(2 * time.Minute)
	h.waitRuns(2)
	h.waitTimers(3)
	h.advance(4 * time.Minute)
	h.waitRuns(3)
	h.waitTimers(2) // two retries were all: no third
	if rs := h.runs(); rs[2].Attempt != 3 || rs[2].Started.Format("15:04") != "10:36" {
		t.Fatalf("third attempt %+v", rs[2])
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	if err := h.svc.Pause(); err != nil {
		t.Fatal(err)
	}
	snap := h.svc.Snapshot()
	if !snap.Paused || !snap.Next.IsZero() {
		t.Fatalf("paused snapshot: paused %v next %v", snap.Paused, snap.Next)
	}
	h.waitTimers(1) // only the wall-clock check
	c := h.svc.Checks()
	h.advance(3 * time.Hour)
	eventually(t, "the check", func() bool { return h.svc.Checks() > c })
	if n := len(h.runs()); n != 0 {
		t.Fatalf("%d runs while paused", n)
	}
	if err := h.svc.Resume(); err != nil {
		t.Fatal(err)
	}
	h.waitTimers(2) // Resume returns after its check
	if n := len(h.runs()); n != 0 {
		t.Fatalf("resume ran %d runs for slots that passed while paused", n)
	}
	if got := h.svc.Snapshot().Next; !got.Equal(mustTime("2026-06-01T13:30:00Z")) {
		t.Fatalf("next after resume %v", got)
	}
	h.advance(30 * time.Minute)
	if rs := h.waitRuns(1); rs[0].Slot.Format("15:04") != "13:30" {
		t.Fatalf("run %+v", rs[0])
	}
	st, _ := h.db.State()
	if st.Paused {
		t.Fatal("store still says paused")
	}
}

func TestScheduleChangeReschedulesAtOnce(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	sc := hourlyUTC(5)
	if err := h.svc.UpdateSchedule(sc); err != nil {
		t.Fatal(err)
	}
	if got := h.svc.Snapshot().Next; !got.Equal(mustTime("2026-06-01T10:05:00Z")) {
		t.Fatalf("next after change = %v, want 10:05", got)
	}
	h.waitTimers(2)
	h.advance(5 * time.Minute)
	if rs := h.waitRuns(1); rs[0].Slot.Format("15:04") != "10:05" {
		t.Fatalf("run %+v, want the 10:05 slot", rs[0])
	}
	stored, err := h.db.Schedule()
	if err != nil || stored.Minute != 5 {
		t.Fatalf("stored schedule %+v, %v", stored, err)
	}
	bad := hourlyUTC(60)
	bad.Zone = "Mars/Base"
	err = h.svc.UpdateSchedule(bad)
	var verr scheduler.ValidationError
	if !errors.As(err, &verr) || verr.Field("minute") == nil || verr.Field("zone") == nil {
		t.Fatalf("invalid schedule: %v", err)
	}
	if stored, _ := h.db.Schedule(); stored.Minute != 5 || h.svc.Schedule().Minute != 5 {
		t.Fatal("an invalid schedule changed the stored or active one")
	}
}

func TestLayoutChangedGuardAndLargeDrop(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.scr.set(func(f *fakeScraper) { f.orders = makeOrders(10) })
	h.start(2)
	scrape := func(n int) scheduler.Run {
		t.Helper()
		if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h.waitRuns(n)[n-1]
	}
	if r := scrape(1); r.New != 10 || r.Status != scheduler.StatusSucceeded {
		t.Fatalf("first scrape %+v", r)
	}
	// No rows and no empty-state marker: a changed layout that changes nothing.
	h.scr.set(func(f *fakeScraper) { f.orders = nil })
	r := scrape(2)
	if r.Status != scheduler.StatusFailed || r.ErrorClass != scheduler.ClassLayoutChanged {
		t.Fatalf("empty scrape %+v, want layout_changed", r)
	}
	if act, _ := h.db.ActiveOrders(); len(act) != 10 {
		t.Fatalf("%d active orders after a layout_changed run, want 10", len(act))
	}
	// A drop to 4 of 10 is applied and flagged.
	h.scr.set(func(f *fakeScraper) { f.orders = makeOrders(4) })
	r = scrape(3)
	if r.Status != scheduler.StatusSucceeded || !r.LargeDrop || r.Removed != 6 {
		t.Fatalf("drop scrape %+v, want succeeded with a large drop of 6", r)
	}
	all, _ := h.db.Orders(true)
	if len(all) != 10 {
		t.Fatalf("%d orders stored, want 10 (removal is soft)", len(all))
	}
	// An explicit empty state removes every order (softly) and succeeds.
	h.scr.set(func(f *fakeScraper) { f.orders, f.empty = nil, true })
	r = scrape(4)
	if r.Status != scheduler.StatusSucceeded || r.Removed != 4 {
		t.Fatalf("empty-state scrape %+v", r)
	}
}

func TestCancelAndShutdown(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	defer close(block)
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	if err := h.svc.Cancel(); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Fatalf("Cancel with nothing running: %v", err)
	}
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run", func() bool { return h.svc.Snapshot().Running != nil })
	if err := h.svc.Cancel(); err != nil {
		t.Fatal(err)
	}
	rs := h.waitRuns(1)
	if rs[0].Status != scheduler.StatusCanceled || rs[0].ErrorClass != scheduler.ClassCanceled {
		t.Fatalf("canceled run %+v", rs[0])
	}
	// Shutdown cancels a running scrape and records it as canceled before Run returns.
	if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second run", func() bool { return h.svc.Snapshot().Running != nil })
	h.stop()
	rs = h.runs()
	if len(rs) != 2 || rs[1].Status != scheduler.StatusCanceled {
		t.Fatalf("after shutdown: %+v", rs)
	}
}

func TestProgressAndSlowSubscriber(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	h.start(2)
	slow := h.svc.Subscribe(1) // never read
	defer slow.Close()
	for i := range 5 {
		if _, err := h.svc.ScrapeNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.waitRuns(i + 1)
	}
	if slow.Dropped() == 0 {
		t.Fatal("the slow subscriber lost nothing, so it was not slow")
	}
	var kinds []scheduler.EventKind
	var progress *scheduler.Progress
	for len(h.sub.C) > 0 {
		ev := <-h.sub.C
		kinds = append(kinds, ev.Kind)
		if ev.Kind == scheduler.EventRunProgress && progress == nil {
			progress = ev.Progress
		}
	}
	if progress == nil || progress.Page != 1 || progress.Pages != 2 || progress.RunID == 0 {
		t.Fatalf("progress event %+v in %v", progress, kinds)
	}
	if kinds[0] != scheduler.EventRunStarted || kinds[len(kinds)-1] != scheduler.EventRunFinished {
		t.Fatalf("events %v", kinds)
	}
}

// TestInterruptedRunAndSlotOnceAcrossRestart kills a process in the middle of a slot's run; the
// next start marks the run interrupted and does not run the slot again.
func TestInterruptedRunAndSlotOnceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "worktray.db")
	db := openStore(t, path)
	if err := db.SaveSchedule(hourlyUTC(30)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.Cursor = mustTime("2026-06-01T10:00:00Z"); return nil }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	cmd := helperCommand(t, "slot-crash", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf) // the helper prints "started" once its scrape is running
	if string(buf[:n]) != "started\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper said %q", buf[:n])
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	h := &harness{t: t, db: openStore(t, path), fc: clockwork.NewFakeClockAt(mustTime("2026-06-01T10:31:00Z")),
		scr: &fakeScraper{orders: makeOrders(1)}, path: path}
	t.Cleanup(func() { h.stop(); _ = h.db.Check(); _ = h.db.Close() })
	h.start(2)
	rs := h.waitRuns(2)
	if rs[0].Status != scheduler.StatusInterrupted || rs[0].PID != cmd.Process.Pid || rs[0].Message == "" {
		t.Fatalf("run %+v, want interrupted with the dead pid", rs[0])
	}
	// The slot is not run again as a first attempt: its one claim stands. Still within grace
	// and before the next slot, it gets its second attempt at once.
	if r, err := h.db.RunBySlot(mustTime("2026-06-01T10:30:00Z")); err != nil || r.ID != rs[0].ID {
		t.Fatalf("the 10:30 claim is %+v, %v; want the interrupted run", r, err)
	}
	retry := rs[1]
	if retry.Trigger != scheduler.TriggerRetry || retry.Attempt != 2 || !retry.Slot.Equal(rs[0].Slot) || retry.Status != scheduler.StatusSucceeded {
		t.Fatalf("after the restart %+v, want a succeeded second attempt at the 10:30 slot", retry)
	}
	if n := h.scr.calls.Load(); n != 1 {
		t.Fatalf("%d scrapes after the restart, want the one retry", n)
	}
	if st, _ := h.db.State(); st.ConsecutiveFailures != 0 {
		t.Fatalf("failures %d after the retry succeeded", st.ConsecutiveFailures)
	}
	if got := h.svc.Snapshot().Next; !got.Equal(mustTime("2026-06-01T11:30:00Z")) {
		t.Fatalf("next %v", got)
	}
}
