package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
)

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func getOrder(t *testing.T, db *DB, id string) scheduler.Order {
	t.Helper()
	o, err := db.Order(id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestFinishRunAppliesTheScrapeAsADiff(t *testing.T) {
	db := newDB(t)
	t1, t2, t3, t4 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	a, b, c, d := order("A", 1), order("B", 2), order("C", 3), order("D", 4)

	finish := func(at time.Time, orders []scheduler.Order) (scheduler.Run, scheduler.Diff) {
		t.Helper()
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Started: at})
		r.Status = scheduler.StatusSucceeded
		got, diff, err := db.FinishRun(r, orders, at, nil)
		if err != nil {
			t.Fatalf("FinishRun at %v: %v", at, err)
		}
		stored, _ := db.Run(got.ID)
		if stored.Found != diff.Found || stored.New != len(diff.New) || stored.Changed != len(diff.Changed) ||
			stored.Removed != len(diff.Removed) || stored.Status != scheduler.StatusSucceeded {
			t.Errorf("stored run %+v does not match the diff %+v", stored, diff)
		}
		return got, diff
	}

	// 1: everything is new.
	run, diff := finish(t1, []scheduler.Order{a, b, c})
	wantIDs(t, "first scrape: new", diff.New, []string{"A", "B", "C"})
	if len(diff.NewNumbers) != 3 || diff.NewNumbers[0] != a.Number || diff.NewNumbers[2] != c.Number {
		t.Errorf("first scrape: new numbers %v, want those of A, B, C in scrape order", diff.NewNumbers)
	}
	if diff.Found != 3 || diff.Previous != 0 || len(diff.Changed)+len(diff.Removed) != 0 || run.New != 3 || run.Found != 3 {
		t.Errorf("first scrape: diff %+v, run %+v", diff, run)
	}
	if o := getOrder(t, db, "A"); !o.FirstSeen.Equal(t1) || !o.LastSeen.Equal(t1) || !o.ChangedAt.Equal(t1) ||
		!o.RemovedAt.IsZero() || o.Hash != a.ContentHash() || o.Customer != a.Customer {
		t.Errorf("new order A stored as %+v", o)
	}

	// 2: A unchanged (with junk bookkeeping from the scraper), B changed, C gone (missing), D new.
	a2 := a
	a2.FirstSeen, a2.Hash, a2.RemovedAt, a2.Mark, a2.MissingSince = t4, "junk", t4, scheduler.MarkChanged, t4
	b2 := b
	b2.Customer = "Acme Wholesale"
	_, diff = finish(t2, []scheduler.Order{d, b2, a2})
	wantIDs(t, "second scrape: new", diff.New, []string{"D"})
	wantIDs(t, "second scrape: changed", diff.Changed, []string{"B"})
	wantIDs(t, "second scrape: missing", diff.Missing, []string{"C"})
	wantIDs(t, "second scrape: removed", diff.Removed, nil)
	if diff.Previous != 3 || diff.Found != 3 {
		t.Errorf("second scrape: previous %d, found %d; want 3, 3", diff.Previous, diff.Found)
	}
	if o := getOrder(t, db, "A"); !o.FirstSeen.Equal(t1) || !o.LastSeen.Equal(t2) || !o.ChangedAt.Equal(t1) || !o.RemovedAt.IsZero() ||
		o.Hash != a.ContentHash() || o.Mark != scheduler.MarkNew || !o.MissingSince.IsZero() {
		t.Errorf("unchanged order A stored as %+v", o)
	}
	if o := getOrder(t, db, "B"); !o.FirstSeen.Equal(t1) || !o.LastSeen.Equal(t2) || !o.ChangedAt.Equal(t2) || o.Customer != "Acme Wholesale" || o.Hash != b2.ContentHash() {
		t.Errorf("changed order B stored as %+v", o)
	}
	if o := getOrder(t, db, "C"); !o.RemovedAt.IsZero() || !o.MissingSince.Equal(t2) || !o.LastSeen.Equal(t1) {
		t.Errorf("missing order C stored as %+v; want active, missing since %v, last seen %v", o, t2, t1)
	}
	active, _ := db.ActiveOrders()
	if _, ok := active["C"]; !ok || len(active) != 4 {
		t.Errorf("active orders = %d (C active: %v), want A, B, C (missing), D", len(active), ok)
	}

	// 3: C still lacking in a second complete read: removed, softly.
	_, diff = finish(t3, []scheduler.Order{d, b2, a})
	wantIDs(t, "third scrape: removed", diff.Removed, []string{"C"})
	if len(diff.New)+len(diff.Changed)+len(diff.Missing) != 0 || diff.Previous != 4 {
		t.Errorf("third scrape: %+v", diff)
	}
	if o := getOrder(t, db, "C"); !o.RemovedAt.Equal(t3) || !o.LastSeen.Equal(t1) {
		t.Errorf("removed order C stored as %+v; want a soft removal at %v", o, t3)
	}
	if n, _ := db.OrderCount(); n != 3 {
		t.Errorf("OrderCount() = %d, want 3", n)
	}
	if all, _ := db.Orders(true); len(all) != 4 {
		t.Errorf("Orders(true) has %d orders, want 4 (a removal is soft)", len(all))
	}
	if _, err := db.MarkAllSeen(); err != nil {
		t.Fatal(err)
	}

	// 4: C reappears: not new, first seen kept, not marked new.
	_, diff = finish(t4, []scheduler.Order{a, b2, c, d})
	wantIDs(t, "fourth scrape: new", diff.New, nil)
	wantIDs(t, "fourth scrape: reappeared", diff.Reappeared, []string{"C"})
	if len(diff.Changed)+len(diff.Removed) != 0 || diff.Previous != 3 {
		t.Errorf("fourth scrape: %+v", diff)
	}
	if o := getOrder(t, db, "C"); !o.RemovedAt.IsZero() || !o.FirstSeen.Equal(t1) || !o.LastSeen.Equal(t4) || o.Mark != scheduler.MarkNone {
		t.Errorf("reappeared order C stored as %+v", o)
	}
	hist, err := db.OrderHistory("C")
	if err != nil || len(hist) != 2 || hist[0].Field != FieldRemovedAt || hist[0].New != "" || hist[1].New != t3.Format(time.RFC3339) {
		t.Errorf("history of C = %+v, %v; want its removal and its return, newest first", hist, err)
	}

	// 5: an empty scrape removes nothing at once; a second one removes everything, softly.
	_, diff = finish(t4.Add(time.Hour), []scheduler.Order{})
	wantIDs(t, "empty scrape: missing", diff.Missing, []string{"A", "B", "C", "D"})
	wantIDs(t, "empty scrape: removed", diff.Removed, nil)
	_, diff = finish(t4.Add(2*time.Hour), []scheduler.Order{})
	wantIDs(t, "second empty scrape: removed", diff.Removed, []string{"A", "B", "C", "D"})
	if diff.Previous != 4 || diff.Found != 0 {
		t.Errorf("empty scrape: %+v", diff)
	}
	if all, _ := db.Orders(true); len(all) != 4 {
		t.Errorf("after an empty scrape %d orders are stored, want all 4", len(all))
	}
	if n, _ := db.OrderCount(); n != 0 {
		t.Errorf("OrderCount() = %d after two empty scrapes, want 0", n)
	}
}

func TestFinishRunDecidesAndQueuesAlerts(t *testing.T) {
	db := newDB(t)
	if _, err := db.UpdateState(func(st *scheduler.State) error { st.ConsecutiveFailures = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Found: 7})
	at := t0.Add(time.Minute)
	created := t0.Add(-time.Hour)
	var seen scheduler.Diff
	calls := 0
	got, diff, err := db.FinishRun(r, []scheduler.Order{order("A", 1)}, at, func(run *scheduler.Run, diff scheduler.Diff, st *scheduler.State) []scheduler.Alert {
		calls++
		seen = diff
		if st.ConsecutiveFailures != 2 {
			t.Errorf("decide got state %+v, want the stored one", st)
		}
		st.ConsecutiveFailures = 0
		run.Status, run.Finished = scheduler.StatusSucceeded, at
		run.ID = 12345 // ignored
		return []scheduler.Alert{
			{Kind: scheduler.AlertRecovered, Title: "Scrapes work again", Pushover: true},
			{Kind: scheduler.AlertNewOrders, Title: "1 new work order", Desktop: true, Created: created, RunID: 77},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(seen.New) != 1 || seen.Found != 1 || len(diff.New) != 1 {
		t.Errorf("decide called %d times with %+v; returned diff %+v", calls, seen, diff)
	}
	if got.ID != r.ID || got.Status != scheduler.StatusSucceeded || got.Found != 1 {
		t.Errorf("FinishRun returned %+v", got)
	}
	if stored, _ := db.Run(r.ID); stored.Status != scheduler.StatusSucceeded || !stored.Finished.Equal(at) {
		t.Errorf("stored run %+v", stored)
	}
	if _, err := db.Run(12345); !errors.Is(err, scheduler.ErrNotFound) {
		t.Error("decide changed the run's id")
	}
	if st, _ := db.State(); st.ConsecutiveFailures != 0 {
		t.Errorf("state after FinishRun = %+v, want decide's", st)
	}
	pending, err := db.PendingAlerts(0)
	if err != nil || len(pending) != 2 {
		t.Fatalf("PendingAlerts = %+v, %v", pending, err)
	}
	if p := pending[0]; p.ID != 1 || p.Kind != scheduler.AlertRecovered || !p.Created.Equal(at) || p.RunID != r.ID {
		t.Errorf("first alert = %+v; want id 1, created at %v, run %d", p, at, r.ID)
	}
	if p := pending[1]; p.ID != 2 || !p.Created.Equal(created) || p.RunID != 77 {
		t.Errorf("second alert = %+v; want id 2 keeping its Created and RunID", p)
	}

	// Without orders the stored orders and the run's counts stay as they are.
	r2 := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Found: 5})
	r2.Status = scheduler.StatusFailed
	got, diff, err = db.FinishRun(r2, nil, at, nil)
	if err != nil || got.Found != 5 || diff.Found != 0 || len(diff.New)+len(diff.Removed) != 0 {
		t.Errorf("FinishRun without orders = %+v, %+v, %v", got, diff, err)
	}
	if n, _ := db.OrderCount(); n != 1 {
		t.Errorf("FinishRun without orders changed the orders: %d active", n)
	}
}

func TestFinishRunRollsBackOnFailure(t *testing.T) {
	db := newDB(t)
	first := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if _, _, err := db.FinishRun(first, []scheduler.Order{order("A", 1), order("B", 2)}, t0, nil); err != nil {
		t.Fatal(err)
	}
	run := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	run.Status = scheduler.StatusSucceeded
	changed := order("A", 1)
	changed.Customer = "someone else"
	decide := func(r *scheduler.Run, d scheduler.Diff, st *scheduler.State) []scheduler.Alert {
		st.Paused = true
		return []scheduler.Alert{{Kind: scheduler.AlertNewOrders}}
	}

	cases := []struct {
		name   string
		run    scheduler.Run
		orders []scheduler.Order
		decide func(*scheduler.Run, scheduler.Diff, *scheduler.State) []scheduler.Alert
		want   string
	}{
		{"duplicate portal id", run, []scheduler.Order{changed, order("C", 3), order("C", 4)}, decide, `"C" is listed twice`},
		{"empty portal id", run, []scheduler.Order{changed, order("", 5)}, decide, "no portal id"},
		{"unknown run", scheduler.Run{ID: 999}, []scheduler.Order{changed}, decide, "not found"},
		{"decide panics", run, []scheduler.Order{changed, order("C", 3)}, func(r *scheduler.Run, d scheduler.Diff, st *scheduler.State) []scheduler.Alert {
			st.Paused = true
			r.Status = scheduler.StatusFailed
			panic("the policy is broken")
		}, "the policy is broken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dump(t, db)
			_, _, err := db.FinishRun(c.run, c.orders, t0.Add(time.Hour), c.decide)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), db.Path()) {
				t.Fatalf("FinishRun = %v, want an error naming the store and containing %q", err, c.want)
			}
			if d := diffDumps(before, dump(t, db)); len(d) > 0 {
				t.Errorf("a failed FinishRun wrote: %v", d)
			}
		})
	}
	// The store still works after the rollbacks.
	if _, _, err := db.FinishRun(run, []scheduler.Order{changed}, t0.Add(time.Hour), decide); err != nil {
		t.Fatal(err)
	}
}

func TestOrdersAreSortedByVisitDateThenNumber(t *testing.T) {
	db := newDB(t)
	mk := func(id, number, date string) scheduler.Order {
		o := order(id, 1)
		o.Number, o.VisitDate = number, date
		return o
	}
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	in := []scheduler.Order{mk("1", "W-3", "2025-03-02"), mk("2", "W-2", "2025-03-01"), mk("3", "W-1", "2025-03-02"), mk("4", "W-9", "2025-02-28")}
	if _, _, err := db.FinishRun(r, in, t0, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.Orders(false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range got {
		ids = append(ids, o.PortalID)
	}
	wantIDs(t, "Orders order", ids, []string{"4", "2", "3", "1"})
	if _, err := db.Order("nope"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Order(nope) = %v, want ErrNotFound", err)
	}
}
