package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// maxDue bounds the slots one check looks at (the latest are kept): after a long sleep the
// older ones are long past grace, and one missed record stands for them all.
const maxDue = 10_000

// check compares the wall clock with the schedule: it records slots missed beyond the grace
// period (coalesced), starts the due slot or one catch-up, notes an overdue slot it cannot start,
// and re-arms the slot timer. It is called on the tick, at start, on resume, on every schedule
// change, when the slot timer fires, and after each run. A panic inside is caught and shows the
// service stuck; the next tick tries again.
func (s *Service) check(ctx context.Context, reason string) {
	if ctx.Err() != nil {
		return
	}
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	s.checkLocked(ctx, reason)
}

// checkLocked is check with checkMu held.
func (s *Service) checkLocked(ctx context.Context, reason string) {
	defer s.checks.Add(1)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("the wall-clock check panicked", "reason", reason, "panic", fmt.Sprint(p))
			s.setStuck(stuckCheck, fmt.Sprintf("the wall-clock check failed (%v); it is tried again every %s", p, s.cfg.CheckInterval))
			return
		}
		s.clearStuck(stuckCheck)
	}()
	now := s.now()
	s.flushUnrecorded(now)
	s.mu.Lock()
	sched, paused, cursor := s.sched, s.state.Paused, s.state.Cursor
	owed := slices.Clone(s.state.Owed)
	busy := s.active != nil
	var running Run
	if busy {
		running = s.active.run
	}
	s.mu.Unlock()

	if cursor.After(now) {
		// The wall clock was set back behind slots already dealt with: the time after now
		// has not really come.
		s.wallSetBack(now, cursor)
		cursor = now
	}
	if cursor.IsZero() {
		// Slots from before the first start are not owed.
		s.settle(now, nil)
		cursor = now
	}
	if paused {
		// Nothing is due while paused; Resume starts the cursor afresh, so it is not
		// written on every tick.
		s.setOverdue(time.Time{})
		s.arm(ctx, now)
		return
	}
	var due, later []time.Time // later: owed slots the wall clock (set back) has not reached again
	if sched.Enabled {
		due = sched.SlotsBetween(cursor, now, maxDue)
	}
	for _, t := range owed {
		switch {
		case t.After(now):
			later = append(later, t)
		case !slices.ContainsFunc(due, t.Equal):
			due = append(due, t)
		}
	}
	if len(due) == 0 {
		s.setOverdue(time.Time{})
		s.arm(ctx, now)
		return
	}
	slices.SortFunc(due, time.Time.Compare)

	// A slot already claimed (its run before a restart, or the run now retrying it) is dealt
	// with. A claim that cannot be read is taken as free: claiming it decides.
	var free []time.Time
	for _, t := range due {
		if busy && (t.Equal(running.Slot) || slices.ContainsFunc(running.CoveredSlots, t.Equal)) {
			continue
		}
		claimed, err := s.cfg.Store.SlotClaimed(t)
		if err != nil {
			s.storageFailed("reading slot claims", err)
		}
		if !claimed {
			free = append(free, t)
		}
	}
	grace := time.Duration(sched.GraceMinutes) * time.Minute
	var missed, inGrace []time.Time
	for _, t := range free {
		if now.Sub(t) > grace {
			missed = append(missed, t)
		} else {
			inGrace = append(inGrace, t)
		}
	}
	if len(free) > 0 {
		s.log.Debug("wall-clock check found due slots", "reason", reason, "due", len(free), "first", free[0])
	}
	catchUp := false
	if len(missed) > 0 {
		// A catch-up follows when one starts now, or a run in progress or a slot within
		// grace brings the orders up to date; the missed alert says which.
		catchUp = len(s.recordMissed(sched, missed, now, busy || len(inGrace) > 0 || sched.CatchUp)) > 0
	}
	pending := later // slots still owed after this check
	if len(inGrace) == 0 {
		s.setOverdue(time.Time{})
		if catchUp && sched.CatchUp && !busy {
			if _, err := s.start(ctx, TriggerCatchUp, time.Time{}, 1, nil); err != nil && !errors.Is(err, ErrAlreadyRunning) {
				s.log.Warn("catch-up run not started", "err", err)
			}
		}
	} else {
		// The latest slot within grace runs; it stands for the earlier ones still within
		// grace too (one scrape brings the orders up to date for all of them).
		last, covered := inGrace[len(inGrace)-1], inGrace[:len(inGrace)-1]
		trigger := TriggerScheduled
		if catchUp || len(covered) > 0 || now.Sub(last) > time.Minute {
			trigger = TriggerCatchUp
		}
		var err error
		if !busy {
			_, err = s.start(ctx, trigger, last, 1, covered)
		}
		switch {
		case busy || errors.Is(err, ErrAlreadyRunning):
			// Another run holds the single flight: the slots stay owed (overdue) and run
			// when that run ends, or are recorded missed past the grace period.
			pending = append(pending, inGrace...)
			s.setOverdue(inGrace[0])
			s.log.Warn("overdue", "slot", inGrace[0], "overdue_minutes", int(now.Sub(inGrace[0]).Minutes()),
				"reason", "another run is in progress")
			s.bus.Publish(Event{Kind: EventOverdue, At: now, Slot: inGrace[0], OverdueBy: now.Sub(inGrace[0])})
		case errors.Is(err, ErrSlotClaimed):
			// One of them was claimed meanwhile: they stay owed, and the next check, which
			// leaves claimed slots out, deals with the others.
			pending = append(pending, inGrace...)
		case err != nil:
			// Stopping: the slots stay owed for the next start.
			pending = append(pending, inGrace...)
		default:
			if trigger == TriggerCatchUp && now.Sub(last) > time.Minute {
				s.log.Warn("overdue", "slot", last, "overdue_minutes", int(now.Sub(last).Minutes()), "reason", reason)
			}
			s.setOverdue(time.Time{})
		}
	}
	slices.SortFunc(pending, time.Time.Compare)
	s.settle(now, pending)
	s.arm(ctx, now)
}

// slotAttr logs a run's slot; manual and catch-up runs have none.
func slotAttr(slot time.Time) slog.Attr {
	if slot.IsZero() {
		return slog.String("slot", "none")
	}
	return slog.Time("slot", slot)
}

// recordMissed writes one coalesced missed record for slots that passed the grace period with no
// run, claiming them all in the transaction that raises its alerts, and returns the slots it
// recorded (slots that already had a run, e.g. before a restart, are left out). catchUp says
// whether a scrape follows (or is in progress), for the alert's words. When the store cannot
// be written the record is kept in memory, recorded as soon as the store works again, and the
// slots count as recorded: the cursor moves on either way.
func (s *Service) recordMissed(sched Schedule, slots []time.Time, now time.Time, catchUp bool) []time.Time {
	run := Run{Trigger: TriggerScheduled, Status: StatusMissed, Started: now, Finished: now,
		MissedSlots: slots, PID: s.cfg.PID, Attempt: 1, CatchUp: catchUp,
		Message: MissedMessage(slots, sched.Location())}
	rec, _, err := s.finish(run, nil, now)
	if errors.Is(err, ErrSlotClaimed) {
		// Some were claimed meanwhile: record the others.
		free := slots[:0:0]
		for _, sl := range slots {
			if claimed, cerr := s.cfg.Store.SlotClaimed(sl); cerr == nil && !claimed {
				free = append(free, sl)
			}
		}
		if len(free) == 0 {
			return nil
		}
		run.MissedSlots, run.Message = free, MissedMessage(free, sched.Location())
		rec, _, err = s.finish(run, nil, now)
	}
	if err != nil {
		s.storageFailed("recording missed slots", err)
		s.queueUnrecorded(run)
		rec = run
	}
	s.mu.Lock()
	s.missed = &rec
	s.mu.Unlock()
	s.log.Warn("job event", "event", "missed", "run_id", rec.ID, "slots", len(rec.MissedSlots),
		"first", rec.MissedSlots[0], "last", rec.MissedSlots[len(rec.MissedSlots)-1], "message", rec.Message)
	s.bus.Publish(Event{Kind: EventSlotsMissed, At: now, Run: &rec})
	return rec.MissedSlots
}

// MissedMessage describes missed slots in the schedule's zone: "3 slots missed, 07:30–09:30".
func MissedMessage(slots []time.Time, loc *time.Location) string {
	if len(slots) == 0 {
		return ""
	}
	first, last := slots[0].In(loc), slots[len(slots)-1].In(loc)
	layout := "15:04"
	if first.YearDay() != last.YearDay() || first.Year() != last.Year() {
		layout = "Mon 15:04"
	}
	if len(slots) == 1 {
		return fmt.Sprintf("1 slot missed, %s", first.Format(layout))
	}
	return fmt.Sprintf("%d slots missed, %s–%s", len(slots), first.Format(layout), last.Format(layout))
}

// settle records that every slot up to now has been dealt with except pending, which stay
// owed: the cursor moves to now (never back) and State.Owed becomes pending, in one write. When
// the store cannot be written the cached state moves anyway (claims keep a slot from running
// twice) and the storage error shows.
func (s *Service) settle(now time.Time, pending []time.Time) {
	s.mu.Lock()
	cursor := s.state.Cursor
	if cursor.Before(now) {
		cursor = now
	}
	same := cursor.Equal(s.state.Cursor) && slices.EqualFunc(pending, s.state.Owed, time.Time.Equal)
	s.mu.Unlock()
	if same {
		return
	}
	pending = slices.Clone(pending)
	if _, err := s.cfg.Store.UpdateState(func(st *State) error {
		st.Cursor, st.Owed = cursor, pending
		return nil
	}); err != nil {
		s.storageFailed("saving the scheduler cursor", err)
	} else {
		s.storageOK("saving the scheduler cursor")
	}
	// Each path updates only the fields of the cached state it owns, so a run that finished
	// in between keeps its failure count.
	s.mu.Lock()
	s.state.Cursor, s.state.Owed = cursor, pending
	s.mu.Unlock()
}

// wallSetBack handles a wall clock set back behind the cursor (it was ahead, and was
// corrected): slots after now that were recorded missed are released (their real time has not
// come; they will run), and the cursor moves back to now. Runs that did start for such slots
// keep their claims: a slot never runs twice.
func (s *Service) wallSetBack(now, cursor time.Time) {
	released, err := s.cfg.Store.ReleaseMissedSlots(now)
	if err != nil {
		s.storageFailed("withdrawing missed records after the clock was set back", err)
	}
	s.log.Warn("the wall clock was set back", "now", now, "cursor", cursor, "released_missed_slots", len(released))
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Cursor = now; return nil }); err != nil {
		s.storageFailed("saving the scheduler cursor", err)
	}
	s.mu.Lock()
	s.state.Cursor = now
	if s.missed != nil && len(released) > 0 {
		m := *s.missed
		m.MissedSlots = slices.DeleteFunc(slices.Clone(m.MissedSlots), func(t time.Time) bool {
			return slices.ContainsFunc(released, t.Equal)
		})
		s.missed = &m
		if len(m.MissedSlots) == 0 {
			s.missed = nil
		}
	}
	s.mu.Unlock()
	sched := s.Schedule()
	s.bus.Publish(Event{Kind: EventScheduleChanged, At: now, Next: sched.Next(now)})
}

func (s *Service) setOverdue(slot time.Time) {
	s.mu.Lock()
	s.overdue = slot
	s.mu.Unlock()
}

// arm (re)arms the timer of the next slot after now. A timer already armed for that slot, and
// not fired, is left alone. Nothing is armed while paused or disabled.
func (s *Service) arm(ctx context.Context, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil || s.closing {
		return
	}
	next := time.Time{}
	if !s.state.Paused {
		next = s.sched.Next(now)
	}
	if s.slot != nil && !s.slot.fired.Load() && next.Equal(s.slot.slot) {
		return
	}
	s.slot.stop()
	s.slot = nil
	s.armed.Store(nil)
	if next.IsZero() {
		if s.sched.Enabled && !s.state.Paused {
			s.setStuck(stuckArm, "the schedule has no next slot")
		} else {
			s.clearStuck(stuckArm)
		}
		return
	}
	// The timer runs on Clock; the slot is a wall-clock instant, and the wait is their
	// difference now. A slot already due fires at once and the check takes it.
	d := max(next.Sub(s.now()), time.Millisecond)
	a := s.afterFunc(d, next, func() { s.check(ctx, "slot") })
	s.slot = a
	s.armed.Store(a)
	s.clearStuck(stuckArm)
}
