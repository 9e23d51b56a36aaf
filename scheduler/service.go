package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// Config configures a Service. Store and Scraper are required; the rest have defaults.
type Config struct {
	Store   Store
	Scraper Scraper
	// Policy decides the alerts of each outcome; nil raises none (except the stuck alert, see
	// StuckPolicy).
	Policy AlertPolicy
	// Clock drives the timers (the wake-up tick, the watchdog, the slot and retry timers)
	// and, unless Now is set, reads the wall clock. Default: the real clock, whose timers run
	// on the monotonic clock, so that a wall clock set back cannot delay the wake-up check.
	Clock clockwork.Clock
	// Now reads the wall clock; default Clock.Now. Tests may set it apart from Clock to model
	// a suspended laptop, whose wall clock jumps while its timers stand still.
	Now    func() time.Time
	Logger *slog.Logger
	// Zone is the time zone of a schedule created on first start. Default: the system's.
	Zone string
	// CheckInterval is the period of the wake-up check that notices slots a sleeping timer
	// missed, and of the watchdog. Default 20 s.
	CheckInterval time.Duration
	// RunTimeout bounds a whole scrape (real time). At the deadline the run's context is
	// canceled; a scraper that has not returned AbandonAfter later is abandoned and the run
	// recorded as a timeout. Default 10 min.
	RunTimeout time.Duration
	// AbandonAfter is how long a scrape whose context is done (deadline, cancel, shutdown)
	// may take to return, to clean up and keep its artifacts, before the scheduler abandons it
	// and releases the single flight. Default 15 s.
	AbandonAfter time.Duration
	// StopTimeout bounds how long Run waits, once its context is done, for the run in
	// progress to end and be recorded. Default 20 s.
	StopTimeout time.Duration
	// PID is recorded in each run. Default os.Getpid().
	PID int
}

// Service is the scheduler: it arms a timer for the next slot, checks the wall clock on a
// short monotonic tick, records missed slots, runs catch-ups and retries, and executes exactly
// one run at a time. A watchdog checks, apart from that code, that while the schedule is
// enabled and not paused the next slot is armed, and otherwise shows the service stuck. Its
// methods are safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
	bus *Bus

	checkMu sync.Mutex    // serialises check
	checks  atomic.Uint64 // completed checks, for the watchdog
	watched atomic.Uint64 // completed watchdog inspections
	stopped atomic.Bool   // Run has returned: a run it abandoned must not write the store

	mu        sync.Mutex
	sched     Schedule
	state     State
	active    *activeRun
	last      *Run // latest finished run that is not a missed record
	lastOK    *Run
	missed    *Run // latest missed record
	orders    int
	overdue   time.Time       // the earliest slot that is due but not started, if any
	slot      *armedTimer     // the timer of the next slot
	retry     *armedTimer     // the timer of the pending retry
	retryFor  *PendingRetry   // the retry that timer starts
	runCtx    context.Context // the context of Run; nil before Run and after it returns
	closing   bool            // Run is stopping: timers start nothing
	wg        sync.WaitGroup  // running scrapes and the checks that follow them
	callbacks sync.WaitGroup  // timer callbacks in progress

	storage storageState // guarded by mu
	stuck   stuckState   // has its own lock

	// What the watchdog reads without the service's lock: the schedule and pause in force
	// (published where they change) and the slot timer (published by arm).
	live  atomic.Pointer[liveView]
	armed atomic.Pointer[armedTimer]
}

// liveView is the schedule and pause in force, for the watchdog.
type liveView struct {
	sched  Schedule
	paused bool
}

// publishLiveLocked publishes the schedule and pause in force. Call with mu held, after
// changing either.
func (s *Service) publishLiveLocked() {
	s.live.Store(&liveView{sched: s.sched, paused: s.state.Paused})
}

// Defaults of Config.
const (
	defaultCheckInterval = 20 * time.Second
	defaultRunTimeout    = 10 * time.Minute
	defaultAbandonAfter  = 15 * time.Second
	defaultStopTimeout   = 20 * time.Second
)

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
		cfg.CheckInterval = defaultCheckInterval
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = defaultRunTimeout
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = defaultAbandonAfter
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = defaultStopTimeout
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
	s.publishLiveLocked()
	return s, nil
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
// restores a pending retry, handles slots missed while nothing ran, and arms the next slot. On
// return a running scrape has been canceled and recorded as canceled, unless it did not end
// within Config.StopTimeout (it is then abandoned and recorded "interrupted" at the next
// start). Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	interrupted, err := s.recoverInterrupted()
	if err != nil {
		return err
	}
	if err := s.loadCaches(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.runCtx, s.closing = runCtx, false
	s.mu.Unlock()

	// One ticker on Clock (monotonic for the real clock) wakes both the check and the
	// watchdog, each in its own goroutine, so that a check that hangs cannot silence the
	// watchdog, and the watchdog shares no code with what it checks.
	var loops sync.WaitGroup
	checkTick, watchTick := make(chan struct{}, 1), make(chan struct{}, 1)
	ticker := s.cfg.Clock.NewTicker(s.cfg.CheckInterval)
	loops.Add(3)
	go func() { defer loops.Done(); s.tickLoop(runCtx, ticker, checkTick, watchTick) }()
	go func() { defer loops.Done(); s.checkLoop(runCtx, checkTick) }()
	go func() { defer loops.Done(); s.watchdog(runCtx, watchTick) }()

	s.retryInterrupted(runCtx, interrupted)
	s.restoreRetry(runCtx, interrupted)
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
	s.closing = true
	s.slot.stop()
	s.retry.stop()
	s.slot, s.retry, s.retryFor = nil, nil, nil
	s.mu.Unlock()
	s.armed.Store(nil)
	// The run in progress, the checks after it, timer callbacks and the loops (which see ctx
	// done and return) end; what does not (a scraper that ignores its context, a store that
	// hangs) is abandoned at the stop timeout.
	ended := make(chan struct{})
	go func() { s.wg.Wait(); s.callbacks.Wait(); loops.Wait(); close(ended) }()
	stop := time.NewTimer(s.cfg.StopTimeout)
	select {
	case <-ended:
		stop.Stop()
	case <-stop.C:
		s.log.Error("the scheduler did not stop within the stop timeout; what still runs is abandoned",
			"stop_timeout", s.cfg.StopTimeout.String())
	}
	s.mu.Lock()
	s.runCtx = nil
	s.mu.Unlock()
	s.stopped.Store(true)
	s.log.Info("scheduler stopped")
	return nil
}

// tickLoop forwards each tick of one Clock ticker to every channel that has room; it never
// blocks on a receiver.
func (s *Service) tickLoop(ctx context.Context, t clockwork.Ticker, out ...chan<- struct{}) {
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			for _, c := range out {
				select {
				case c <- struct{}{}:
				default:
				}
			}
		}
	}
}

// checkLoop runs the wake-up check on each tick.
func (s *Service) checkLoop(ctx context.Context, tick <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			s.check(ctx, "tick")
		}
	}
}
