package store

import (
	"testing"
	"time"

	"worktray/scheduler"
)

// TestDetailBookkeepingIsKeptWithoutAChange: when the scraper read an order's detail page again
// (or could not) and its content is the same, the time it was read and the reason it is
// missing are stored, and the order is not counted as changed.
func TestDetailBookkeepingIsKeptWithoutAChange(t *testing.T) {
	db := newDB(t)
	finish := func(at time.Time, orders ...scheduler.Order) scheduler.Diff {
		t.Helper()
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Started: at})
		r.Status = scheduler.StatusSucceeded
		_, diff, err := db.FinishRun(r, orders, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		return diff
	}
	a := order("A", 1)
	a.Instructions = "Gate code 4821#."
	a.DetailReadAt = t0
	finish(t0, a)
	first := getOrder(t, db, "A")

	a.DetailReadAt = t0.Add(25 * time.Hour)
	if d := finish(t0.Add(25*time.Hour), a); len(d.Changed)+len(d.New) != 0 {
		t.Errorf("a re-read with the same content counted as %+v", d)
	}
	o := getOrder(t, db, "A")
	if !o.DetailReadAt.Equal(a.DetailReadAt) || !o.ChangedAt.Equal(first.ChangedAt) || !o.FirstSeen.Equal(first.FirstSeen) || o.Hash != first.Hash {
		t.Errorf("after the re-read: read at %v, changed at %v (was %v)", o.DetailReadAt, o.ChangedAt, first.ChangedAt)
	}

	a.DetailMissing = "the portal answered HTTP 500 loading the detail page of work order W-000001"
	finish(t0.Add(26*time.Hour), a)
	if o := getOrder(t, db, "A"); o.DetailMissing != a.DetailMissing || o.Instructions != a.Instructions {
		t.Errorf("detail missing %q, instructions %q", o.DetailMissing, o.Instructions)
	}
	a.DetailMissing = ""
	finish(t0.Add(27*time.Hour), a)
	if o := getOrder(t, db, "A"); o.DetailMissing != "" {
		t.Errorf("detail missing %q after a good read", o.DetailMissing)
	}
}
