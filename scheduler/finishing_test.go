package scheduler_test

import (
	"context"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// pausingStore records a run's outcome, then holds the run in the window between its record
// reading as finished and the single flight being let go, until let is closed.
type pausingStore struct {
	*store.DB
	recorded chan struct{}
	let      chan struct{}
	once     bool
}

func (p *pausingStore) FinishRun(r scheduler.Run, o []scheduler.Order, at time.Time,
	decide func(*scheduler.Run, scheduler.Diff, *scheduler.State) []scheduler.Alert) (scheduler.Run, scheduler.Diff, error) {
	rec, diff, err := p.DB.FinishRun(r, o, at, decide)
	if !p.once {
		p.once = true
		close(p.recorded)
		<-p.let
	}
	return rec, diff, err
}

// A scrape asked for once the last run reads as finished starts a new run: it is never refused
// as "already running" by a run whose outcome is already recorded.
func TestScrapeNowAfterARecordedRunIsNotAlreadyRunning(t *testing.T) {
	h := newHarness(t, mustTime("2026-06-01T10:00:00Z"), hourlyUTC(30), time.Time{})
	ps := &pausingStore{DB: h.db, recorded: make(chan struct{}), let: make(chan struct{})}
	h.store = ps
	h.start(2)
	first, err := h.svc.ScrapeNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-ps.recorded
	if r, err := h.db.Run(first.ID); err != nil || r.Status != scheduler.StatusSucceeded {
		t.Fatalf("run %d reads %+v, %v; want it recorded succeeded", first.ID, r, err)
	}
	type result struct {
		run scheduler.Run
		err error
	}
	got := make(chan result, 1)
	go func() {
		r, err := h.svc.ScrapeNow(context.Background())
		got <- result{r, err}
	}()
	// While the finished run still holds the single flight, the request waits for it (a refusal
	// as "already running" would come back at once).
	select {
	case res := <-got:
		t.Fatalf("ScrapeNow answered while the recorded run let go: %+v, %v", res.run, res.err)
	case <-time.After(300 * time.Millisecond):
	}
	close(ps.let)
	res := <-got
	if res.err != nil || res.run.ID == first.ID {
		t.Fatalf("ScrapeNow after run %d was recorded: %+v, %v; want a new run", first.ID, res.run, res.err)
	}
	h.waitRuns(2)
}
