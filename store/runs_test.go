package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
)

func TestClaimRunClaimsASlotOnce(t *testing.T) {
	db := newDB(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	slot := t0.In(ny) // the same instant in another zone

	first := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: slot, Attempt: 1, Status: scheduler.StatusRunning, Started: slot})
	if first.ID != 1 || first.Slot.Location() != time.UTC || !first.Slot.Equal(t0) {
		t.Errorf("first claim = id %d, slot %v; want id 1 with the slot in UTC", first.ID, first.Slot)
	}
	before := dump(t, db)
	_, err = db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerCatchUp, Slot: t0, Attempt: 1, Status: scheduler.StatusRunning})
	if !errors.Is(err, scheduler.ErrSlotClaimed) {
		t.Fatalf("second claim of the slot = %v, want ErrSlotClaimed", err)
	}
	if d := diffDumps(before, dump(t, db)); len(d) > 0 {
		t.Errorf("a refused claim wrote: %v", d)
	}

	// A retry of the slot and a manual run claim nothing.
	retry := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerRetry, Slot: t0, Attempt: 2, Status: scheduler.StatusRunning})
	manual := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if retry.ID != 2 || manual.ID != 3 {
		t.Errorf("ids = %d, %d; want 2, 3", retry.ID, manual.ID)
	}
	if r, err := db.RunBySlot(t0); err != nil || r.ID != first.ID {
		t.Errorf("RunBySlot = %d, %v; want the first attempt %d", r.ID, err, first.ID)
	}

	// A missed record claims all its slots or none.
	s2, s3 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	before = dump(t, db)
	_, err = db.ClaimRun(scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{s2, t0, s3}})
	if !errors.Is(err, scheduler.ErrSlotClaimed) {
		t.Fatalf("missed record over a claimed slot = %v, want ErrSlotClaimed", err)
	}
	if d := diffDumps(before, dump(t, db)); len(d) > 0 {
		t.Errorf("a refused missed record wrote: %v", d)
	}
	missed := claim(t, db, scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{s2, s3}})
	for _, s := range []time.Time{s2, s3} {
		if r, err := db.RunBySlot(s); err != nil || r.ID != missed.ID {
			t.Errorf("RunBySlot(%v) = %d, %v; want the missed record %d", s, r.ID, err, missed.ID)
		}
	}
	if _, err := db.RunBySlot(t0.Add(-time.Hour)); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("RunBySlot of an unclaimed slot = %v, want ErrNotFound", err)
	}
}

func TestClaimRunConcurrentlyOneWins(t *testing.T) {
	db := newDB(t)
	const n = 32
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		won, lost   int
		otherErrors []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0, Attempt: 1, Status: scheduler.StatusRunning})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, scheduler.ErrSlotClaimed):
				lost++
			default:
				otherErrors = append(otherErrors, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || lost != n-1 || len(otherErrors) > 0 {
		t.Errorf("won %d, lost %d, errors %v; want exactly one winner", won, lost, otherErrors)
	}
	if runs, _ := db.LatestRuns(100); len(runs) != 1 {
		t.Errorf("%d runs stored, want 1", len(runs))
	}
}

func TestUpdateRunKeepsRunningIndex(t *testing.T) {
	db := newDB(t)
	a := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	b := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	claim(t, db, scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{t0}})

	ids := func() []uint64 {
		runs, err := db.RunningRuns()
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []uint64{a.ID, b.ID}) {
		t.Errorf("running = %v, want [%d %d]", got, a.ID, b.ID)
	}
	a.Status, a.Message = scheduler.StatusInterrupted, "the process died"
	if err := db.UpdateRun(a); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []uint64{b.ID}) {
		t.Errorf("running after interrupting %d = %v, want [%d]", a.ID, got, b.ID)
	}
	if r, _ := db.Run(a.ID); r.Status != scheduler.StatusInterrupted || r.Message != "the process died" {
		t.Errorf("Run(%d) = %+v", a.ID, r)
	}
	if err := db.UpdateRun(scheduler.Run{ID: 99, Status: scheduler.StatusFailed}); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("UpdateRun of an unknown run = %v, want ErrNotFound", err)
	}
	if _, err := db.Run(99); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Run(99) = %v, want ErrNotFound", err)
	}
}

func TestLatestRunsAndQueries(t *testing.T) {
	db := newDB(t)
	for i := range 10 {
		st := scheduler.StatusSucceeded
		if i%3 == 0 {
			st = scheduler.StatusFailed
		}
		claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Duration(i) * time.Hour), Attempt: 1, Status: st})
	}
	idsOf := func(runs []scheduler.Run) []uint64 {
		var out []uint64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	cases := []struct {
		name string
		q    RunQuery
		want []uint64
	}{
		{"latest 3", RunQuery{Limit: 3}, []uint64{10, 9, 8}},
		{"all", RunQuery{}, []uint64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"page after 8", RunQuery{Before: 8, Limit: 3}, []uint64{7, 6, 5}},
		{"before 1", RunQuery{Before: 1}, nil},
		{"before beyond the newest", RunQuery{Before: 1000, Limit: 2}, []uint64{10, 9}},
		{"only failed", RunQuery{OnlyFailed: true}, []uint64{10, 7, 4, 1}},
		{"failed page", RunQuery{OnlyFailed: true, Before: 7, Limit: 1}, []uint64{4}},
		{"statuses", RunQuery{Statuses: []scheduler.RunStatus{scheduler.StatusSucceeded}, Limit: 2}, []uint64{9, 8}},
	}
	for _, c := range cases {
		got, err := db.Runs(c.q)
		if err != nil || !slices.Equal(idsOf(got), c.want) {
			t.Errorf("%s: Runs(%+v) = %v, %v; want %v", c.name, c.q, idsOf(got), err, c.want)
		}
	}
	got, err := db.LatestRuns(4)
	if err != nil || !slices.Equal(idsOf(got), []uint64{10, 9, 8, 7}) {
		t.Errorf("LatestRuns(4) = %v, %v", idsOf(got), err)
	}
	if got, _ := db.LatestRuns(0); len(got) != 0 {
		t.Errorf("LatestRuns(0) = %v, want none", idsOf(got))
	}
}

func TestPruneRunsKeepsLatestAndRunning(t *testing.T) {
	db := newDB(t)
	for i := range 10 {
		st := scheduler.StatusSucceeded
		if i == 1 {
			st = scheduler.StatusRunning
		}
		claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Duration(i) * time.Hour), Attempt: 1, Status: st})
	}
	n, err := db.PruneRuns(3)
	if err != nil || n != 6 {
		t.Fatalf("PruneRuns(3) = %d, %v; want 6 deleted", n, err)
	}
	runs, _ := db.LatestRuns(100)
	var ids []uint64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []uint64{10, 9, 8, 2}) {
		t.Errorf("after pruning: %v, want [10 9 8 2]", ids)
	}
	// The pruned slot stays claimed.
	if _, err := db.ClaimRun(scheduler.Run{Slot: t0, Attempt: 1, Status: scheduler.StatusRunning}); !errors.Is(err, scheduler.ErrSlotClaimed) {
		t.Errorf("claiming a pruned run's slot = %v, want ErrSlotClaimed", err)
	}
	if _, err := db.PruneRuns(0); err == nil {
		t.Error("PruneRuns(0) succeeded; the latest run must be kept")
	}
}
