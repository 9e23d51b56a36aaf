package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// watchdogPatience is how many consecutive watchdog ticks must find the invariant broken
// before the service shows stuck: one tick may fall between a slot timer firing and the check
// re-arming it.
const watchdogPatience = 2

// checkPatience is how many watchdog ticks may pass without a completed wall-clock check
// (a check blocked on the store, a dead tick loop).
const checkPatience = 3

// watchdog checks the liveness invariant on each tick, apart from the code that keeps it:
// while the schedule is enabled and not paused, gocron holds a timer for the next slot (as the
// watchdog computes it from the schedule), and the wall-clock check keeps completing. When the
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
		if n := s.checks.Load(); n != lastChecks {
			lastChecks, idle = n, 0
		} else {
			idle++
		}
		reason := s.inspect(ctx)
		if idle >= checkPatience {
			reason = fmt.Sprintf("the wall-clock check has not completed in %d check intervals", idle)
		}
		if reason == "" {
			broken = 0
			s.clearStuck(stuckWatchdog)
			continue
		}
		if broken++; broken < watchdogPatience {
			continue
		}
		s.setStuck(stuckWatchdog, reason)
		s.alertStuck()
		if idle < checkPatience {
			s.repair(ctx)
		}
	}
}

// inspect returns why the liveness invariant does not hold now, or "". It computes the next
// slot itself and asks gocron for the armed job; it never waits for the service's lock.
func (s *Service) inspect(ctx context.Context) string {
	if !s.mu.TryLock() {
		return "the scheduler's state has been locked for a whole check interval"
	}
	sched, paused, gs := s.sched, s.state.Paused, s.gs
	job, armedFor, armedAt := s.slotJob, s.armedFor, s.armedAt
	s.mu.Unlock()
	if paused || !sched.Enabled || gs == nil || ctx.Err() != nil {
		return ""
	}
	next := sched.Next(s.now())
	if next.IsZero() {
		return "the schedule has no next slot"
	}
	slot := next.Format(time.RFC3339)
	if job == uuid.Nil || !armedFor.Equal(next) {
		return fmt.Sprintf("the next slot (%s) is not armed", slot)
	}
	for _, j := range gs.Jobs() {
		if j.ID() != job {
			continue
		}
		at, err := j.NextRun()
		if err != nil || !at.Equal(armedAt) {
			return fmt.Sprintf("the timer of the next slot (%s) is not due at its time", slot)
		}
		return ""
	}
	return fmt.Sprintf("the timer of the next slot (%s) is gone", slot)
}

// repair drops the slot timer and runs a check, which arms it afresh. It does not wait for a
// check in progress.
func (s *Service) repair(ctx context.Context) {
	if !s.checkMu.TryLock() {
		return
	}
	defer s.checkMu.Unlock()
	s.mu.Lock()
	if s.gs != nil && s.slotJob != uuid.Nil {
		_ = s.gs.RemoveJob(s.slotJob)
	}
	s.slotJob, s.armedFor, s.armedAt = uuid.Nil, time.Time{}, time.Time{}
	s.mu.Unlock()
	if ctx.Err() == nil {
		s.checkLocked(ctx, "watchdog")
	}
}
