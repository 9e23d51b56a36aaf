package scheduler

import (
	"time"

	"github.com/google/uuid"
)

// DropSlotTimer removes the slot timer from gocron behind the service's back, as a timer that
// was lost; it reports whether there was one.
func (s *Service) DropSlotTimer() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gs == nil || s.slotJob == uuid.Nil {
		return false
	}
	return s.gs.RemoveJob(s.slotJob) == nil
}

// ArmedTimer returns the slot the service says it armed and whether gocron holds a job for it,
// due at the time it was armed for.
func (s *Service) ArmedTimer() (time.Time, bool) {
	s.mu.Lock()
	gs, job, slot, at := s.gs, s.slotJob, s.armedFor, s.armedAt
	s.mu.Unlock()
	if gs == nil || job == uuid.Nil {
		return slot, false
	}
	for _, j := range gs.Jobs() {
		if j.ID() == job {
			next, err := j.NextRun()
			return slot, err == nil && next.Equal(at)
		}
	}
	return slot, false
}

// Checks returns how many wall-clock checks have completed.
func (s *Service) Checks() uint64 { return s.checks.Load() }

// Watched returns how many watchdog ticks have completed.
func (s *Service) Watched() uint64 { return s.watched.Load() }
