package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type activeRun struct {
	run      Run
	progress Progress
	cancel   context.CancelFunc
	done     chan struct{}
	// finishing is set once the run's outcome is being recorded; released is closed when the
	// run has let go of the single flight. A record reads as finished in between, so a start
	// then waits for released instead of answering "already running" for a finished run.
	finishing atomic.Bool
	released  chan struct{}
	// aliveMu orders the progress writes of Run.Alive before the outcome: once finishing is
	// set under it, no Alive write follows. aliveAt (under Service.mu) is the last one.
	aliveMu sync.Mutex
	aliveAt time.Time
}

// AliveEvery is how often, at most, a running run's record is rewritten with Run.Alive as it
// reports progress.
const AliveEvery = 5 * time.Second

// releaseWait bounds how long a start waits for a finishing run to let go of the single
// flight (the outcome's store transaction).
const releaseWait = 5 * time.Second

// start claims and launches a run in its own goroutine and returns its record. It returns
// ErrAlreadyRunning (with the running record) while a run is in progress, and ErrSlotClaimed when
// the slot (or one of covered) already ran. When the claim cannot be written (the store
// fails) the run goes on unrecorded (ID 0): it is recorded when it ends, or when the store
// works again.
func (s *Service) start(ctx context.Context, trigger Trigger, slot time.Time, attempt int, covered []time.Time) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.active; a != nil && a.finishing.Load() {
		// Its record may already read as finished: wait for it to let go, within bounds.
		s.mu.Unlock()
		t := time.NewTimer(releaseWait)
		select {
		case <-a.released:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		s.mu.Lock()
	}
	if s.active != nil {
		return s.active.run, ErrAlreadyRunning
	}
	if ctx.Err() != nil {
		return Run{}, ctx.Err()
	}
	now := s.now()
	run := Run{Trigger: trigger, Slot: slot, Attempt: attempt, CoveredSlots: covered,
		Started: now, Status: StatusRunning, PID: s.cfg.PID}
	rec, err := s.cfg.Store.ClaimRun(run)
	switch {
	case errors.Is(err, ErrSlotClaimed):
		s.log.Info("slot already ran", "slot", slot, "trigger", trigger)
		return Run{}, err
	case err != nil:
		// Unlock around storageFailed: it takes mu itself.
		s.mu.Unlock()
		s.storageFailed("recording the start of a run", err)
		s.mu.Lock()
		if s.active != nil {
			return s.active.run, ErrAlreadyRunning
		}
		rec = normalizeRun(run)
		s.log.Warn("the run goes on unrecorded", "trigger", trigger, slotAttr(slot), "err", err)
	}
	if trigger != TriggerRetry {
		s.clearRetryLocked()
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout)
	a := &activeRun{run: rec, cancel: cancel, done: make(chan struct{}), released: make(chan struct{}),
		progress: Progress{RunID: rec.ID, Stage: StageStarting}}
	s.active = a
	s.wg.Add(1)
	go s.execute(runCtx, a)
	return rec, nil
}

// normalizeRun returns r with its instants in UTC, as the store keeps them.
func normalizeRun(r Run) Run {
	r.Started = r.Started.UTC()
	if !r.Slot.IsZero() {
		r.Slot = r.Slot.UTC()
	}
	return r
}

// scrapeOutcome is what the scraper returned.
type scrapeOutcome struct {
	res ScrapeResult
	err error
}

// execute performs a claimed run and records its outcome. The scraper runs in a goroutine of
// its own: when the run's context is done (its deadline, a cancel, shutdown) and the scraper
// has not returned within Config.AbandonAfter, the run is abandoned (recorded as a timeout or
// canceled) and the single flight released; the scraper's late result is ignored.
func (s *Service) execute(ctx context.Context, a *activeRun) {
	defer s.wg.Done()
	defer close(a.done)
	defer a.cancel()
	run := a.run
	s.log.Info("scheduled job starting", "run_id", run.ID, slotAttr(run.Slot), "trigger", run.Trigger,
		"attempt", run.Attempt, "pid", run.PID)
	started := run // events are values: the record below goes on changing
	s.bus.Publish(Event{Kind: EventRunStarted, At: run.Started, Run: &started})

	var res ScrapeResult
	known, err := s.cfg.Store.ActiveOrders()
	if err == nil {
		res, err = s.scrapeOrAbandon(ctx, run.ID, known)
	} else {
		err = &RunError{Class: ClassStorageFailed, Msg: "the stored work orders could not be read: " + err.Error(), Err: err}
	}
	if s.stopped.Load() {
		// Run gave up waiting for this run and returned; the owner may have closed the
		// store. The record stays "running" and is marked interrupted at the next start.
		s.log.Warn("a run abandoned at shutdown ended; it is not recorded", "run_id", run.ID)
		return
	}
	if err == nil && len(res.Orders) == 0 && !res.EmptyState {
		err = &RunError{Class: ClassLayoutChanged,
			Msg: "the work-order list showed no rows and no \"no work orders\" message; the portal's layout may have changed, so the profile needs updating"}
	}
	if err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		var re *RunError
		if !errors.As(err, &re) || re.Class == ClassCanceled {
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
		run.Message = strings.Join(res.Warnings, "; ")
		run.Incomplete, run.ListReads = !res.Complete, res.ListReads
		orders = res.Orders
		if orders == nil {
			orders = []Order{}
		}
	}
	a.aliveMu.Lock()
	a.finishing.Store(true)
	a.aliveMu.Unlock()
	rec, diff, ferr := s.finish(run, orders, now)
	if errors.Is(ferr, ErrSlotClaimed) {
		// An unrecorded run whose slot was claimed meanwhile stands for no slot.
		run.Slot, run.CoveredSlots = time.Time{}, nil
		rec, diff, ferr = s.finish(run, orders, now)
	}
	outcomeSaved := ferr == nil
	if ferr != nil {
		s.storageFailed(writeRunOutcome, ferr)
		if run.Status == StatusSucceeded {
			run.Message = fmt.Sprintf("the scrape read %d work orders but they could not be saved: %v", len(orders), ferr)
		} else {
			run.Message = fmt.Sprintf("%s (and the outcome could not be saved: %v)", run.Message, ferr)
		}
		run.Status, run.ErrorClass = StatusFailed, ClassStorageFailed
		rec, diff, ferr = s.finish(run, nil, now)
		if ferr != nil {
			rec = run
			s.queueUnrecorded(run)
			// The retry could not be saved with the run: it is kept in memory.
			s.mu.Lock()
			s.state.Retry = planRetry(run, s.sched, s.state.Paused, now)
			s.mu.Unlock()
		}
	}
	switch {
	case !outcomeSaved:
		// Only the failure could be recorded (or nothing): the store still cannot take a
		// run's outcome, so the storage error stays.
	case run.ErrorClass == ClassStorageFailed:
		// The run itself failed on the store (reading the stored orders, or the scraper's own
		// writes): the record fitted, but the store is not well.
		s.storageFailed("running a scrape", errors.New(run.Message))
	default:
		s.storageOK(writeRunOutcome)
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
	close(a.released)
	s.last = &rec
	if rec.Status == StatusSucceeded {
		s.lastOK = &rec
		s.orders = diff.Found
	}
	retry := s.state.Retry
	s.mu.Unlock()
	s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec, Diff: &diff})

	s.armRetry(retry)
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

// scrapeOrAbandon runs the scraper in its own goroutine and returns its result, or abandons it
// when it has not returned Config.AbandonAfter after ctx is done. It does not wait for an
// abandoned scraper.
func (s *Service) scrapeOrAbandon(ctx context.Context, runID uint64, known map[string]Order) (ScrapeResult, error) {
	out := make(chan scrapeOutcome, 1)
	go func() {
		res, err := s.scrape(ctx, runID, known)
		out <- scrapeOutcome{res, err}
	}()
	select {
	case o := <-out:
		return o.res, o.err
	case <-ctx.Done():
	}
	grace := time.NewTimer(s.cfg.AbandonAfter)
	defer grace.Stop()
	select {
	case o := <-out:
		return o.res, o.err
	case <-grace.C:
	}
	s.log.Error("the scraper did not return after its context ended; the run is abandoned",
		"run_id", runID, "abandon_after", s.cfg.AbandonAfter.String(), "cause", ctx.Err())
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ScrapeResult{}, &RunError{Class: ClassTimeout, Err: ctx.Err(),
			Msg: fmt.Sprintf("the scrape did not finish within its deadline (%s) and was abandoned", s.cfg.RunTimeout)}
	}
	return ScrapeResult{}, &RunError{Class: ClassCanceled, Err: ctx.Err(),
		Msg: "the run was canceled; the scraper did not stop in time and was abandoned"}
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
	a, now := s.active, s.now()
	alive := r.ID != 0 && now.Sub(a.aliveAt) >= AliveEvery
	if alive {
		a.aliveAt = now
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if alive {
		go s.writeAlive(a, r, now)
	}
	s.bus.Publish(Event{Kind: EventRunProgress, At: now, Run: &r, Progress: &p})
}

// writeAlive rewrites the running record r with Alive = at, unless its outcome is being
// recorded. A failure is only logged: the record stays "running" and the next one may fit.
func (s *Service) writeAlive(a *activeRun, r Run, at time.Time) {
	defer s.wg.Done()
	a.aliveMu.Lock()
	defer a.aliveMu.Unlock()
	if a.finishing.Load() || s.stopped.Load() {
		return
	}
	r.Alive = at.UTC()
	if err := s.cfg.Store.UpdateRun(r); err != nil {
		s.log.Warn("recording that a run is alive", "run_id", r.ID, "err", err)
	}
}

// finish records a run's outcome with its diff, state and alerts in one store transaction. A
// record with no id yet (a missed record, or a run whose claim could not be written) is inserted
// and its slots claimed in that transaction. The pending retry is planned in the same
// transaction, so it survives a restart.
func (s *Service) finish(run Run, orders []Order, now time.Time) (Run, Diff, error) {
	s.mu.Lock()
	sched, paused := s.sched, s.state.Paused
	s.mu.Unlock()
	var (
		newState State
		queued   int
	)
	rec, diff, err := s.cfg.Store.FinishRun(run, orders, now, func(r *Run, d Diff, st *State) []Alert {
		if r.Status == StatusSucceeded && d.Previous > 0 && d.Found*2 < d.Previous {
			r.LargeDrop = true
			drop := fmt.Sprintf("the portal listed %d work orders, down from %d", d.Found, d.Previous)
			if r.Message != "" {
				drop += "; " + r.Message
			}
			r.Message = drop
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
		switch r.Status {
		case StatusSucceeded, StatusFailed, StatusCanceled:
			st.Retry = planRetry(*r, sched, paused || st.Paused, now)
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
	// The check owns the cursor and the owed slots, Pause and Resume the paused flag.
	newState.Paused = s.state.Paused
	newState.Cursor = s.state.Cursor
	newState.Owed = s.state.Owed
	s.state = newState
	s.mu.Unlock()
	return rec, diff, nil
}
