package scheduler_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
)

// warningScraper succeeds with orders and warnings.
type warningScraper struct{ warnings []string }

func (w warningScraper) Scrape(context.Context, scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	return scheduler.ScrapeResult{Orders: makeOrders(2), Warnings: w.warnings}, nil
}

// TestScrapeWarningsGoIntoTheRunMessage: a scrape that succeeded with warnings (a detail page
// not read, a dialog the portal opened) is recorded as succeeded with them as its message.
func TestScrapeWarningsGoIntoTheRunMessage(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "worktray.db"))
	defer db.Close()
	if err := db.SaveSchedule(hourlyUTC(30)); err != nil {
		t.Fatal(err)
	}
	warnings := []string{"the detail page of 1 work order(s) could not be read (W-100001; HTTP 500)", `the portal opened a alert dialog: "Maintenance"`}
	svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: warningScraper{warnings}, Clock: clockwork.NewFakeClockAt(mustTime("2026-06-01T10:00:00Z")),
		RunTimeout: time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the scheduler to start", func() bool { _, err := svc.ScrapeNow(ctx); return err == nil })
	var run scheduler.Run
	eventually(t, "the run to finish", func() bool {
		rs, _ := db.LatestRuns(1)
		if len(rs) == 1 && rs[0].Status.Finished() {
			run = rs[0]
			return true
		}
		return false
	})
	if run.Status != scheduler.StatusSucceeded || run.Message != strings.Join(warnings, "; ") {
		t.Errorf("run %s %q; want succeeded with the warnings", run.Status, run.Message)
	}
}
