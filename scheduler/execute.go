package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

type activeRun struct {
	run      Run
	progress Progress
	cancel   context.CancelFunc
	done     chan struct{}
}

// start claims and launches a run in its own goroutine and returns its record. It returns
// ErrAlreadyRunning (with the running record) while a run is in progress, and ErrSlotClaimed when
// the slot already ran.
func (s *Service) start(ctx context.Context, trigger Trigger, slot time.Time, attempt int) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil {
		return s.active.run, ErrAlreadyRunning
	}
	if ctx.Err() != nil {
		return Run{}, ctx.Err()
	}
	now := s.now()
	run, err := s.cfg.Store.ClaimRun(Run{Trigger: trigger, Slot: slot, Attempt: attempt,
		Started: now, Status: StatusRunning, PID: s.cfg.PID})
	if err != nil {
		if errors.Is(err, ErrSlotClaimed) {
			s.log.Info("slot already ran", "slot", slot, "trigger", trigger)
			return Run{}, err
		}
		return Run{}, fmt.Errorf("recording the run: %w", err)
	}
	if trigger != TriggerRetry {
		s.clearRetryLocked()
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout)
	a := &activeRun{run: run, cancel: cancel, done: make(chan struct{}),
		progress: Progress{RunID: run.ID, Stage: StageStarting}}
	s.active = a
	s.wg.Add(1)
	go s.execute(runCtx, a)
	return run, nil
}

// execute performs a claimed run and records its outcome.
func (s *Service) execute(ctx context.Context, a *activeRun) {
	defer s.wg.Done()
	defer close(a.done)
	defer a.cancel()
	run := a.run
	s.log.Info("scheduled job starting", "run_id", run.ID, slotAttr(run.Slot), "trigger", run.Trigger,
		"attempt", run.Attempt, "pid", run.PID)
	started := run // events are values: the record below goes on changing
	s.bus.Publish(Event{Kind: EventRunStarted, At: run.Started, Run: &started})

	known, err := s.cfg.Store.ActiveOrders()
	var res ScrapeResult
	if err == nil {
		res, err = s.scrape(ctx, run.ID, known)
	} else {
		err = fmt.Errorf("reading stored orders: %w", err)
	}
	if err == nil && len(res.Orders) == 0 && !res.EmptyState {
		err = &RunError{Class: ClassLayoutChanged,
			Msg: "the work-order list showed no rows and no \"no work orders\" message; the portal's layout may have changed, so the profile needs updating"}
	}
	if err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		var re *RunError
		if !errors.As(err, &re) {
			err = fmt.Errorf("%w", context.DeadlineExceeded)
		}
	}
	now := s.now()
	run.Finished = now
	run.Duration = now.Sub(run.Started)
	run.Stages = res.Stages
	var orders []Order
	if err != nil {
		run.ErrorClass, run.Message = Classify(err)
		run.Status = StatusFailed
		if run.ErrorClass == ClassCanceled {
			run.Status = StatusCanceled
		}
		var af interface{ ArtifactPaths() []string }
		if errors.As(err, &af) {
			run.Artifacts = af.ArtifactPaths()
		}
	} else {
		run.Status = StatusSucceeded
		orders = res.Orders
		if orders == nil {
			orders = []Order{}
		}
	}
	rec, diff, ferr := s.finish(run, orders, now)
	if ferr != nil {
		s.log.Error("recording the run outcome", "run_id", run.ID, "err", ferr)
		run.Status, run.ErrorClass = StatusFailed, ClassPortalError
		run.Message = "the scrape finished but its result could not be saved: " + ferr.Error()
		rec, diff, ferr = s.finish(run, nil, now)
		if ferr != nil {
			rec = run
		}
	}
	level := slog.LevelInfo
	if rec.Status != StatusSucceeded {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "job event", "event", string(rec.Status), "run_id", rec.ID,
		slotAttr(rec.Slot), "trigger", rec.Trigger, "attempt", rec.Attempt, "duration", rec.Duration.Round(time.Millisecond).String(),
		"error_class", rec.ErrorClass, "message", rec.Message, "found", rec.Found, "new", rec.New,
		"changed", rec.Changed, "removed", rec.Removed, "large_drop", rec.LargeDrop)

	s.mu.Lock()
	s.active = nil
	s.last = &rec
	if rec.Status == StatusSucceeded {
		s.lastOK = &rec
		s.orders = diff.Found
	}
	s.mu.Unlock()
	s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec, Diff: &diff})

	if rec.Status == StatusFailed {
		s.scheduleRetry(rec, now)
	}
	// A slot may have come due while this run held the single flight.
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx != nil && runCtx.Err() == nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.check(runCtx, "run finished")
		}()
	}
}

// scrape calls the scraper, turning a panic into a browser_failed error.
func (s *Service) scrape(ctx context.Context, runID uint64, known map[string]Order) (res ScrapeResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &RunError{Class: ClassBrowserFailed, Msg: fmt.Sprintf("the scraper crashed: %v", p)}
		}
	}()
	return s.cfg.Scraper.Scrape(ctx, ScrapeRequest{RunID: runID, Known: known, Progress: s.progress})
}

// progress records and publishes a progress report. It never blocks.
func (s *Service) progress(p Progress) {
	s.mu.Lock()
	if s.active == nil || s.active.run.ID != p.RunID && p.RunID != 0 {
		s.mu.Unlock()
		return
	}
	p.RunID = s.active.run.ID
	s.active.progress = p
	r := s.active.run
	s.mu.Unlock()
	s.bus.Publish(Event{Kind: EventRunProgress, At: s.now(), Run: &r, Progress: &p})
}

// finish records a run's outcome with its diff, state and alerts in one store transaction. A
// record with no id yet (a missed record) is inserted and its slots claimed in that transaction.
func (s *Service) finish(run Run, orders []Order, now time.Time) (Run, Diff, error) {
	var (
		newState State
		queued   int
	)
	rec, diff, err := s.cfg.Store.FinishRun(run, orders, now, func(r *Run, d Diff, st *State) []Alert {
		if r.Status == StatusSucceeded && d.Previous > 0 && d.Found*2 < d.Previous {
			r.LargeDrop = true
			r.Message = fmt.Sprintf("the portal listed %d work orders, down from %d", d.Found, d.Previous)
		}
		switch r.Status {
		case StatusSucceeded:
			st.ConsecutiveFailures = 0
			st.FailingSince = time.Time{}
			st.LastError, st.LastErrorClass = "", ""
		case StatusFailed, StatusInterrupted:
			if st.ConsecutiveFailures == 0 {
				st.FailingSince = r.Started
			}
			st.ConsecutiveFailures++
			st.LastError, st.LastErrorClass = r.Message, r.ErrorClass
		}
		var alerts []Alert
		if s.cfg.Policy != nil {
			alerts = s.cfg.Policy.RunFinished(r, d, st, now)
		}
		newState, queued = *st, len(alerts)
		return alerts
	})
	if err != nil {
		return run, diff, err
	}
	if queued > 0 {
		s.bus.Publish(Event{Kind: EventAlertsQueued, At: now, Run: &rec})
	}
	s.mu.Lock()
	newState.Paused = s.state.Paused
	newState.Cursor = s.state.Cursor
	s.state = newState
	s.mu.Unlock()
	return rec, diff, nil
}
