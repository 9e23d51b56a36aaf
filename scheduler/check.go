package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

// check compares the wall clock with the schedule: it records slots missed beyond the grace
// period (coalesced), starts the due slot or one catch-up, notes an overdue slot it cannot start,
// and re-arms the slot timer. It is called on the tick, at start, on resume, on every schedule
// change, when the slot timer fires, and after each run.
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
	now := s.now()
	s.mu.Lock()
	sched, paused := s.sched, s.state.Paused
	cursor := s.state.Cursor
	busy := s.active != nil
	s.mu.Unlock()

	switch {
	case cursor.IsZero() || cursor.After(now):
		// Slots from before the first start, or from a wall clock that was set back, are
		// not owed.
		s.setCursor(now)
		fallthrough
	case paused || !sched.Enabled:
		// Nothing is due while paused or disabled; Resume and a schedule change start the
		// cursor afresh, so it is not written on every tick.
		s.setOverdue(time.Time{})
		s.arm(ctx, now)
		return
	}
	due := sched.SlotsBetween(cursor, now, 10000)
	if len(due) == 0 {
		s.setOverdue(time.Time{})
		s.arm(ctx, now)
		return
	}
	grace := time.Duration(sched.GraceMinutes) * time.Minute
	last := due[len(due)-1]
	missed := due[:len(due)-1]
	lastMissed := now.Sub(last) > grace
	if lastMissed {
		missed = due
	}
	s.log.Debug("wall-clock check found due slots", "reason", reason, "due", len(due), "first", due[0])
	catchUp := false
	if len(missed) > 0 {
		// A catch-up follows when one starts now, or a run in progress brings the orders up
		// to date; the missed alert says which.
		recorded, err := s.recordMissed(sched, missed, now, busy || !lastMissed || sched.CatchUp)
		if err != nil {
			// Nothing moves: the next check tries again.
			s.log.Error("recording missed slots", "slots", len(missed), "err", err)
			s.arm(ctx, now)
			return
		}
		catchUp = len(recorded) > 0
		s.setCursor(missed[len(missed)-1])
	}
	if lastMissed {
		s.setOverdue(time.Time{})
		if catchUp && sched.CatchUp && !busy {
			if _, err := s.start(ctx, TriggerCatchUp, time.Time{}, 1); err != nil {
				s.log.Error("starting a catch-up run", "err", err)
			}
		}
		s.arm(ctx, now)
		return
	}
	trigger := TriggerScheduled
	if catchUp || now.Sub(last) > time.Minute {
		trigger = TriggerCatchUp
	}
	var err error
	if !busy {
		_, err = s.start(ctx, trigger, last, 1)
	}
	switch {
	case busy || errors.Is(err, ErrAlreadyRunning):
		// Another run holds the single flight: the slot stays owed (overdue) and runs when
		// that run ends, or is recorded missed past the grace period.
		s.setOverdue(last)
		s.log.Warn("overdue", "slot", last, "overdue_minutes", int(now.Sub(last).Minutes()),
			"reason", "another run is in progress")
		s.bus.Publish(Event{Kind: EventOverdue, At: now, Slot: last, OverdueBy: now.Sub(last)})
	case err != nil && !errors.Is(err, ErrSlotClaimed):
		// The claim failed (a store error): the slot stays owed and the next check tries again.
		s.setOverdue(last)
		s.log.Error("starting the run of a slot", "slot", last, "err", err)
	default:
		if trigger == TriggerCatchUp && now.Sub(last) > time.Minute {
			s.log.Warn("overdue", "slot", last, "overdue_minutes", int(now.Sub(last).Minutes()), "reason", reason)
		}
		// The slot is claimed (now or before a restart): only then does the cursor pass it.
		s.setCursor(last)
		s.setOverdue(time.Time{})
	}
	s.arm(ctx, now)
}

// slotAttr logs a run's slot; manual and catch-up runs have none.
func slotAttr(slot time.Time) slog.Attr {
	if slot.IsZero() {
		return slog.String("slot", "none")
	}
	return slog.Time("slot", slot)
}

// prevInstant is the instant just before t, so that a cursor set to it leaves t due.
func prevInstant(t time.Time) time.Time { return t.Add(-time.Nanosecond) }

// recordMissed writes one coalesced missed record for slots that passed the grace period with no
// run, claiming them all in the transaction that raises its alerts, and returns the slots it
// recorded (slots that already had a run, e.g. before a restart, are left out). catchUp says
// whether a scrape follows (or is in progress), for the alert's words.
func (s *Service) recordMissed(sched Schedule, slots []time.Time, now time.Time, catchUp bool) ([]time.Time, error) {
	free := slots[:0:0]
	for _, sl := range slots {
		if _, err := s.cfg.Store.RunBySlot(sl); errors.Is(err, ErrNotFound) {
			free = append(free, sl)
		} else if err != nil {
			return nil, fmt.Errorf("looking up slot %s: %w", sl.Format(time.RFC3339), err)
		}
	}
	if len(free) == 0 {
		return nil, nil
	}
	run := Run{Trigger: TriggerScheduled, Status: StatusMissed, Started: now, Finished: now,
		MissedSlots: free, PID: s.cfg.PID, Attempt: 1, CatchUp: catchUp,
		Message: MissedMessage(free, sched.Location())}
	rec, _, err := s.finish(run, nil, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.missed = &rec
	s.mu.Unlock()
	s.log.Warn("job event", "event", "missed", "run_id", rec.ID, "slots", len(free),
		"first", free[0], "last", free[len(free)-1], "message", rec.Message)
	s.bus.Publish(Event{Kind: EventSlotsMissed, At: now, Run: &rec})
	return free, nil
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

func (s *Service) setCursor(t time.Time) {
	s.mu.Lock()
	same := s.state.Cursor.Equal(t)
	s.mu.Unlock()
	if same {
		return
	}
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Cursor = t; return nil }); err != nil {
		s.log.Error("saving the scheduler cursor", "err", err)
		return
	}
	// Each path updates only the fields of the cached state it owns, so a run that finished
	// in between keeps its failure count.
	s.mu.Lock()
	s.state.Cursor = t
	s.mu.Unlock()
}

func (s *Service) setOverdue(slot time.Time) {
	s.mu.Lock()
	s.overdue = slot
	s.mu.Unlock()
}

// arm (re)arms the gocron job of the next slot after now. A job already armed for that slot is
// left alone.
func (s *Service) arm(ctx context.Context, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gs == nil {
		return
	}
	next := time.Time{}
	if !s.state.Paused {
		next = s.sched.Next(now)
	}
	if s.slotJob != uuid.Nil && next.Equal(s.armedFor) {
		return
	}
	if s.slotJob != uuid.Nil {
		_ = s.gs.RemoveJob(s.slotJob)
		s.slotJob, s.armedFor = uuid.Nil, time.Time{}
	}
	if next.IsZero() {
		return
	}
	// gocron's timers run on Clock; the slot is a wall-clock instant. Convert with one reading
	// of both (they differ in a test of a suspend), and never arm in the past: the slot is
	// then already due and the next check takes it.
	clk := s.cfg.Clock.Now()
	at := next.Add(clk.Sub(s.now()))
	if !at.After(clk) {
		at = clk.Add(time.Millisecond)
	}
	j, err := s.gs.NewJob(gocron.OneTimeJob(gocron.OneTimeJobStartDateTime(at)),
		gocron.NewTask(func() {
			s.mu.Lock()
			s.armedFor = time.Time{}
			s.mu.Unlock()
			s.check(ctx, "slot")
		}), gocron.WithName("next slot"), gocron.WithLimitedRuns(1))
	if err != nil {
		s.log.Error("arming the next slot", "next", next, "err", err)
		return
	}
	s.slotJob, s.armedFor = j.ID(), next
}
