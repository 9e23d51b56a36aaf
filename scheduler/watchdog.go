package scheduler

import (
	"context"
	"fmt"
	"time"
)

// watchdogPatience is how many consecutive watchdog ticks must find the invariant broken
// before the service shows stuck: one tick may fall between a slot timer firing and the check
// re-arming it.
const watchdogPatience = 2

// checkPatience is how many watchdog ticks may pass without a completed wall-clock check
// (a check blocked on the store, a dead tick loop).
const checkPatience = 3

// watchdog checks the liveness invariant on each tick, apart from the code that keeps it:
// while the schedule is enabled and not paused, a live timer is armed for the next slot (as
// the watchdog computes it from the schedule), and the wall-clock check keeps completing. When the
// invariant stays broken, the service shows stuck with the reason (an event, and one alert per
// episode), and the watchdog asks for a repair: the slot timer is dropped and a check re-arms
// it. It clears its stuck reason once the invariant holds again.
func (s *Service) watchdog(ctx context.Context, tick <-chan struct{}) {
	var (
		lastChecks = s.checks.Load()
		idle       int // ticks without a completed check
		broken     int // consecutive ticks with the invariant broken
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		s.inspectOnce(ctx, &lastChecks, &idle, &broken)
		s.watched.Add(1)
	}
}

// inspectOnce is one watchdog tick: idle counts ticks without a completed check, broken
// consecutive ticks with the invariant broken.
func (s *Service) inspectOnce(ctx context.Context, lastChecks *uint64, idle, broken *int) {
	if n := s.checks.Load(); n != *lastChecks {
		*lastChecks, *idle = n, 0
	} else {
		*idle++
	}
	reason := s.inspect(ctx)
	if *idle >= checkPatience {
		reason = fmt.Sprintf("the wall-clock check has not completed in %d check intervals", *idle)
	}
	if reason == "" {
		*broken = 0
		s.clearStuck(stuckWatchdog)
		return
	}
	if *broken++; *broken < watchdogPatience {
		return
	}
	s.setStuck(stuckWatchdog, reason)
	s.alertStuck()
	if *idle < checkPatience {
		s.repair(ctx)
	}
}

// inspect returns why the liveness invariant does not hold now, or "". It computes the next
// slot itself from the schedule in force and looks at the armed timer's own state (stopped,
// fired); it takes none of the service's locks.
func (s *Service) inspect(ctx context.Context) string {
	live, a := s.live.Load(), s.armed.Load()
	if live.paused || !live.sched.Enabled || ctx.Err() != nil {
		return ""
	}
	next := live.sched.Next(s.now())
	if next.IsZero() {
		return "the schedule has no next slot"
	}
	slot := next.Format(time.RFC3339)
	switch {
	case a == nil || !a.slot.Equal(next):
		return fmt.Sprintf("the next slot (%s) is not armed", slot)
	case a.stopped.Load():
		return fmt.Sprintf("the timer of the next slot (%s) is gone", slot)
	case a.fired.Load():
		return fmt.Sprintf("the timer of the next slot (%s) fired before it", slot)
	}
	return ""
}

// repair drops the slot timer and runs a check, which arms it afresh. It does not wait for a
// check in progress.
func (s *Service) repair(ctx context.Context) {
	if !s.checkMu.TryLock() {
		return
	}
	defer s.checkMu.Unlock()
	s.mu.Lock()
	s.slot.stop()
	s.slot = nil
	s.armed.Store(nil)
	s.mu.Unlock()
	if ctx.Err() == nil {
		s.checkLocked(ctx, "watchdog")
	}
}
