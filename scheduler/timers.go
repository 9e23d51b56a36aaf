package scheduler

import (
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// The slot and retry timers are Clock timers (for the real clock: the runtime's, on the
// monotonic clock), not gocron one-time jobs: gocron v2.21.2 spins for ever in its scheduler
// loop when a one-time job's start has passed by the time the loop handles it (selectNewJob:
// `for next.Before(now) { next = j.next(next) }`, where next becomes zero once the job's only
// time is used), which under load or across a suspend stopped every timer of the process.

// armedTimer is one armed timer and what it is for. Its flags are what the timer did, for the
// watchdog, which reads them without the service's lock.
type armedTimer struct {
	t       clockwork.Timer
	slot    time.Time // the wall-clock slot it fires for (a retry: the slot retried)
	at      time.Time // when it fires, on Clock
	fired   atomic.Bool
	stopped atomic.Bool
}

// afterFunc arms a timer that calls fn after d on Clock, unless the service is stopping. fn
// runs in its own goroutine, which Run waits for.
func (s *Service) afterFunc(d time.Duration, slot time.Time, fn func()) *armedTimer {
	a := &armedTimer{slot: slot, at: s.cfg.Clock.Now().Add(d)}
	a.t = s.cfg.Clock.AfterFunc(d, func() {
		a.fired.Store(true)
		if !s.enter() {
			return
		}
		defer s.callbacks.Done()
		fn()
	})
	return a
}

// stop stops the timer; it is safe on nil.
func (a *armedTimer) stop() {
	if a == nil {
		return
	}
	a.stopped.Store(true)
	a.t.Stop()
}

// enter registers a timer callback unless Run is stopping; the caller calls callbacks.Done.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.callbacks.Add(1)
	return true
}
