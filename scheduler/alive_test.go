package scheduler_test

import (
	"context"
	"testing"
	"time"

	"worktray/scheduler"
)

// A running run records that it is alive as it reports progress (issue 12).
func TestRunningRunRecordsItIsAlive(t *testing.T) {
	t0 := mustTime("2026-06-01T10:00:00Z")
	h := newHarness(t, t0, hourlyUTC(30), time.Time{})
	block := make(chan struct{})
	h.scr.set(func(f *fakeScraper) { f.block = block })
	h.start(2)
	run, err := h.svc.ScrapeNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run's record to say it is alive", func() bool {
		r, err := h.db.Run(run.ID)
		return err == nil && r.Status == scheduler.StatusRunning && r.Alive.Equal(t0)
	})
	close(block)
	eventually(t, "the run to succeed", func() bool {
		r, err := h.db.Run(run.ID)
		return err == nil && r.Status == scheduler.StatusSucceeded
	})
}

// When a run's process dies, the next owner marks it interrupted with a duration that ends at
// its last sign of life, not at the restart that found it (issue 12).
func TestInterruptedDurationEndsAtTheCrash(t *testing.T) {
	t0 := mustTime("2026-06-01T10:00:00Z")
	h := newHarness(t, t0, hourlyUTC(30), time.Time{})
	started := t0.Add(-40 * time.Minute)
	run, err := h.db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerManual, Started: started,
		Status: scheduler.StatusRunning, PID: 999999})
	if err != nil {
		t.Fatal(err)
	}
	run.Alive = started.Add(7 * time.Second)
	if err := h.db.UpdateRun(run); err != nil {
		t.Fatal(err)
	}
	h.start(2)
	eventually(t, "the run to be marked interrupted", func() bool {
		r, err := h.db.Run(run.ID)
		return err == nil && r.Status == scheduler.StatusInterrupted
	})
	r, _ := h.db.Run(run.ID)
	if r.Duration != 7*time.Second {
		t.Fatalf("interrupted run lasted %v, want 7s: it must end at the crash, not at the restart 40 min later", r.Duration)
	}
}
