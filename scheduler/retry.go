package scheduler

import (
	"context"
	"slices"
	"time"
)

// planRetry returns the retry of a finished run, or nil: a failed scheduled, catch-up or
// retry run with attempts left gets one after a doubling backoff, if that falls before the
// next slot and the scheduler is not paused. A configuration error (ClassConfig) gets none:
// it does not go away by itself, and the next slot tries again. It is pure; finish calls it inside the store
// transaction that records the run, so the retry is saved with it (State.Retry).
func planRetry(run Run, sched Schedule, paused bool, now time.Time) *PendingRetry {
	if run.Status != StatusFailed || run.Trigger == TriggerManual || run.ErrorClass == ClassCanceled || run.ErrorClass == ClassConfig ||
		paused || run.Attempt > sched.Retries || run.Attempt < 1 {
		return nil
	}
	delay := time.Duration(sched.RetryBackoff) * time.Minute << (run.Attempt - 1)
	at := now.Add(delay)
	next := sched.Next(now)
	if !next.IsZero() && !at.Before(next) {
		return nil
	}
	return &PendingRetry{Slot: run.Slot, Attempt: run.Attempt + 1, At: at.UTC(), NextSlot: next}
}

// armRetry arms the timer of a pending retry (nil drops the armed one). A retry whose time has
// passed (a restart, a suspend) starts at once.
func (s *Service) armRetry(r *PendingRetry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retryFor != nil && r != nil && *s.retryFor == *r {
		return
	}
	s.removeRetryJobLocked()
	if r == nil || s.runCtx == nil || s.closing {
		return
	}
	ctx := s.runCtx
	d := max(r.At.Sub(s.now()), time.Millisecond)
	s.retry = s.afterFunc(d, r.Slot, func() { s.runRetry(ctx, r) })
	s.retryFor = r
	s.log.Info("retry armed", slotAttr(r.Slot), "attempt", r.Attempt, "retry_at", r.At)
}

// runRetry starts an armed retry, unless it was replaced, or the next slot has come (a timer
// late after a suspend: the slot runs instead of an old attempt).
func (s *Service) runRetry(ctx context.Context, r *PendingRetry) {
	s.mu.Lock()
	if s.retryFor != r {
		s.mu.Unlock()
		return
	}
	s.retry, s.retryFor = nil, nil
	s.mu.Unlock()
	s.dropSavedRetry(r)
	if now := s.now(); !r.NextSlot.IsZero() && !now.Before(r.NextSlot) {
		s.log.Info("retry dropped: the next slot has come", "slot", r.Slot, "attempt", r.Attempt, "next_slot", r.NextSlot)
		return
	}
	if _, err := s.start(ctx, TriggerRetry, r.Slot, r.Attempt, nil); err != nil {
		s.log.Warn("retry not started", "attempt", r.Attempt, "err", err)
	}
}

// dropSavedRetry clears State.Retry when it is r.
func (s *Service) dropSavedRetry(r *PendingRetry) {
	same := func(p *PendingRetry) bool {
		return p != nil && r != nil && p.Attempt == r.Attempt && p.Slot.Equal(r.Slot)
	}
	s.mu.Lock()
	mine := same(s.state.Retry)
	if mine {
		s.state.Retry = nil
	}
	s.mu.Unlock()
	if !mine {
		return
	}
	if _, err := s.cfg.Store.UpdateState(func(st *State) error {
		if same(st.Retry) {
			st.Retry = nil
		}
		return nil
	}); err != nil {
		s.storageFailed("clearing the pending retry", err)
	}
}

// restoreRetry arms the retry saved before a restart, unless the scheduler is paused, the next
// slot has come, or a run interrupted at the restart already retries that slot.
func (s *Service) restoreRetry(ctx context.Context, interrupted []Run) {
	s.mu.Lock()
	r, paused, busy := s.state.Retry, s.state.Paused, s.active != nil
	s.mu.Unlock()
	if r == nil {
		return
	}
	retried := slices.ContainsFunc(interrupted, func(run Run) bool { return run.Slot.Equal(r.Slot) })
	if now := s.now(); paused || busy || retried || (!r.NextSlot.IsZero() && !now.Before(r.NextSlot)) {
		s.log.Info("saved retry dropped", slotAttr(r.Slot), "attempt", r.Attempt)
		s.dropSavedRetry(r)
		return
	}
	s.armRetry(r)
}

// clearRetryLocked drops the pending retry (its timer and its saved state). Call with mu held;
// it writes the store.
func (s *Service) clearRetryLocked() {
	s.removeRetryJobLocked()
	if s.state.Retry == nil {
		return
	}
	s.state.Retry = nil
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Retry = nil; return nil }); err != nil {
		s.log.Error("clearing the pending retry", "err", err)
	}
}

func (s *Service) removeRetryJobLocked() {
	s.retry.stop()
	s.retry, s.retryFor = nil, nil
}
