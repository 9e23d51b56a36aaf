package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
