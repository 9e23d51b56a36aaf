package scheduler

import (
	"time"
)

// Snapshot is the scheduler's state at one instant, for the tray, the windows and the CLI.
type Snapshot struct {
	Now         time.Time   `json:"now"`
	Schedule    Schedule    `json:"schedule"`
	Paused      bool        `json:"paused"`
	Next        time.Time   `json:"next,omitzero"`
	NextRuns    []time.Time `json:"next_runs,omitempty"`
	Running     *Run        `json:"running,omitempty"`
	Progress    *Progress   `json:"progress,omitempty"`
	LastRun     *Run        `json:"last_run,omitempty"`
	LastSuccess *Run        `json:"last_success,omitempty"`
	// LastMissed is the latest coalesced missed record, if no run succeeded after it.
	LastMissed *Run `json:"last_missed,omitempty"`
	// OverdueSlot is set while a slot is past its time, within grace, and not started.
	OverdueSlot         time.Time     `json:"overdue_slot,omitzero"`
	OverdueBy           time.Duration `json:"overdue_by_ns,omitempty"`
	ConsecutiveFailures int           `json:"consecutive_failures"`
	FailingSince        time.Time     `json:"failing_since,omitzero"`
	LastError           string        `json:"last_error,omitempty"`
	LastErrorClass      ErrorClass    `json:"last_error_class,omitempty"`
	RetryAt             time.Time     `json:"retry_at,omitzero"`
	Orders              int           `json:"orders"`
	// Stuck is the reason the scheduler cannot arm its next slot (empty when it can). While
	// enabled and not paused, either the next slot is armed or Stuck says why not.
	Stuck      string    `json:"stuck,omitempty"`
	StuckSince time.Time `json:"stuck_since,omitzero"`
	// StorageError is the last failure to write the store, or a scrape's own failure on it
	// (class storage_failed). It is emptied only by a successful write of the kind that failed
	// or of a run's whole outcome, once nothing waits to be recorded: a small write that fits
	// (the cursor, a failure record without its orders) keeps it. Unrecorded counts runs that
	// could not be recorded since.
	StorageError string `json:"storage_error,omitempty"`
	Unrecorded   int    `json:"unrecorded,omitempty"`
	// Armed is the slot the scheduler's timer is armed for (zero when none is): while enabled
	// and not paused it equals Next, or Stuck says why not.
	Armed time.Time `json:"armed,omitzero"`
}

// StorageProblem says why the store cannot be written, or "" when nothing says so: the last
// failed write (StorageError), else the last run's error when it failed with ClassStorageFailed
// and no run succeeded since (ConsecutiveFailures > 0). Health, `diagnose` and `status` judge
// the store by it. It does no I/O.
func (s Snapshot) StorageProblem() string {
	switch {
	case s.StorageError != "":
		return s.StorageError
	case s.LastErrorClass == ClassStorageFailed && s.ConsecutiveFailures > 0:
		if s.LastError != "" {
			return s.LastError
		}
		return "the last run could not use the store"
	}
	return ""
}

// Overdue reports whether a slot is past due and not started.
func (s Snapshot) Overdue() bool { return !s.OverdueSlot.IsZero() }

// Snapshot returns the scheduler's state now. It does no I/O; it may wait for a run's claim
// being written. Safe for concurrent use.
func (s *Service) Snapshot() Snapshot {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		Now: now, Schedule: s.sched, Paused: s.state.Paused, Orders: s.orders,
		ConsecutiveFailures: s.state.ConsecutiveFailures, FailingSince: s.state.FailingSince,
		LastError: s.state.LastError, LastErrorClass: s.state.LastErrorClass,
	}
	if !s.state.Paused {
		snap.NextRuns = s.sched.NextN(now, 5)
		if len(snap.NextRuns) > 0 {
			snap.Next = snap.NextRuns[0]
		}
	}
	if s.active != nil {
		r, p := s.active.run, s.active.progress
		snap.Running, snap.Progress = &r, &p
	}
	if s.last != nil {
		r := *s.last
		snap.LastRun = &r
	}
	if s.lastOK != nil {
		r := *s.lastOK
		snap.LastSuccess = &r
	}
	if s.missed != nil && (s.lastOK == nil || s.missed.Finished.After(s.lastOK.Finished)) {
		r := *s.missed
		snap.LastMissed = &r
	}
	if !s.overdue.IsZero() {
		snap.OverdueSlot, snap.OverdueBy = s.overdue, now.Sub(s.overdue)
	} else if !s.state.Paused && s.sched.Enabled && s.active == nil {
		// A slot whose timer has not fired yet (a sleeping laptop) is overdue too.
		if t := s.sched.Next(s.state.Cursor); !t.IsZero() && !s.state.Cursor.IsZero() && t.Before(now) {
			snap.OverdueSlot, snap.OverdueBy = t, now.Sub(t)
		}
	}
	if s.state.Retry != nil {
		snap.RetryAt = s.state.Retry.At
	}
	if s.slot != nil && !s.slot.fired.Load() {
		snap.Armed = s.slot.slot
	}
	snap.StorageError, snap.Unrecorded = s.storage.err, s.unrecordedLocked()
	snap.Stuck, snap.StuckSince = s.stuckNow()
	return snap
}
