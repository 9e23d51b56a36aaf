package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"worktray/scheduler"
)

// soakScraper succeeds, fails, or hangs ignoring its context (until released), as set.
type soakScraper struct {
	mode    atomic.Int32 // soakOK, soakFail, soakHang
	release chan struct{}
}

const (
	soakOK = iota
	soakFail
	soakHang
)

func (s *soakScraper) Scrape(ctx context.Context, _ scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	switch s.mode.Load() {
	case soakFail:
		return scheduler.ScrapeResult{}, &scheduler.RunError{Class: scheduler.ClassPortalError, Msg: "HTTP 500"}
	case soakHang:
		<-s.release
		return scheduler.ScrapeResult{}, errors.New("released")
	}
	return scheduler.ScrapeResult{Orders: makeOrders(2)}, nil
}

// soakWindow is a stretch of the sequence with one schedule in force and one paused state: its
// slots are owed when the schedule is enabled and the scheduler not paused.
type soakWindow struct {
	sched  scheduler.Schedule
	owed   bool
	from   time.Time // the wall clock when it began
	lo, hi time.Time // the earliest and latest wall clock seen while it lasted
	end    time.Time // the wall clock when it ended
	// floor is the earliest wall clock seen since it ended: a wall clock set back before its
	// end means that it really ended earlier, and slots after floor had not really come.
	floor    time.Time
	endedBy  string
	paused   bool
	disabled bool
}

// soakN returns the number of sequences (WORKTRAY_SOAK_N, default 6; `make soak` runs
// thousands).
func soakN(t *testing.T) int {
	if v := os.Getenv("WORKTRAY_SOAK_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("WORKTRAY_SOAK_N=%q: want a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 6
}

// TestLivenessSoak drives the service on a fake clock and a real store through random
// sequences of ticks, timer advances, sleeps, wall-clock steps forward and back, schedule
// changes (also disabling), pause, resume, restarts, failing and hanging scrapes, manual
// scrapes and retention pruning. After each step the liveness invariant holds; over each
// sequence every slot owed is claimed (run or recorded missed) exactly once, and no slot is
// claimed that was not owed. A failing sequence prints its seed (WORKTRAY_SOAK_SEED replays it).
func TestLivenessSoak(t *testing.T) {
	base := uint64(time.Now().UnixNano())
	n := soakN(t)
	if v := os.Getenv("WORKTRAY_SOAK_SEED"); v != "" {
		base, _ = strconv.ParseUint(v, 10, 64)
		n = 1
	}
	for i := range n {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay with WORKTRAY_SOAK_SEED=%d", seed)
				}
			})
			soakSequence(t, seed, 40)
		})
	}
}

var soakZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"}

func soakSchedule(r *rand.Rand) scheduler.Schedule {
	for {
		sc := scheduler.DefaultSchedule(soakZones[r.IntN(len(soakZones))])
		sc.Minute = r.IntN(60)
		sc.EveryHours = []int{1, 1, 1, 2, 3, 24}[r.IntN(6)]
		sc.Hour = r.IntN(24)
		sc.GraceMinutes = []int{10, 30, 60, 90, 180}[r.IntN(5)]
		sc.CatchUp = r.IntN(4) != 0
		sc.Retries = r.IntN(3)
		if r.IntN(4) == 0 {
			sc.ActiveFrom, sc.ActiveTo = r.IntN(24), r.IntN(25)
		}
		if r.IntN(6) == 0 {
			sc.Weekdays = []time.Weekday{time.Weekday(r.IntN(7)), time.Weekday(r.IntN(7))}
		}
		if sc.Validate() == nil {
			return sc
		}
	}
}

func soakSequence(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 0x50a4))
	t0 := time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
	sc := soakSchedule(r)
	h := newHarness(t, t0, sc, time.Time{})
	ss := &soakScraper{release: make(chan struct{})}
	defer close(ss.release)
	h.scraper = ss
	h.runTimeout, h.abandonAfter, h.stopTimeout = 30*time.Millisecond, 10*time.Millisecond, time.Second
	h.start(1)

	cur := &soakWindow{sched: sc, owed: true, from: t0, lo: t0, hi: t0}
	windows := []*soakWindow{cur}
	paused := false
	observe := func() {
		w := h.now()
		if w.Before(cur.lo) {
			cur.lo = w
		}
		if w.After(cur.hi) {
			cur.hi = w
		}
		for _, pw := range windows[:len(windows)-1] {
			if w.Before(pw.floor) {
				pw.floor = w
			}
		}
	}
	newWindow := func(sched scheduler.Schedule, why string) {
		w := h.now()
		cur.end, cur.floor, cur.endedBy = w, w, why
		cur = &soakWindow{sched: sched, owed: sched.Enabled && !paused, from: w, lo: w, hi: w,
			paused: paused, disabled: !sched.Enabled}
		windows = append(windows, cur)
	}
	var log []string
	step := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	for i := range steps {
		switch k := r.IntN(20); {
		case k < 4:
			step("tick")
			h.tick()
		case k < 7:
			d := time.Duration(1+r.IntN(90)) * time.Minute
			step("advance %s", d)
			h.waitTimers(1)
			h.advance(d)
		case k < 9:
			d := time.Duration(10+r.IntN(290)) * time.Minute
			step("sleep %s", d)
			h.skew.Add(int64(d))
			observe()
			h.tick()
		case k < 10:
			d := time.Duration(1+r.IntN(60)) * time.Minute
			step("wall clock back %s", d)
			h.skew.Add(-int64(d))
			observe()
			h.tick()
		case k < 12:
			ns := soakSchedule(r)
			ns.Enabled = r.IntN(5) != 0
			step("schedule %s :%02d every %d h, enabled %v", ns.Zone, ns.Minute, ns.EveryHours, ns.Enabled)
			if err := h.svc.UpdateSchedule(ns); err != nil {
				t.Fatalf("step %d: UpdateSchedule: %v", i, err)
			}
			newWindow(ns, "schedule change")
		case k < 13:
			step("pause")
			if err := h.svc.Pause(); err != nil {
				t.Fatalf("step %d: Pause: %v", i, err)
			}
			if !paused {
				paused = true
				newWindow(cur.sched, "pause")
			}
		case k < 14:
			step("resume")
			if err := h.svc.Resume(); err != nil {
				t.Fatalf("step %d: Resume: %v", i, err)
			}
			if paused {
				paused = false
				newWindow(cur.sched, "resume")
			}
		case k < 15:
			down := time.Duration(r.IntN(180)) * time.Minute
			step("restart after %s down", down)
			h.stop()
			h.advance(down)
			h.start(1)
		case k < 17:
			mode := int32(r.IntN(3))
			step("scraper mode %d", mode)
			ss.mode.Store(mode)
		case k < 18:
			keep := 1 + r.IntN(4)
			step("prune to %d", keep)
			if _, err := h.db.PruneRuns(keep); err != nil {
				t.Fatalf("step %d: PruneRuns: %v", i, err)
			}
		default:
			step("scrape now")
			if _, err := h.svc.ScrapeNow(context.Background()); err != nil && !errors.Is(err, scheduler.ErrAlreadyRunning) {
				t.Fatalf("step %d: ScrapeNow: %v", i, err)
			}
		}
		observe()
		var why string
		eventually(t, fmt.Sprintf("the liveness invariant after step %d (%s)", i, log[len(log)-1]), func() bool {
			why = h.invariant()
			return why == ""
		}, func() string { return why + "\nsteps:\n  " + strings.Join(log, "\n  ") })
	}

	// Drain: the scraper works, the run in progress ends, checks deal with what is due.
	ss.mode.Store(soakOK)
	eventually(t, "the run in progress to end", func() bool { return h.svc.Snapshot().Running == nil })
	for range 3 {
		h.tick()
		observe()
	}
	eventually(t, "the runs to end", func() bool { return h.svc.Snapshot().Running == nil })
	end := h.now()
	cur.end, cur.floor, cur.endedBy = end, end, "end"
	h.stop()

	// Every claimed slot was owed by some window: a slot of its schedule, within the wall
	// times it was in force, neither paused nor disabled.
	first, last := t0, end
	for _, w := range windows {
		if w.lo.Before(first) {
			first = w.lo
		}
		if w.hi.After(last) {
			last = w.hi
		}
	}
	claimed, err := h.db.ClaimedSlots(first.Add(-48*time.Hour), last.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	isSlot := func(sc scheduler.Schedule, s time.Time) bool {
		sc.Enabled = true
		return sc.Next(s.Add(-time.Second)).Equal(s)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		var ws []string
		for _, w := range windows {
			ws = append(ws, fmt.Sprintf("%s :%02d/%dh grace %d owed=%v from %s lo %s hi %s end %s floor %s (%s)",
				w.sched.Zone, w.sched.Minute, w.sched.EveryHours, w.sched.GraceMinutes, w.owed,
				w.from.Format(time.RFC3339), w.lo.Format(time.RFC3339), w.hi.Format(time.RFC3339),
				w.end.Format(time.RFC3339), w.floor.Format(time.RFC3339), w.endedBy))
		}
		t.Fatalf(format+"\nwindows:\n  %s\nsteps:\n  %s", append(args, strings.Join(ws, "\n  "), strings.Join(log, "\n  "))...)
	}
	for _, s := range claimed {
		ok := slices.ContainsFunc(windows, func(w *soakWindow) bool {
			lo := w.lo
			if w.from.Before(lo) {
				lo = w.from
			}
			return w.owed && isSlot(w.sched, s) && s.After(lo) && !s.After(w.hi)
		})
		if !ok {
			fail("slot %s was claimed but no window owed it", s.Format(time.RFC3339))
		}
	}
	// Every slot owed and past grace while its window lasted (and really past: the wall
	// clock never went back before it) was claimed (run or missed).
	for _, w := range windows {
		if !w.owed {
			continue
		}
		grace := time.Duration(w.sched.GraceMinutes) * time.Minute
		until := w.end
		if w.floor.Before(until) {
			until = w.floor
		}
		for s := w.sched.Next(w.from); !s.IsZero() && !s.After(until.Add(-grace)); s = w.sched.Next(s) {
			if !slices.ContainsFunc(claimed, s.Equal) {
				fail("slot %s of the window from %s to %s was owed and never run nor recorded missed",
					s.Format(time.RFC3339), w.from.Format(time.RFC3339), w.end.Format(time.RFC3339))
			}
		}
	}
	// No surviving record stands for a slot twice.
	seen := map[time.Time]uint64{}
	for _, r := range h.runs() {
		var slots []time.Time
		switch {
		case r.Status == scheduler.StatusMissed:
			slots = r.MissedSlots
		case r.Attempt <= 1 && !r.Slot.IsZero():
			slots = append([]time.Time{r.Slot}, r.CoveredSlots...)
		}
		for _, s := range slots {
			if id, dup := seen[s]; dup {
				fail("slot %s stands in records %d and %d", s.Format(time.RFC3339), id, r.ID)
			}
			seen[s] = r.ID
		}
	}
}
