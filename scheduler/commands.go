package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ScrapeNow starts a manual run and returns its record at once. While another run is in
// progress it returns that run and ErrAlreadyRunning; the request is not queued.
func (s *Service) ScrapeNow(ctx context.Context) (Run, error) {
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx == nil {
		return Run{}, ErrNotStarted
	}
	return s.start(runCtx, TriggerManual, time.Time{}, 1, nil)
}

// CheckNow runs the wall-clock check at once, as the tick would: a due or overdue slot starts
// (claiming it), missed slots are recorded and caught up. It returns the run in progress
// afterwards, if any. `worktray diagnose --fix` uses it to catch up an overdue slot.
func (s *Service) CheckNow() (*Run, error) {
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx == nil {
		return nil, ErrNotStarted
	}
	s.check(runCtx, "check now")
	return s.Snapshot().Running, nil
}

// Cancel cancels the run in progress. It does not wait for the run to end.
func (s *Service) Cancel() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return ErrNotRunning
	}
	s.active.cancel()
	return nil
}

// Pause stops scheduled runs (slots, catch-ups and retries) until Resume. A run in progress
// goes on; "Scrape now" still works. Slots that passed are dealt with first (run, or recorded
// missed); a slot then still owed (overdue while another run holds the single flight) and the
// pending retry are dropped: a paused scheduler owes nothing. It blocks while a wall-clock
// check runs.
func (s *Service) Pause() error {
	s.mu.Lock()
	ctx := s.runCtx
	s.mu.Unlock()
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "before pausing")
	}
	if _, err := s.cfg.Store.UpdateState(func(st *State) error {
		st.Paused, st.Owed, st.Retry = true, nil, nil
		return nil
	}); err != nil {
		return fmt.Errorf("pausing: %w", err)
	}
	s.mu.Lock()
	s.state.Paused, s.state.Owed = true, nil
	s.publishLiveLocked()
	s.clearRetryLocked()
	s.mu.Unlock()
	s.log.Info("scheduler paused")
	s.bus.Publish(Event{Kind: EventPaused, At: s.now()})
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "pause")
	}
	return nil
}

// Resume restarts scheduled runs from now on; slots that passed while paused are not owed.
func (s *Service) Resume() error {
	s.mu.Lock()
	paused := s.state.Paused
	s.mu.Unlock()
	if !paused {
		// Not paused: nothing to resume, and the cursor must not skip an owed slot.
		return nil
	}
	now := s.now()
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Paused = false; st.Cursor = now; return nil }); err != nil {
		return fmt.Errorf("resuming: %w", err)
	}
	s.mu.Lock()
	s.state.Paused, s.state.Cursor = false, now
	s.publishLiveLocked()
	ctx := s.runCtx
	next := s.sched.Next(now)
	s.mu.Unlock()
	s.log.Info("scheduler resumed", "next_run", next)
	s.bus.Publish(Event{Kind: EventResumed, At: now, Next: next})
	if ctx != nil {
		s.check(ctx, "resume")
	}
	return nil
}

// UpdateSchedule validates and saves a schedule and applies it at once: the next slot is
// re-armed. Slots of the old schedule that passed are dealt with first (run, or recorded as
// missed); a slot still owed (overdue while another run holds the single flight) stays owed,
// whatever the new schedule, and runs or is recorded missed; slots of the new schedule before
// now are not owed, and enabling a disabled schedule owes nothing from the time it was
// disabled (the store's SaveScheduleAt settles this). An invalid schedule changes nothing and
// returns a ValidationError naming the fields. It blocks while a wall-clock check runs.
func (s *Service) UpdateSchedule(sc Schedule) error {
	if err := sc.ValidateAt(s.now()); err != nil {
		return err
	}
	s.mu.Lock()
	ctx := s.runCtx
	s.mu.Unlock()
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "before a schedule change")
	}
	now := s.now()
	if err := s.cfg.Store.SaveScheduleAt(sc, now); err != nil {
		return fmt.Errorf("saving the schedule: %w", err)
	}
	st, err := s.cfg.Store.State()
	s.mu.Lock()
	if err != nil {
		// Saved, but the settled state cannot be read back: settle the cached one the same way.
		s.log.Error("reading the scheduler state after a schedule change", "err", err)
		if s.sched.Enabled {
			for _, t := range s.sched.SlotsBetween(s.state.Cursor, now, maxDue) {
				if !slices.ContainsFunc(s.state.Owed, t.Equal) {
					s.state.Owed = append(s.state.Owed, t)
				}
			}
		}
		if s.state.Cursor.Before(now) {
			s.state.Cursor = now
		}
	} else {
		s.state.Cursor, s.state.Owed = st.Cursor, st.Owed
	}
	s.sched = sc
	s.publishLiveLocked()
	if r := s.state.Retry; r != nil && !r.At.Before(sc.Next(now)) {
		s.clearRetryLocked()
	}
	s.mu.Unlock()
	next := sc.Next(now)
	s.log.Info("schedule changed", "next_run", next, "minute", sc.Minute, "hour", sc.Hour,
		"every_hours", sc.EveryHours, "zone", sc.Zone, "enabled", sc.Enabled)
	s.bus.Publish(Event{Kind: EventScheduleChanged, At: now, Next: next})
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "schedule changed")
	}
	return nil
}

// Preview validates sc and returns its next n slots after now, without saving anything.
func (s *Service) Preview(sc Schedule, n int) ([]time.Time, error) {
	now := s.now()
	if err := sc.ValidateAt(now); err != nil {
		return nil, err
	}
	return sc.NextN(now, n), nil
}

// SettingsChanged tells every subscriber that a setting the scheduler does not keep itself
// (portal, alerts, retention; setting names it) was saved: the tray and the windows show it
// again. It never blocks and is safe for concurrent use.
func (s *Service) SettingsChanged(setting string) {
	s.bus.Publish(Event{Kind: EventSettingsChanged, At: s.now(), Message: setting})
}
