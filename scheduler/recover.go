package scheduler

import (
	"context"
	"fmt"
	"time"
)

// recoverInterrupted records runs left "running" by a process that died as interrupted, through
// the alert policy like any other outcome, and returns them. The owner holds the store's lock,
// so no other process can be running one.
func (s *Service) recoverInterrupted() ([]Run, error) {
	runs, err := s.cfg.Store.RunningRuns()
	if err != nil {
		return nil, fmt.Errorf("looking for interrupted runs: %w", err)
	}
	now := s.now()
	out := runs[:0]
	for _, r := range runs {
		r.Status = StatusInterrupted
		r.Finished = now
		// The run ended when its process died: at the last sign of life it recorded (Alive),
		// not now, when this owner found it.
		if !r.Started.IsZero() {
			end := r.Alive
			if end.Before(r.Started) {
				end = r.Started
			}
			r.Duration = end.Sub(r.Started)
		}
		r.Message = fmt.Sprintf("the worktray process that ran it (pid %d) stopped before it finished", r.PID)
		rec, _, err := s.finish(r, nil, now)
		if err != nil {
			return nil, fmt.Errorf("marking run %d interrupted: %w", r.ID, err)
		}
		s.log.Warn("job event", "event", "interrupted", "run_id", rec.ID, slotAttr(rec.Slot), "pid", rec.PID)
		s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec})
		out = append(out, rec)
	}
	return out, nil
}

// retryInterrupted gives the slot of an interrupted run its next attempt at once, when the slot
// is still within grace, before the next slot, and has attempts left.
func (s *Service) retryInterrupted(ctx context.Context, runs []Run) {
	now := s.now()
	s.mu.Lock()
	sched, paused := s.sched, s.state.Paused
	s.mu.Unlock()
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Slot.IsZero() || paused || !sched.Enabled || r.Attempt > sched.Retries ||
			now.Sub(r.Slot) > time.Duration(sched.GraceMinutes)*time.Minute {
			continue
		}
		if next := sched.Next(r.Slot); !next.IsZero() && !now.Before(next) {
			continue
		}
		if _, err := s.start(ctx, TriggerRetry, r.Slot, r.Attempt+1, nil); err != nil {
			s.log.Warn("retry of an interrupted run not started", "run_id", r.ID, "err", err)
		}
		return
	}
}

// loadCaches fills the snapshot caches from the store.
func (s *Service) loadCaches() error {
	runs, err := s.cfg.Store.LatestRuns(200)
	if err != nil {
		return fmt.Errorf("reading recent runs: %w", err)
	}
	orders, err := s.cfg.Store.ActiveOrders()
	if err != nil {
		return fmt.Errorf("reading orders: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = len(orders)
	for i := range runs {
		r := runs[i]
		switch {
		case r.Status == StatusMissed:
			if s.missed == nil {
				s.missed = &r
			}
		case r.Status.Finished():
			if s.last == nil {
				s.last = &r
			}
			if r.Status == StatusSucceeded && s.lastOK == nil {
				s.lastOK = &r
			}
		}
	}
	return nil
}
