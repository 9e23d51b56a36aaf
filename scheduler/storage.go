package scheduler

import (
	"errors"
	"time"
)

// maxUnrecorded bounds the records kept in memory while the store cannot be written; past it
// the oldest are dropped (and logged), and Snapshot.Unrecorded still counts them.
const maxUnrecorded = 1000

// storageState is what the service knows about failures to write the store. Guarded by the
// service's mu.
type storageState struct {
	err     string // the last failure, "" once a write of its kind succeeds and nothing waits
	what    string // the kind of write that failed last (storageFailed's what)
	queue   []Run  // finished runs and missed records not yet recorded, oldest first
	dropped int    // records dropped from a full queue
}

// storageFailed notes a failed store write (or read on a path that must write next). It never
// blocks; the first failure of a kind is logged and published.
func (s *Service) storageFailed(what string, err error) {
	msg := what + ": " + err.Error()
	s.mu.Lock()
	changed := s.storage.err != msg
	s.storage.err, s.storage.what = msg, what
	s.mu.Unlock()
	if changed {
		s.log.Error("the store cannot be written", "what", what, "err", err)
		s.bus.Publish(Event{Kind: EventStorage, At: s.now(), Message: msg})
	}
}

// writeRunOutcome is the heaviest write: a run's record with its work orders. Its success
// clears a failure of any kind.
const writeRunOutcome = "recording the outcome of a run"

// storageOK notes a successful write of the kind what (as storageFailed names it). The storage
// error clears once nothing waits to be recorded, and only when the write that succeeded is of
// the kind that failed or is a run's whole outcome (writeRunOutcome): a small write that fits
// (the scheduler's cursor, a failed run's record without its orders) proves nothing about the
// write that did not, so it keeps the error.
func (s *Service) storageOK(what string) {
	s.mu.Lock()
	cleared := s.storage.err != "" && len(s.storage.queue) == 0 && (what == s.storage.what || what == writeRunOutcome)
	if cleared {
		s.storage.err, s.storage.what, s.storage.dropped = "", "", 0
	}
	s.mu.Unlock()
	if cleared {
		s.log.Info("the store can be written again")
		s.bus.Publish(Event{Kind: EventStorage, At: s.now()})
	}
}

// queueUnrecorded keeps a finished run or a missed record that could not be written, to record
// it when the store works again.
func (s *Service) queueUnrecorded(r Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storage.queue = append(s.storage.queue, r)
	if len(s.storage.queue) > maxUnrecorded {
		lost := s.storage.queue[0]
		s.storage.queue = s.storage.queue[1:]
		s.storage.dropped++
		s.log.Error("an unrecorded run is dropped", "status", lost.Status, slotAttr(lost.Slot), "started", lost.Started)
	}
}

// unrecorded returns how many runs could not be recorded so far. Call with mu held.
func (s *Service) unrecordedLocked() int { return len(s.storage.queue) + s.storage.dropped }

// flushUnrecorded records the queued runs, oldest first, through the policy like any other
// outcome; it stops at the first failure. A queued run whose slots were claimed meanwhile is
// recorded without them.
func (s *Service) flushUnrecorded(now time.Time) {
	for {
		s.mu.Lock()
		if len(s.storage.queue) == 0 {
			s.mu.Unlock()
			return
		}
		r := s.storage.queue[0]
		s.mu.Unlock()
		rec, diff, err := s.finish(r, nil, now)
		if errors.Is(err, ErrSlotClaimed) {
			if r.Status == StatusMissed {
				free := r.MissedSlots[:0:0]
				for _, sl := range r.MissedSlots {
					if claimed, cerr := s.cfg.Store.SlotClaimed(sl); cerr == nil && !claimed {
						free = append(free, sl)
					}
				}
				r.MissedSlots = free
			} else {
				r.Slot, r.CoveredSlots = time.Time{}, nil
			}
			if r.Status == StatusMissed && len(r.MissedSlots) == 0 {
				err = nil
			} else {
				rec, diff, err = s.finish(r, nil, now)
			}
		}
		if err != nil {
			s.storageFailed("recording the runs that could not be recorded", err)
			return
		}
		s.mu.Lock()
		if len(s.storage.queue) > 0 {
			s.storage.queue = s.storage.queue[1:]
		}
		s.mu.Unlock()
		if rec.ID != 0 {
			s.log.Info("recorded a run that could not be recorded before", "run_id", rec.ID, "status", rec.Status)
			s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec, Diff: &diff})
		}
		s.storageOK("recording the runs that could not be recorded")
	}
}
