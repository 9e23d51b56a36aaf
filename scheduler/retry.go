package scheduler

import (
	"context"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

type pendingRetry struct {
	slot     time.Time
	attempt  int // the attempt the retry will be
	at       time.Time
	nextSlot time.Time // the retry is dropped once this slot has come (a timer late after a suspend)
}

// scheduleRetry arms a retry of a failed scheduled run with doubling backoff, if one is left and
// it falls before the next slot.
func (s *Service) scheduleRetry(run Run, now time.Time) {
	if run.Trigger == TriggerManual || run.ErrorClass == ClassCanceled {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Paused || s.gs == nil || run.Attempt > s.sched.Retries {
		return
	}
	delay := time.Duration(s.sched.RetryBackoff) * time.Minute << (run.Attempt - 1)
	at := now.Add(delay)
	next := s.sched.Next(now)
	if !next.IsZero() && !at.Before(next) {
		s.log.Info("no retry: the next slot comes first", "run_id", run.ID, "retry_at", at, "next_run", next)
		return
	}
	s.clearRetryLocked()
	r := &pendingRetry{slot: run.Slot, attempt: run.Attempt + 1, at: at, nextSlot: next}
	ctx := s.runCtx
	j, err := s.gs.NewJob(gocron.OneTimeJob(gocron.OneTimeJobStartDateTime(s.cfg.Clock.Now().Add(delay))),
		gocron.NewTask(func() { s.runRetry(ctx, r) }), gocron.WithName("retry"), gocron.WithLimitedRuns(1))
	if err != nil {
		s.log.Error("arming a retry", "err", err)
		return
	}
	s.retry, s.retryJob = r, j.ID()
	s.log.Info("retry armed", "run_id", run.ID, "attempt", r.attempt, "retry_at", at)
}

func (s *Service) runRetry(ctx context.Context, r *pendingRetry) {
	s.mu.Lock()
	if s.retry != r {
		s.mu.Unlock()
		return
	}
	s.retry, s.retryJob = nil, uuid.Nil
	s.mu.Unlock()
	if now := s.now(); !r.nextSlot.IsZero() && !now.Before(r.nextSlot) {
		// The timer fired late (a suspended laptop): the next slot has come, and it runs
		// instead of an old attempt.
		s.log.Info("retry dropped: the next slot has come", "slot", r.slot, "attempt", r.attempt, "next_slot", r.nextSlot)
		return
	}
	if _, err := s.start(ctx, TriggerRetry, r.slot, r.attempt); err != nil {
		s.log.Warn("retry not started", "attempt", r.attempt, "err", err)
	}
}

func (s *Service) clearRetryLocked() {
	if s.retry == nil {
		return
	}
	if s.gs != nil && s.retryJob != uuid.Nil {
		_ = s.gs.RemoveJob(s.retryJob)
	}
	s.retry, s.retryJob = nil, uuid.Nil
}
