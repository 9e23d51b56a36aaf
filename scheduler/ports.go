package scheduler

import (
	"context"
	"time"
)

// Scraper reads the whole work-order list of the portal. Scrape blocks until the list is read,
// ctx is done or the scrape fails; it must leave no browser process behind on any path.
// Errors should be *RunError (see Classify). It is called by one run at a time.
type Scraper interface {
	Scrape(ctx context.Context, req ScrapeRequest) (ScrapeResult, error)
}

// ScrapeRequest is what a run hands the scraper.
type ScrapeRequest struct {
	RunID uint64
	// Known holds the active stored orders by portal id; the scraper visits the detail page
	// only of orders that are new, whose list row changed, whose detail is missing or due for
	// a re-read (DetailReadAt), and copies the detail values otherwise.
	Known map[string]Order
	// Progress receives progress reports; it never blocks. May be nil.
	Progress func(Progress)
}

// ScrapeResult is a complete read of the work-order list.
type ScrapeResult struct {
	Orders []Order
	// EmptyState is true when the portal showed its explicit "no work orders" marker. A
	// result with no orders and no marker is treated as a changed layout.
	EmptyState bool
	// Complete is true when the list was read to its end: every page, or every "Load more" or
	// scroll until no new rows came, and the portal's count matched when the profile reads it.
	// Only a complete read may mark stored orders missing. Scrape fails rather than return an
	// incomplete list, so a successful result is complete.
	Complete bool
	// ListReads is how many complete reads of the list the scrape made: 1, or 2 when known
	// orders were missing from the first and the scraper read the list again at once to
	// confirm. Orders is the union of the reads, so with ListReads = 2 a known order that
	// Orders lacks was lacking from two complete reads: its removal is confirmed (it need not
	// wait, marked missing, for the next scrape).
	ListReads    int
	Pages        int
	DetailVisits int
	Logins       int
	Stages       []StageTiming
	// Warnings are things the user should know about a scrape that succeeded (a detail page
	// that could not be read, a dialog the portal opened); they go into the run's message.
	Warnings []string
}

// Store is what the scheduler needs from the store. Its methods are safe for concurrent use and
// each is one transaction.
type Store interface {
	Schedule() (Schedule, error)
	SaveSchedule(Schedule) error
	// SaveScheduleAt saves a schedule changed at now and settles the account of the old one in
	// the same transaction: the old schedule's slots after State.Cursor and up to now that
	// were not dealt with join State.Owed, and the cursor moves to now (enabling a disabled
	// schedule owes nothing from the time it was disabled).
	SaveScheduleAt(sc Schedule, now time.Time) error
	State() (State, error)
	// UpdateState runs fn on the current state and saves the result in one transaction.
	UpdateState(fn func(*State) error) (State, error)

	// ClaimRun inserts run with a new id. When run.Slot is set it claims the slot in the same
	// transaction and returns ErrSlotClaimed if the slot already has a run (retries of a slot,
	// Attempt > 1, are inserted without a claim). For a missed record every one of
	// run.MissedSlots is claimed.
	ClaimRun(run Run) (Run, error)
	// RunBySlot returns the run that claimed slot, or ErrNotFound.
	RunBySlot(slot time.Time) (Run, error)
	// SlotClaimed reports whether slot has been claimed. A claim outlives the pruning of its
	// run record, so this, not RunBySlot, says whether a slot may still run.
	SlotClaimed(slot time.Time) (bool, error)
	// ReleaseMissedSlots withdraws the missed records of slots after after: their claims are
	// deleted and the slots removed from their missed records (a record left with none is
	// deleted). It returns the slots released. The scheduler calls it when the wall clock
	// was set back: slots whose real time has not come were not missed.
	ReleaseMissedSlots(after time.Time) ([]time.Time, error)
	// UpdateRun rewrites a run record (progress, status).
	UpdateRun(run Run) error
	// FinishRun records the outcome in one transaction. A run with ID 0 is inserted first and
	// its slots claimed as ClaimRun does (ErrSlotClaimed if taken), so a missed record and its
	// alerts are written together. When orders is non-nil it applies them as
	// a diff (new, changed, missing, soft removal confirmed by a second complete read; a run
	// with Incomplete set removes nothing, one with ListReads ≥ 2 confirms at once), then calls
	// decide (may be nil) with the run, the diff
	// and the state to update, and appends the alerts it returns to the outbox, then saves the
	// run and the state. Nothing is written if decide or any step fails.
	FinishRun(run Run, orders []Order, at time.Time, decide func(run *Run, diff Diff, st *State) []Alert) (Run, Diff, error)
	// EnqueueAlerts appends alerts to the outbox in one transaction.
	EnqueueAlerts(alerts []Alert) error
	LatestRuns(n int) ([]Run, error)
	// RunningRuns returns runs whose status is still "running".
	RunningRuns() ([]Run, error)
	// ActiveOrders returns stored orders that are not removed, by portal id.
	ActiveOrders() (map[string]Order, error)
}
