package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// StuckPolicy is an optional extension of AlertPolicy: the alerts raised when the scheduler
// becomes stuck (Snapshot.Stuck). The scheduler calls it once per stuck episode, outside any
// store transaction; it must not block or do I/O. Without it the scheduler raises one
// high-priority alert, to Pushover and the desktop, per episode.
type StuckPolicy interface {
	Stuck(reason string, since time.Time, st *State, now time.Time) []Alert
}

// The sources of a stuck state; each sets and clears its own reason.
const (
	stuckArm      = "arm"      // the slot timer could not be armed
	stuckCheck    = "check"    // the wall-clock check failed
	stuckWatchdog = "watchdog" // the watchdog found the invariant broken
)

// stuckState is why the scheduler cannot keep its next slot armed, by source. It has its own
// lock so that the watchdog can set it while the service's lock is held by a blocked call.
type stuckState struct {
	mu      sync.Mutex
	reasons map[string]string
	since   time.Time
	alerted bool // the alert of this episode is in the outbox
}

// setStuck records reason for source. The first reason of an episode starts it (StuckSince)
// and publishes EventStuck; the watchdog raises its alert.
func (s *Service) setStuck(source, reason string) {
	s.stuck.mu.Lock()
	if s.stuck.reasons == nil {
		s.stuck.reasons = map[string]string{}
	}
	changed := s.stuck.reasons[source] != reason
	if len(s.stuck.reasons) == 0 {
		s.stuck.since = s.now()
		s.stuck.alerted = false
	}
	s.stuck.reasons[source] = reason
	since := s.stuck.since
	s.stuck.mu.Unlock()
	if changed {
		s.log.Error("scheduler stuck", "source", source, "reason", reason, "since", since)
		s.bus.Publish(Event{Kind: EventStuck, At: s.now(), Message: reason})
	}
}

// clearStuck drops the reason of source; the episode ends when none is left.
func (s *Service) clearStuck(source string) {
	s.stuck.mu.Lock()
	_, was := s.stuck.reasons[source]
	delete(s.stuck.reasons, source)
	ended := was && len(s.stuck.reasons) == 0
	if ended {
		s.stuck.since = time.Time{}
	}
	s.stuck.mu.Unlock()
	if ended {
		s.log.Info("scheduler no longer stuck", "source", source)
		s.bus.Publish(Event{Kind: EventStuck, At: s.now()})
	}
}

// stuckNow returns the joined reasons and the start of the episode ("" when not stuck).
func (s *Service) stuckNow() (string, time.Time) {
	s.stuck.mu.Lock()
	defer s.stuck.mu.Unlock()
	if len(s.stuck.reasons) == 0 {
		return "", time.Time{}
	}
	var rs []string
	for _, src := range []string{stuckArm, stuckCheck, stuckWatchdog} {
		if r, ok := s.stuck.reasons[src]; ok && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return strings.Join(rs, "; "), s.stuck.since
}

// alertStuck enqueues the alert of the current stuck episode once, through the policy's
// StuckPolicy when it has one. It does I/O: call it without the service's lock.
func (s *Service) alertStuck() {
	s.stuck.mu.Lock()
	pending := len(s.stuck.reasons) > 0 && !s.stuck.alerted
	s.stuck.mu.Unlock()
	if !pending {
		return
	}
	reason, since := s.stuckNow()
	now := s.now()
	var alerts []Alert
	if p, ok := s.cfg.Policy.(StuckPolicy); ok {
		s.mu.Lock()
		st := s.state
		s.mu.Unlock()
		alerts = p.Stuck(reason, since, &st, now)
	} else {
		alerts = []Alert{{Kind: AlertStuck, Title: "worktray's scheduler is stuck",
			Message:  fmt.Sprintf("Scheduled scrapes are not running: %s (since %s).", reason, since.Format(time.RFC3339)),
			Priority: 1, Pushover: true, Desktop: true, Created: now}}
	}
	if len(alerts) > 0 {
		if err := s.cfg.Store.EnqueueAlerts(alerts); err != nil {
			s.storageFailed("queueing the stuck alert", err)
			return
		}
		s.bus.Publish(Event{Kind: EventAlertsQueued, At: now})
	}
	s.stuck.mu.Lock()
	s.stuck.alerted = true
	s.stuck.mu.Unlock()
}
