package store

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
)

// TestPruningKeepsClaims: the rule of PruneRuns. A slot whose record was pruned stays claimed
// (SlotClaimed, ClaimRun refuses it) although RunBySlot no longer finds its record; and new
// slots, also missed ones, are still claimed.
func TestPruningKeepsClaims(t *testing.T) {
	db := newDB(t)
	var slots []time.Time
	for i := range 5 {
		s := t0.Add(time.Duration(i) * time.Hour)
		slots = append(slots, s)
		if _, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: s, Attempt: 1, Started: s,
			Status: scheduler.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.PruneRuns(1); err != nil || n != 4 {
		t.Fatalf("PruneRuns = %d, %v", n, err)
	}
	for _, s := range slots {
		if ok, err := db.SlotClaimed(s); err != nil || !ok {
			t.Fatalf("slot %v claimed %v, %v after pruning", s, ok, err)
		}
		if _, err := db.ClaimRun(scheduler.Run{Slot: s, Attempt: 1, Status: scheduler.StatusRunning}); !errors.Is(err, scheduler.ErrSlotClaimed) {
			t.Fatalf("claiming pruned slot %v again: %v", s, err)
		}
	}
	if _, err := db.RunBySlot(slots[0]); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("RunBySlot of a pruned record: %v", err)
	}
	next := t0.Add(5 * time.Hour)
	if _, _, err := db.FinishRun(scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{next}, Attempt: 1}, nil, next, nil); err != nil {
		t.Fatalf("recording a new missed slot after pruning: %v", err)
	}
	got, err := db.ClaimedSlots(t0, next)
	if err != nil || len(got) != 6 || !got[5].Equal(next) {
		t.Fatalf("ClaimedSlots = %v, %v", got, err)
	}
}

// TestCoveredSlotsAreClaimed: a run that stands for earlier slots within grace claims them too.
func TestCoveredSlotsAreClaimed(t *testing.T) {
	db := newDB(t)
	r, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerCatchUp, Slot: t0.Add(time.Hour), CoveredSlots: []time.Time{t0},
		Attempt: 1, Status: scheduler.StatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.RunBySlot(t0); err != nil || got.ID != r.ID {
		t.Fatalf("covered slot claimed by %+v, %v", got, err)
	}
}

// TestReleaseMissedSlots: missed records after an instant are withdrawn (a record left empty
// is deleted), runs that ran keep their claims.
func TestReleaseMissedSlots(t *testing.T) {
	db := newDB(t)
	s := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	missed, _, err := db.FinishRun(scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{s(1), s(2), s(3)}, Attempt: 1}, nil, s(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	later, _, err := db.FinishRun(scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{s(5)}, Attempt: 1}, nil, s(5), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimRun(scheduler.Run{Slot: s(4), Attempt: 1, Status: scheduler.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	released, err := db.ReleaseMissedSlots(s(1).Add(30 * time.Minute))
	if err != nil || !slices.EqualFunc(released, []time.Time{s(2), s(3), s(5)}, time.Time.Equal) {
		t.Fatalf("released %v, %v; want 2, 3 and 5", released, err)
	}
	if r, err := db.Run(missed.ID); err != nil || len(r.MissedSlots) != 1 || !r.MissedSlots[0].Equal(s(1)) {
		t.Fatalf("the first missed record is %+v, %v; want only slot 1 left", r, err)
	}
	if _, err := db.Run(later.ID); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("the emptied missed record: %v, want deleted", err)
	}
	for h, want := range map[int]bool{1: true, 2: false, 3: false, 4: true, 5: false} {
		if ok, _ := db.SlotClaimed(s(h)); ok != want {
			t.Fatalf("slot %d claimed %v, want %v", h, ok, want)
		}
	}
}

// TestSaveScheduleSettlesTheOldOne: saving a schedule makes the old one's unhandled slots owed
// and moves the cursor to now; enabling a disabled one, or saving while paused, owes nothing.
func TestSaveScheduleSettlesTheOldOne(t *testing.T) {
	fc := clockwork.NewFakeClockAt(t0)
	db := openTest(t, t.TempDir()+"/w.db", Options{Clock: fc})
	hourly := scheduler.DefaultSchedule("UTC")
	if err := db.SaveSchedule(hourly); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.Cursor = t0; return nil }); err != nil {
		t.Fatal(err)
	}
	fc.Advance(3 * time.Hour) // 17:30: 15:30, 16:30, 17:30 not dealt with
	off := hourly
	off.Enabled = false
	if err := db.SaveSchedule(off); err != nil {
		t.Fatal(err)
	}
	st, _ := db.State()
	if len(st.Owed) != 3 || !st.Cursor.Equal(fc.Now()) {
		t.Fatalf("after disabling: owed %v cursor %v; want 3 slots owed and the cursor now", st.Owed, st.Cursor)
	}
	fc.Advance(71 * time.Hour)
	if err := db.SaveSchedule(hourly); err != nil { // enabling owes nothing of the disabled time
		t.Fatal(err)
	}
	st, _ = db.State()
	if len(st.Owed) != 3 || !st.Cursor.Equal(fc.Now()) {
		t.Fatalf("after enabling: owed %v cursor %v; want the same 3 slots and the cursor now", st.Owed, st.Cursor)
	}
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.Paused, st.Owed = true, nil; return nil }); err != nil {
		t.Fatal(err)
	}
	fc.Advance(5 * time.Hour)
	if err := db.SaveSchedule(off); err != nil {
		t.Fatal(err)
	}
	if st, _ = db.State(); len(st.Owed) != 0 {
		t.Fatalf("saving while paused owed %v", st.Owed)
	}
}
