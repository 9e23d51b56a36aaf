package scheduler

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventKind names a scheduler event.
type EventKind string

// The kinds of event the scheduler publishes.
const (
	EventRunStarted      EventKind = "run_started"      // Run is set
	EventRunProgress     EventKind = "run_progress"     // Run and Progress are set
	EventRunFinished     EventKind = "run_finished"     // Run (final) and Diff are set
	EventSlotsMissed     EventKind = "slots_missed"     // Run is the coalesced missed record
	EventOverdue         EventKind = "overdue"          // Slot and OverdueBy are set
	EventScheduleChanged EventKind = "schedule_changed" // the schedule or the next run changed
	EventPaused          EventKind = "paused"
	EventResumed         EventKind = "resumed"
	EventAlertsQueued    EventKind = "alerts_queued" // new alerts are in the outbox
	// EventStuck: the scheduler became stuck (Message is the reason) or is no longer stuck
	// (Message empty); see Snapshot.Stuck.
	EventStuck EventKind = "stuck"
	// EventStorage: writing the store failed (Message is the error) or works again (Message
	// empty); see Snapshot.StorageError and Unrecorded. The store's outbox may be unwritable
	// then, so a desktop alert is raised from this event, not from the outbox.
	EventStorage EventKind = "storage"
	// EventSettingsChanged: a setting the scheduler does not keep itself was saved (Message
	// names it: portal, alerts or retention), so that the tray and the windows show it; the
	// schedule's own changes are EventScheduleChanged.
	EventSettingsChanged EventKind = "settings_changed"
)

// Event is one thing that happened in the scheduler. Events are values: a subscriber may keep them.
type Event struct {
	Kind      EventKind     `json:"kind"`
	At        time.Time     `json:"at"`
	Run       *Run          `json:"run,omitempty"`
	Progress  *Progress     `json:"progress,omitempty"`
	Diff      *Diff         `json:"diff,omitempty"`
	Slot      time.Time     `json:"slot,omitzero"`
	OverdueBy time.Duration `json:"overdue_by_ns,omitempty"`
	Next      time.Time     `json:"next,omitzero"`
	Message   string        `json:"message,omitempty"` // EventStuck, EventStorage: the reason; EventSettingsChanged: the setting
}

// Bus fans events out to subscribers without ever blocking the publisher: a subscriber whose
// buffer is full loses the event (and its Dropped count grows), never the core. Safe for
// concurrent use.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	C       <-chan Event // closed by Close
	c       chan Event
	bus     *Bus
	dropped atomic.Int64
	once    sync.Once
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription with room for buffer events (at least 1).
func (b *Bus) Subscribe(buffer int) *Subscription {
	c := make(chan Event, max(buffer, 1))
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers ev to every subscriber that has room. It never blocks.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			s.dropped.Add(1)
		}
	}
}

// Dropped returns how many events this subscriber lost because its buffer was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close ends the subscription and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		close(s.c)
		s.bus.mu.Unlock()
	})
}

// AlertPolicy decides which alerts a scheduler outcome raises. The scheduler calls it inside
// the store transaction that records the outcome, so an alert is never lost nor raised without
// its cause. Implementations must not block or do I/O; st may be modified (e.g. to remember that
// a failure was alerted).
type AlertPolicy interface {
	// RunFinished is called for every finished run (succeeded, failed, canceled) and for a
	// coalesced missed record (run.Status == StatusMissed, diff empty).
	RunFinished(run *Run, diff Diff, st *State, now time.Time) []Alert
}
