package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
)

// Config configures a Service. Store and Scraper are required; the rest have defaults.
type Config struct {
	Store   Store
	Scraper Scraper
	// Policy decides the alerts of each outcome; nil raises none.
	Policy AlertPolicy
	// Clock drives gocron's timers, backoff and every timestamp. Default: the real clock.
	Clock clockwork.Clock
	// Now reads the wall clock; default Clock.Now. Tests set it apart from Clock to model a
	// suspended laptop, whose wall clock jumps while its timers stand still.
	Now    func() time.Time
	Logger *slog.Logger
	// Zone is the time zone of a schedule created on first start. Default: the system's.
	Zone string
	// CheckInterval is the period of the wall-clock check that notices slots a sleeping timer
	// missed. Default 20 s.
	CheckInterval time.Duration
	// RunTimeout bounds a whole scrape. Default 10 min.
	RunTimeout time.Duration
	// PID is recorded in each run. Default os.Getpid().
	PID int
}

// Service is the scheduler: it arms the next slot with gocron, checks the wall clock on a short
// tick, records missed slots, runs catch-ups and retries, and executes exactly one run at a
// time. Its methods are safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
	bus *Bus

	checkMu sync.Mutex // serialises check

	mu       sync.Mutex
	sched    Schedule
	state    State
	active   *activeRun
	last     *Run // latest finished run that is not a missed record
	lastOK   *Run
	missed   *Run // latest missed record
	orders   int
	overdue  time.Time // the slot that is due but not started, if any
	retry    *pendingRetry
	gs       gocron.Scheduler
	slotJob  uuid.UUID
	armedFor time.Time // the slot slotJob fires for
	retryJob uuid.UUID
	runCtx   context.Context // the context of Run; nil before Run and after it returns
	wg       sync.WaitGroup  // running scrapes
}

type activeRun struct {
	run      Run
	progress Progress
	cancel   context.CancelFunc
	done     chan struct{}
}

type pendingRetry struct {
	slot     time.Time
	attempt  int // the attempt the retry will be
	at       time.Time
	nextSlot time.Time // the retry is dropped once this slot has come (a timer late after a suspend)
}

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
	// StorageError is the last failure to write the store (empty once a write succeeds);
	// Unrecorded counts runs that could not be recorded since.
	StorageError string `json:"storage_error,omitempty"`
	Unrecorded   int    `json:"unrecorded,omitempty"`
}

// Overdue reports whether a slot is past due and not started.
func (s Snapshot) Overdue() bool { return !s.OverdueSlot.IsZero() }

// New returns a service over the store. It loads the schedule (saving the default on first start)
// but starts nothing; Run does.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Scraper == nil {
		return nil, errors.New("scheduler: a store and a scraper are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Zone == "" {
		cfg.Zone = SystemZone()
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 20 * time.Second
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = 10 * time.Minute
	}
	if cfg.PID == 0 {
		cfg.PID = os.Getpid()
	}
	s := &Service{cfg: cfg, log: cfg.Logger, bus: NewBus()}
	sched, err := cfg.Store.Schedule()
	switch {
	case errors.Is(err, ErrNotFound):
		sched = DefaultSchedule(cfg.Zone)
		if err := sched.Validate(); err != nil {
			sched = DefaultSchedule("UTC")
			_ = sched.Validate()
		}
		if err := cfg.Store.SaveSchedule(sched); err != nil {
			return nil, fmt.Errorf("saving the default schedule: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("loading the schedule: %w", err)
	default:
		if err := sched.Validate(); err != nil {
			return nil, fmt.Errorf("the stored schedule is invalid: %w", err)
		}
	}
	s.sched = sched
	st, err := cfg.Store.State()
	if err != nil {
		return nil, fmt.Errorf("loading the scheduler state: %w", err)
	}
	s.state = st
	return s, nil
}

// SystemZone returns the IANA name of the system's time zone, or "UTC" when it cannot tell.
func SystemZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		for i := 0; i+len("zoneinfo/") <= len(target); i++ {
			if target[i:i+len("zoneinfo/")] == "zoneinfo/" {
				name := target[i+len("zoneinfo/"):]
				if _, err := time.LoadLocation(name); err == nil {
					return name
				}
			}
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		name := string(b)
		for len(name) > 0 && (name[len(name)-1] == '\n' || name[len(name)-1] == ' ') {
			name = name[:len(name)-1]
		}
		if _, err := time.LoadLocation(name); err == nil && name != "" {
			return name
		}
	}
	return "UTC"
}

// Subscribe returns a stream of events. A subscriber that does not keep up loses events; the
// scheduler never waits for it. Close the subscription when done.
func (s *Service) Subscribe(buffer int) *Subscription { return s.bus.Subscribe(buffer) }

// Schedule returns the schedule in force.
func (s *Service) Schedule() Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Run runs the scheduler until ctx is done. It recovers runs left "running" by a dead process,
// handles slots missed while nothing ran, and arms the next slot. On return a running scrape has
// been canceled and recorded as canceled. Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	interrupted, err := s.recoverInterrupted()
	if err != nil {
		return err
	}
	if err := s.loadCaches(); err != nil {
		return err
	}
	gs, err := gocron.NewScheduler(gocron.WithClock(s.cfg.Clock), gocron.WithLocation(time.UTC),
		gocron.WithStopTimeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("starting gocron: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.gs = gs
	s.runCtx = runCtx
	s.mu.Unlock()

	if _, err := gs.NewJob(gocron.DurationJob(s.cfg.CheckInterval),
		gocron.NewTask(func() { s.check(runCtx, "tick") }),
		gocron.WithName("wall-clock check"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		return fmt.Errorf("arming the wall-clock check: %w", err)
	}
	gs.Start()
	s.retryInterrupted(runCtx, interrupted)
	s.check(runCtx, "start")
	s.mu.Lock()
	sched := s.sched
	s.mu.Unlock()
	s.log.Info("scheduler initialized", "next_run", sched.Next(s.now()), "zone", sched.Zone,
		"minute", sched.Minute, "every_hours", sched.EveryHours, "pid", s.cfg.PID)

	<-runCtx.Done()
	s.mu.Lock()
	if s.active != nil {
		s.active.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	s.gs = nil
	s.runCtx = nil
	s.mu.Unlock()
	serr := gs.Shutdown()
	s.log.Info("scheduler stopped")
	if serr != nil {
		return fmt.Errorf("stopping gocron: %w", serr)
	}
	return nil
}

// recoverInterrupted records runs left "running" by a process that died as interrupted, through
// the alert policy like any other outcome, and returns them. The owner holds the store's lock,
// so no other process can be running one.
func (s *Service) recoverInterrupted() ([]Run, error) {
	runs, err := s.cfg.Store.RunningRuns()
	if err != nil {
		return nil, fmt.Errorf("looking for interrupted runs: %w", err)
	}
	now := s.now()
	out := runs[:0]
	for _, r := range runs {
		r.Status = StatusInterrupted
		r.Finished = now
		if !r.Started.IsZero() {
			r.Duration = now.Sub(r.Started)
		}
		r.Message = fmt.Sprintf("the worktray process that ran it (pid %d) stopped before it finished", r.PID)
		rec, _, err := s.finish(r, nil, now)
		if err != nil {
			return nil, fmt.Errorf("marking run %d interrupted: %w", r.ID, err)
		}
		s.log.Warn("job event", "event", "interrupted", "run_id", rec.ID, slotAttr(rec.Slot), "pid", rec.PID)
		s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec})
		out = append(out, rec)
	}
	return out, nil
}

// retryInterrupted gives the slot of an interrupted run its next attempt at once, when the slot
// is still within grace, before the next slot, and has attempts left.
func (s *Service) retryInterrupted(ctx context.Context, runs []Run) {
	now := s.now()
	s.mu.Lock()
	sched, paused := s.sched, s.state.Paused
	s.mu.Unlock()
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Slot.IsZero() || paused || !sched.Enabled || r.Attempt > sched.Retries ||
			now.Sub(r.Slot) > time.Duration(sched.GraceMinutes)*time.Minute {
			continue
		}
		if next := sched.Next(r.Slot); !next.IsZero() && !now.Before(next) {
			continue
		}
		if _, err := s.start(ctx, TriggerRetry, r.Slot, r.Attempt+1); err != nil {
			s.log.Warn("retry of an interrupted run not started", "run_id", r.ID, "err", err)
		}
		return
	}
}

// loadCaches fills the snapshot caches from the store.
func (s *Service) loadCaches() error {
	runs, err := s.cfg.Store.LatestRuns(200)
	if err != nil {
		return fmt.Errorf("reading recent runs: %w", err)
	}
	orders, err := s.cfg.Store.ActiveOrders()
	if err != nil {
		return fmt.Errorf("reading orders: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = len(orders)
	for i := range runs {
		r := runs[i]
		switch {
		case r.Status == StatusMissed:
			if s.missed == nil {
				s.missed = &r
			}
		case r.Status.Finished():
			if s.last == nil {
				s.last = &r
			}
			if r.Status == StatusSucceeded && s.lastOK == nil {
				s.lastOK = &r
			}
		}
	}
	return nil
}

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

// ScrapeNow starts a manual run and returns its record at once. While another run is in
// progress it returns that run and ErrAlreadyRunning; the request is not queued.
func (s *Service) ScrapeNow(ctx context.Context) (Run, error) {
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx == nil {
		return Run{}, ErrNotStarted
	}
	return s.start(runCtx, TriggerManual, time.Time{}, 1)
}

// CheckNow runs the wall-clock check at once, as the tick would: a due or overdue slot starts
// (claiming it), missed slots are recorded and caught up. It returns the run in progress
// afterwards, if any. `worktray diagnose --fix` uses it to catch up an overdue slot.
func (s *Service) CheckNow() (*Run, error) {
	s.mu.Lock()
	runCtx := s.runCtx
	s.mu.Unlock()
	if runCtx == nil {
		return nil, ErrNotStarted
	}
	s.check(runCtx, "check now")
	return s.Snapshot().Running, nil
}

// Cancel cancels the run in progress. It does not wait for the run to end.
func (s *Service) Cancel() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return ErrNotRunning
	}
	s.active.cancel()
	return nil
}

// Pause stops scheduled runs (slots, catch-ups and retries) until Resume. A run in progress
// goes on; "Scrape now" still works.
func (s *Service) Pause() error {
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Paused = true; return nil }); err != nil {
		return fmt.Errorf("pausing: %w", err)
	}
	s.mu.Lock()
	s.state.Paused = true
	s.clearRetryLocked()
	ctx := s.runCtx
	s.mu.Unlock()
	s.log.Info("scheduler paused")
	s.bus.Publish(Event{Kind: EventPaused, At: s.now()})
	if ctx != nil {
		s.check(ctx, "pause")
	}
	return nil
}

// Resume restarts scheduled runs from now on; slots that passed while paused are not owed.
func (s *Service) Resume() error {
	s.mu.Lock()
	paused := s.state.Paused
	s.mu.Unlock()
	if !paused {
		// Not paused: nothing to resume, and the cursor must not skip an owed slot.
		return nil
	}
	now := s.now()
	if _, err := s.cfg.Store.UpdateState(func(st *State) error { st.Paused = false; st.Cursor = now; return nil }); err != nil {
		return fmt.Errorf("resuming: %w", err)
	}
	s.mu.Lock()
	s.state.Paused, s.state.Cursor = false, now
	ctx := s.runCtx
	next := s.sched.Next(now)
	s.mu.Unlock()
	s.log.Info("scheduler resumed", "next_run", next)
	s.bus.Publish(Event{Kind: EventResumed, At: now, Next: next})
	if ctx != nil {
		s.check(ctx, "resume")
	}
	return nil
}

// UpdateSchedule validates and saves a schedule and applies it at once: the next slot is
// re-armed. Slots of the old schedule that passed are dealt with first (run, or recorded as
// missed) and an overdue slot stays owed if the new schedule has it; other slots of the new
// schedule before now are not owed. An invalid schedule changes nothing and returns a
// ValidationError naming the fields.
func (s *Service) UpdateSchedule(sc Schedule) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	ctx := s.runCtx
	s.mu.Unlock()
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "before a schedule change")
	}
	if err := s.cfg.Store.SaveSchedule(sc); err != nil {
		return fmt.Errorf("saving the schedule: %w", err)
	}
	now := s.now()
	s.mu.Lock()
	cursor := now
	if !s.overdue.IsZero() {
		cursor = prevInstant(s.overdue)
	}
	s.mu.Unlock()
	st, err := s.cfg.Store.UpdateState(func(st *State) error {
		if st.Cursor.Before(cursor) {
			st.Cursor = cursor
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving the schedule: %w", err)
	}
	s.mu.Lock()
	s.sched = sc
	s.state.Cursor = st.Cursor
	if s.retry != nil && !s.retry.at.Before(sc.Next(now)) {
		s.clearRetryLocked()
	}
	s.mu.Unlock()
	next := sc.Next(now)
	s.log.Info("schedule changed", "next_run", next, "minute", sc.Minute, "hour", sc.Hour,
		"every_hours", sc.EveryHours, "zone", sc.Zone, "enabled", sc.Enabled)
	s.bus.Publish(Event{Kind: EventScheduleChanged, At: now, Next: next})
	if ctx != nil && ctx.Err() == nil {
		s.checkLocked(ctx, "schedule changed")
	}
	return nil
}

// Preview validates sc and returns its next n slots after now, without saving anything.
func (s *Service) Preview(sc Schedule, n int) ([]time.Time, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc.NextN(s.now(), n), nil
}

// Snapshot returns the scheduler's state now. It does no I/O.
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
	if s.retry != nil {
		snap.RetryAt = s.retry.at
	}
	return snap
}

// start claims and launches a run in its own goroutine and returns its record. It returns
// ErrAlreadyRunning (with the running record) while a run is in progress, and ErrSlotClaimed when
// the slot already ran.
func (s *Service) start(ctx context.Context, trigger Trigger, slot time.Time, attempt int) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil {
		return s.active.run, ErrAlreadyRunning
	}
	if ctx.Err() != nil {
		return Run{}, ctx.Err()
	}
	now := s.now()
	run, err := s.cfg.Store.ClaimRun(Run{Trigger: trigger, Slot: slot, Attempt: attempt,
		Started: now, Status: StatusRunning, PID: s.cfg.PID})
	if err != nil {
		if errors.Is(err, ErrSlotClaimed) {
			s.log.Info("slot already ran", "slot", slot, "trigger", trigger)
			return Run{}, err
		}
		return Run{}, fmt.Errorf("recording the run: %w", err)
	}
	if trigger != TriggerRetry {
		s.clearRetryLocked()
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout)
	a := &activeRun{run: run, cancel: cancel, done: make(chan struct{}),
		progress: Progress{RunID: run.ID, Stage: StageStarting}}
	s.active = a
	s.wg.Add(1)
	go s.execute(runCtx, a)
	return run, nil
}

// execute performs a claimed run and records its outcome.
func (s *Service) execute(ctx context.Context, a *activeRun) {
	defer s.wg.Done()
	defer close(a.done)
	defer a.cancel()
	run := a.run
	s.log.Info("scheduled job starting", "run_id", run.ID, slotAttr(run.Slot), "trigger", run.Trigger,
		"attempt", run.Attempt, "pid", run.PID)
	started := run // events are values: the record below goes on changing
	s.bus.Publish(Event{Kind: EventRunStarted, At: run.Started, Run: &started})

	known, err := s.cfg.Store.ActiveOrders()
	var res ScrapeResult
	if err == nil {
		res, err = s.scrape(ctx, run.ID, known)
	} else {
		err = fmt.Errorf("reading stored orders: %w", err)
	}
	if err == nil && len(res.Orders) == 0 && !res.EmptyState {
		err = &RunError{Class: ClassLayoutChanged,
			Msg: "the work-order list showed no rows and no \"no work orders\" message; the portal's layout may have changed, so the profile needs updating"}
	}
	if err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		var re *RunError
		if !errors.As(err, &re) {
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
		orders = res.Orders
		if orders == nil {
			orders = []Order{}
		}
	}
	rec, diff, ferr := s.finish(run, orders, now)
	if ferr != nil {
		s.log.Error("recording the run outcome", "run_id", run.ID, "err", ferr)
		run.Status, run.ErrorClass = StatusFailed, ClassPortalError
		run.Message = "the scrape finished but its result could not be saved: " + ferr.Error()
		rec, diff, ferr = s.finish(run, nil, now)
		if ferr != nil {
			rec = run
		}
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
	s.last = &rec
	if rec.Status == StatusSucceeded {
		s.lastOK = &rec
		s.orders = diff.Found
	}
	s.mu.Unlock()
	s.bus.Publish(Event{Kind: EventRunFinished, At: now, Run: &rec, Diff: &diff})

	if rec.Status == StatusFailed {
		s.scheduleRetry(rec, now)
	}
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
	s.mu.Unlock()
	s.bus.Publish(Event{Kind: EventRunProgress, At: s.now(), Run: &r, Progress: &p})
}

// finish records a run's outcome with its diff, state and alerts in one store transaction. A
// record with no id yet (a missed record) is inserted and its slots claimed in that transaction.
func (s *Service) finish(run Run, orders []Order, now time.Time) (Run, Diff, error) {
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
	newState.Paused = s.state.Paused
	newState.Cursor = s.state.Cursor
	s.state = newState
	s.mu.Unlock()
	return rec, diff, nil
}

// scheduleRetry arms a retry of a failed scheduled run with doubling backoff, if one is left and
// it falls before the next slot.
func (s *Service) scheduleRetry(run Run, now time.Time) {
	if run.Trigger == TriggerManual || run.ErrorClass == ClassCanceled {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Paused || s.gs == nil || run.Attempt > s.sched.Retries {
		return
	}
	delay := time.Duration(s.sched.RetryBackoff) * time.Minute << (run.Attempt - 1)
	at := now.Add(delay)
	next := s.sched.Next(now)
	if !next.IsZero() && !at.Before(next) {
		s.log.Info("no retry: the next slot comes first", "run_id", run.ID, "retry_at", at, "next_run", next)
		return
	}
	s.clearRetryLocked()
	r := &pendingRetry{slot: run.Slot, attempt: run.Attempt + 1, at: at, nextSlot: next}
	ctx := s.runCtx
	j, err := s.gs.NewJob(gocron.OneTimeJob(gocron.OneTimeJobStartDateTime(s.cfg.Clock.Now().Add(delay))),
		gocron.NewTask(func() { s.runRetry(ctx, r) }), gocron.WithName("retry"), gocron.WithLimitedRuns(1))
	if err != nil {
		s.log.Error("arming a retry", "err", err)
		return
	}
	s.retry, s.retryJob = r, j.ID()
	s.log.Info("retry armed", "run_id", run.ID, "attempt", r.attempt, "retry_at", at)
}

func (s *Service) runRetry(ctx context.Context, r *pendingRetry) {
	s.mu.Lock()
	if s.retry != r {
		s.mu.Unlock()
		return
	}
	s.retry, s.retryJob = nil, uuid.Nil
	s.mu.Unlock()
	if now := s.now(); !r.nextSlot.IsZero() && !now.Before(r.nextSlot) {
		// The timer fired late (a suspended laptop): the next slot has come, and it runs
		// instead of an old attempt.
		s.log.Info("retry dropped: the next slot has come", "slot", r.slot, "attempt", r.attempt, "next_slot", r.nextSlot)
		return
	}
	if _, err := s.start(ctx, TriggerRetry, r.slot, r.attempt); err != nil {
		s.log.Warn("retry not started", "attempt", r.attempt, "err", err)
	}
}

func (s *Service) clearRetryLocked() {
	if s.retry == nil {
		return
	}
	if s.gs != nil && s.retryJob != uuid.Nil {
		_ = s.gs.RemoveJob(s.retryJob)
	}
	s.retry, s.retryJob = nil, uuid.Nil
}
