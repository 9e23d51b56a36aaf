package scheduler

import "time"

// DropSlotTimer stops the slot timer behind the service's back, as a timer that was lost; it
// reports whether there was one.
func (s *Service) DropSlotTimer() bool {
	a := s.armed.Load()
	if a == nil {
		return false
	}
	a.stop()
	return true
}

// ArmedTimer returns the slot the armed timer is for and whether that timer is live (neither
// stopped nor fired).
func (s *Service) ArmedTimer() (time.Time, bool) {
	a := s.armed.Load()
	if a == nil {
		return time.Time{}, false
	}
	return a.slot, !a.stopped.Load() && !a.fired.Load()
}

// Checks returns how many wall-clock checks have completed.
func (s *Service) Checks() uint64 { return s.checks.Load() }

// Watched returns how many watchdog ticks have completed.
func (s *Service) Watched() uint64 { return s.watched.Load() }
