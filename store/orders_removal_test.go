package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// modelOrder is what the randomized test expects of one portal id.
type modelOrder struct {
	known     bool
	removed   bool
	firstSeen time.Time
	lastSeen  time.Time
	// lacked counts the consecutive complete reads that lacked the order with no read listing
	// it since; the store removes it at the second.
	lacked  int
	mark    scheduler.OrderMark
	hash    string
	history int // entries expected in its change history (capped by OrderHistoryKeep)
}

// variantOrder is order id in content variant v: variants differ in the customer, a custom
// field, the visit's time and the instructions, so each kind of field takes part.
func variantOrder(id string, n, v int) scheduler.Order {
	o := order(id, n)
	switch v % 4 {
	case 1:
		o.Customer = "Acme Retail (variant 1)"
	case 2:
		o.Custom = []scheduler.CustomField{{Name: "dispenser_count", Type: scheduler.FieldInteger, Value: "4"},
			{Name: "tags", Type: scheduler.FieldList, Items: []string{"roof", "night"}, Value: "roof, night"}}
	case 3:
		o.VisitAt = time.Date(2025, 3, 1+n%28, 13, 30, 0, 0, time.UTC)
		o.Instructions = "Day 2 of 2\n\nBring the ladder."
	}
	return o
}

// TestRemovalIsConfirmedRandomized applies random sequences of complete, incomplete and failed
// reads and of "seen" actions, and after every step compares the store with a model of the
// rule: no order is removed unless two consecutive complete reads lacked it (and no read in
// between listed it); a read that lists an order clears its missing state; a removed order
// that comes back keeps its first-seen time and is not new; marks stay until seen. Set
// WORKTRAY_TEST_SEED to replay a sequence, WORKTRAY_PROPERTY_N for the number of steps.
func TestRemovalIsConfirmedRandomized(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WORKTRAY_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WORKTRAY_TEST_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with WORKTRAY_TEST_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// WORKTRAY_PROPERTY_N steps in all (`make soak` sets it large); 1,200 by default, 300 with -short.
	steps, total := 60, 1200
	if testing.Short() {
		total = 300
	}
	if s := os.Getenv("WORKTRAY_PROPERTY_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < steps {
			t.Fatalf("WORKTRAY_PROPERTY_N=%q: want a number of steps, at least %d", s, steps)
		}
		total = n
	}
	sequences := total / steps
	for seq := range sequences {
		db := openTest(t, filepath.Join(t.TempDir(), fmt.Sprintf("seq%d.db", seq)), Options{})
		runRemovalSequence(t, db, rng, seq, steps)
		if t.Failed() {
			return
		}
	}
}

func runRemovalSequence(t *testing.T, db *DB, rng *rand.Rand, seq, steps int) {
	const ids = 8
	model := make([]modelOrder, ids)
	variant := make([]int, ids)
	at := t0
	for step := range steps {
		at = at.Add(time.Hour)
		where := fmt.Sprintf("sequence %d step %d", seq, step)
		k := rng.IntN(10)
		if os.Getenv("WORKTRAY_TEST_TRACE") != "" {
			t.Logf("%s: action %d, model %+v", where, k, model)
		}
		switch {
		case k == 0: // the user opens a few orders
			var pick []string
			for i := range ids {
				if model[i].known && rng.IntN(3) == 0 {
					pick = append(pick, pid(i))
					model[i].mark = scheduler.MarkNone
				}
			}
			if _, err := db.MarkSeen(pick...); err != nil {
				t.Fatalf("%s: MarkSeen(%v): %v", where, pick, err)
			}
		case k == 1: // "Mark all seen"
			if _, err := db.MarkAllSeen(); err != nil {
				t.Fatalf("%s: MarkAllSeen: %v", where, err)
			}
			for i := range model {
				model[i].mark = scheduler.MarkNone
			}
		case k == 2: // a failed run: nothing applied
			r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
			r.Status = scheduler.StatusFailed
			if _, _, err := db.FinishRun(r, nil, at, nil); err != nil {
				t.Fatalf("%s: failed run: %v", where, err)
			}
		default: // a read, complete or not, listing a random subset
			complete := rng.IntN(4) != 0
			confirmed := complete && rng.IntN(3) == 0 // the scraper read the list twice
			listed := []scheduler.Order{}             // an empty read is a read; nil would be "no read"
			in := make([]bool, ids)
			for i := range ids {
				if rng.IntN(3) == 0 {
					continue
				}
				if rng.IntN(4) == 0 {
					variant[i] = rng.IntN(4)
				}
				in[i] = true
				listed = append(listed, variantOrder(pid(i), i, variant[i]))
			}
			rng.Shuffle(len(listed), func(a, b int) { listed[a], listed[b] = listed[b], listed[a] })
			r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
			r.Status, r.Incomplete = scheduler.StatusSucceeded, !complete
			if confirmed {
				r.ListReads = 2
			}
			_, diff, err := db.FinishRun(r, listed, at, nil)
			if err != nil {
				t.Fatalf("%s: FinishRun: %v", where, err)
			}
			if os.Getenv("WORKTRAY_TEST_TRACE") != "" {
				t.Logf("%s: complete %v confirmed %v listed %v diff %+v", where, complete, confirmed, in, diff)
			}
			var want scheduler.Diff
			for i := range ids {
				m := &model[i]
				switch {
				case in[i]:
					h := variantOrder(pid(i), i, variant[i]).ContentHash()
					switch {
					case !m.known:
						want.New = append(want.New, pid(i))
						*m = modelOrder{known: true, firstSeen: at, mark: scheduler.MarkNew, hash: h}
					default:
						if m.removed {
							want.Reappeared = append(want.Reappeared, pid(i))
							m.history++
						}
						if m.hash != h {
							want.Changed = append(want.Changed, pid(i))
							m.history += len(FieldChanges(variantOrder(pid(i), i, variantFromHash(i, m.hash)), variantOrder(pid(i), i, variant[i]), at))
							if m.mark != scheduler.MarkNew {
								m.mark = scheduler.MarkChanged
							}
						}
						m.removed, m.hash = false, h
					}
					m.lastSeen, m.lacked = at, 0
				case m.known && !m.removed && complete:
					m.lacked++
					if confirmed {
						m.lacked++ // two complete reads lacked it
					}
					if m.lacked == 1 {
						want.Missing = append(want.Missing, pid(i))
					} else {
						want.Removed = append(want.Removed, pid(i))
						m.removed, m.lacked = true, 0
						m.history++
					}
				}
			}
			wantIDs(t, where+": new", diff.New, want.New)
			wantIDs(t, where+": changed", diff.Changed, want.Changed)
			wantIDs(t, where+": missing", diff.Missing, want.Missing)
			wantIDs(t, where+": removed", diff.Removed, want.Removed)
			wantIDs(t, where+": reappeared", diff.Reappeared, want.Reappeared)
			if diff.Incomplete == complete {
				t.Errorf("%s: diff.Incomplete = %v for a complete=%v read", where, diff.Incomplete, complete)
			}
		}
		checkModel(t, db, model, where)
		if t.Failed() {
			t.FailNow()
		}
	}
}

// variantFromHash finds the variant of order i whose hash is h (the model keeps hashes only).
func variantFromHash(i int, h string) int {
	for v := range 4 {
		if variantOrder(pid(i), i, v).ContentHash() == h {
			return v
		}
	}
	panic("no variant has hash " + h)
}

func pid(i int) string { return fmt.Sprintf("P%d", i) }

// checkModel compares every stored order with the model.
func checkModel(t *testing.T, db *DB, model []modelOrder, where string) {
	t.Helper()
	all, err := db.Orders(true)
	if err != nil {
		t.Fatalf("%s: Orders: %v", where, err)
	}
	stored := map[string]scheduler.Order{}
	for _, o := range all {
		stored[o.PortalID] = o
	}
	for i, m := range model {
		o, ok := stored[pid(i)]
		if ok != m.known {
			t.Errorf("%s: %s stored = %v, want %v", where, pid(i), ok, m.known)
			continue
		}
		if !ok {
			continue
		}
		if (!o.RemovedAt.IsZero()) != m.removed {
			t.Errorf("%s: %s removed at %v; the model says removed = %v (no order is removed unless two consecutive complete reads lacked it)",
				where, pid(i), o.RemovedAt, m.removed)
		}
		if wantMissing := m.lacked == 1; !m.removed && (!o.MissingSince.IsZero()) != wantMissing {
			t.Errorf("%s: %s missing since %v, want missing = %v", where, pid(i), o.MissingSince, wantMissing)
		}
		if m.removed && (o.MissingSince.IsZero() || o.MissingSince.After(o.RemovedAt)) {
			t.Errorf("%s: %s removed at %v but missing since %v: a removal must follow an earlier complete read that lacked it",
				where, pid(i), o.RemovedAt, o.MissingSince)
		}
		if !o.FirstSeen.Equal(m.firstSeen) {
			t.Errorf("%s: %s first seen %v, want %v (kept across removals)", where, pid(i), o.FirstSeen, m.firstSeen)
		}
		if !o.LastSeen.Equal(m.lastSeen) {
			t.Errorf("%s: %s last seen %v, want %v", where, pid(i), o.LastSeen, m.lastSeen)
		}
		if o.Mark != m.mark {
			t.Errorf("%s: %s mark %q, want %q", where, pid(i), o.Mark, m.mark)
		}
		if o.Hash != m.hash || o.ContentHash() != m.hash {
			t.Errorf("%s: %s hash %s (content %s), want %s", where, pid(i), o.Hash, o.ContentHash(), m.hash)
		}
		h, err := db.OrderHistory(pid(i))
		if err != nil || len(h) != min(m.history, OrderHistoryKeep) {
			t.Errorf("%s: %s history has %d entries (%v), want %d", where, pid(i), len(h), err, min(m.history, OrderHistoryKeep))
		}
	}
}

// oldContentHash is ContentHash as versions before custom fields and visit times computed it.
func oldContentHash(o scheduler.Order) string {
	h := sha256.New()
	h.Write([]byte(o.ListHash()))
	h.Write([]byte{0})
	h.Write([]byte(o.Instructions))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func TestContentHashOfOrdersWithoutCustomFieldsIsUnchanged(t *testing.T) {
	o := order("A", 1)
	o.Instructions = "Ring twice."
	if o.ContentHash() != oldContentHash(o) {
		t.Fatalf("the hash of an order without custom fields or visit time changed: %s, was %s", o.ContentHash(), oldContentHash(o))
	}
	// Bookkeeping from the scraper does not count.
	b := o
	b.DetailMissing, b.DetailReadAt = "HTTP 500", t0
	if b.ContentHash() != o.ContentHash() {
		t.Error("DetailMissing or DetailReadAt changed the content hash")
	}
	for name, change := range map[string]func(*scheduler.Order){
		"visit time": func(o *scheduler.Order) { o.VisitAt = t0 },
		"a custom field": func(o *scheduler.Order) {
			o.Custom = []scheduler.CustomField{{Name: "priority", Type: scheduler.FieldText, Value: "high"}}
		},
		"a list field's item": func(o *scheduler.Order) {
			o.Custom = []scheduler.CustomField{{Name: "tags", Type: scheduler.FieldList, Items: []string{"a", "b"}}}
		},
	} {
		c := o
		change(&c)
		if c.ContentHash() == o.ContentHash() {
			t.Errorf("%s does not change the content hash", name)
		}
	}
	x := o
	x.Custom = []scheduler.CustomField{{Name: "tags", Type: scheduler.FieldList, Items: []string{"a", "b"}}}
	y := o
	y.Custom = []scheduler.CustomField{{Name: "tags", Type: scheduler.FieldList, Items: []string{"a b"}}}
	if x.ContentHash() == y.ContentHash() {
		t.Error("list items [a b] and [a b] joined hash alike")
	}
}

func TestIncompleteReadRemovesNothingAndListingClearsMissing(t *testing.T) {
	db := newDB(t)
	apply := func(at time.Time, incomplete bool, orders ...scheduler.Order) scheduler.Diff {
		t.Helper()
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
		r.Status, r.Incomplete = scheduler.StatusSucceeded, incomplete
		got, diff, err := db.FinishRun(r, orders, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stored, _ := db.Run(got.ID); stored.Incomplete != incomplete {
			t.Errorf("stored run Incomplete = %v, want %v", stored.Incomplete, incomplete)
		}
		return diff
	}
	a, b := order("A", 1), order("B", 2)
	apply(t0, false, a, b)
	// Incomplete reads that lack B, any number of them: B stays, not even missing.
	for i := 1; i <= 3; i++ {
		d := apply(t0.Add(time.Duration(i)*time.Hour), true, a)
		if len(d.Missing)+len(d.Removed) != 0 || !d.Incomplete {
			t.Fatalf("incomplete read %d: %+v", i, d)
		}
	}
	if o := getOrder(t, db, "B"); !o.MissingSince.IsZero() || !o.RemovedAt.IsZero() || !o.LastSeen.Equal(t0) {
		t.Errorf("B after incomplete reads: %+v", o)
	}
	// Complete read lacking B: missing. An incomplete read lacking it: still missing, not removed.
	d := apply(t0.Add(5*time.Hour), false, a)
	wantIDs(t, "missing", d.Missing, []string{"B"})
	if runs, _ := db.LatestRuns(1); len(runs) != 1 || runs[0].Missing != 1 || runs[0].Removed != 0 {
		t.Errorf("the run of the read that lacked B: %+v, want 1 missing, none removed", runs)
	}
	d = apply(t0.Add(6*time.Hour), true, a)
	wantIDs(t, "removed by an incomplete read", d.Removed, nil)
	// An incomplete read that lists B clears it.
	apply(t0.Add(7*time.Hour), true, b)
	if o := getOrder(t, db, "B"); !o.MissingSince.IsZero() || !o.LastSeen.Equal(t0.Add(7*time.Hour)) {
		t.Errorf("B listed again: %+v", o)
	}
	if o := getOrder(t, db, "A"); !o.LastSeen.Equal(t0.Add(6*time.Hour)) || !o.MissingSince.IsZero() {
		t.Errorf("A not reached by the last (incomplete) read: %+v; want last seen at the read before", o)
	}
	// So a complete read lacking B makes it missing again, not removed.
	d = apply(t0.Add(8*time.Hour), false, a)
	wantIDs(t, "missing again", d.Missing, []string{"B"})
	wantIDs(t, "removed after a listing in between", d.Removed, nil)

	// A scrape that read the list twice (ListReads 2) removes what both reads lacked at once.
	c := order("C", 3)
	apply(t0.Add(9*time.Hour), false, a, b, c)
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	r.Status, r.ListReads = scheduler.StatusSucceeded, 2
	_, d, err := db.FinishRun(r, []scheduler.Order{a, b}, t0.Add(10*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "removed by a confirmed read", d.Removed, []string{"C"})
	wantIDs(t, "missing after a confirmed read", d.Missing, nil)
	// An incomplete read that says it read twice still removes nothing.
	r = claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	r.Status, r.ListReads, r.Incomplete = scheduler.StatusSucceeded, 2, true
	if _, d, err = db.FinishRun(r, []scheduler.Order{a}, t0.Add(11*time.Hour), nil); err != nil || len(d.Removed)+len(d.Missing) != 0 {
		t.Errorf("incomplete read with ListReads 2: %+v, %v", d, err)
	}
}

func TestChangeHistoryRecordsFieldsAndIsBounded(t *testing.T) {
	db := newDB(t)
	a := order("A", 1)
	a.Custom = []scheduler.CustomField{{Name: "priority", Label: "Priority", Type: scheduler.FieldText, Value: "low"}}
	apply := func(at time.Time, orders ...scheduler.Order) scheduler.Diff {
		t.Helper()
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
		r.Status = scheduler.StatusSucceeded
		_, diff, err := db.FinishRun(r, orders, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		return diff
	}
	apply(t0, a)
	if _, err := db.MarkSeen("A"); err != nil {
		t.Fatal(err)
	}
	b := a
	b.Instructions = "Line one\nLine two"
	b.Custom = []scheduler.CustomField{{Name: "priority", Type: scheduler.FieldText, Value: "high"},
		{Name: "county", Type: scheduler.FieldText, Value: "Cook"}}
	b.VisitAt = time.Date(2025, 3, 2, 15, 4, 0, 0, time.UTC)
	d := apply(t0.Add(time.Hour), b)
	wantIDs(t, "changed", d.Changed, []string{"A"})
	h, err := db.OrderHistory("A")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, c := range h {
		got[c.Field] = [2]string{c.Old, c.New}
		if !c.At.Equal(t0.Add(time.Hour)) || c.PortalID != "A" {
			t.Errorf("entry %+v: want portal id A at %v", c, t0.Add(time.Hour))
		}
	}
	want := map[string][2]string{"instructions": {"", "Line one\nLine two"}, "priority": {"low", "high"},
		"county": {"", "Cook"}, "visit_at": {"", "2025-03-02T15:04:00Z"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if o := getOrder(t, db, "A"); o.Mark != scheduler.MarkChanged || !o.ChangedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("changed order: mark %q, changed at %v", o.Mark, o.ChangedAt)
	}

	// A detail page that failed keeps the stored instructions and detail-only custom fields.
	c := b
	c.Instructions, c.Custom, c.DetailMissing = "", b.Custom[:1], "the detail page answered HTTP 500"
	d = apply(t0.Add(2*time.Hour), c)
	if len(d.Changed) != 0 {
		t.Errorf("a failed detail page counted as a change: %+v", d)
	}
	if o := getOrder(t, db, "A"); o.Instructions != b.Instructions || len(o.Custom) != 2 || o.DetailMissing == "" {
		t.Errorf("after a failed detail page: instructions %q, custom %v, detail missing %q", o.Instructions, o.Custom, o.DetailMissing)
	}

	// Bounded: the newest OrderHistoryKeep entries stay.
	for i := range OrderHistoryKeep + 5 {
		x := b
		x.Customer = fmt.Sprintf("customer %d", i)
		apply(t0.Add(time.Duration(3+i)*time.Hour), x)
	}
	h, err = db.OrderHistory("A")
	if err != nil || len(h) != OrderHistoryKeep {
		t.Fatalf("history has %d entries (%v), want %d", len(h), err, OrderHistoryKeep)
	}
	if last := fmt.Sprintf("customer %d", OrderHistoryKeep+4); h[0].New != last || !strings.HasPrefix(h[len(h)-1].New, "customer ") {
		t.Errorf("history = newest %+v … oldest %+v; want the newest first and only customer changes left", h[0], h[len(h)-1])
	}
	if h, _ := db.OrderHistory("nope"); len(h) != 0 {
		t.Errorf("history of an unknown order: %v", h)
	}
}

func TestMarksStayUntilSeen(t *testing.T) {
	db := newDB(t)
	apply := func(at time.Time, orders ...scheduler.Order) {
		t.Helper()
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
		r.Status = scheduler.StatusSucceeded
		if _, _, err := db.FinishRun(r, orders, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := order("A", 1), order("B", 2), order("C", 3)
	apply(t0, a, b, c)
	// Still new after later scrapes that do not change them.
	apply(t0.Add(time.Hour), a, b, c)
	apply(t0.Add(2*time.Hour), a, b, c)
	for _, id := range []string{"A", "B", "C"} {
		if o := getOrder(t, db, id); o.Mark != scheduler.MarkNew {
			t.Errorf("%s: mark %q after two more scrapes, want new until seen", id, o.Mark)
		}
	}
	db.clock = clockwork.NewFakeClockAt(t0.Add(3 * time.Hour))
	n, err := db.MarkSeen("A")
	if err != nil || n != 1 {
		t.Fatalf("MarkSeen(A) = %d, %v", n, err)
	}
	if o := getOrder(t, db, "A"); o.Mark != scheduler.MarkNone || !o.SeenAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("A after MarkSeen: mark %q seen %v", o.Mark, o.SeenAt)
	}
	// An unknown id fails and writes nothing.
	before := dump(t, db)
	if _, err := db.MarkSeen("B", "nope"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("MarkSeen(B, nope) = %v, want ErrNotFound", err)
	}
	if d := diffDumps(before, dump(t, db)); len(d) > 0 {
		t.Errorf("a failed MarkSeen wrote: %v", d)
	}
	// A change marks a seen order changed; a new one still unseen stays new.
	a2, b2 := a, b
	a2.Customer, b2.Customer = "x", "y"
	apply(t0.Add(4*time.Hour), a2, b2, c)
	if o := getOrder(t, db, "A"); o.Mark != scheduler.MarkChanged {
		t.Errorf("A changed after being seen: mark %q, want changed", o.Mark)
	}
	if o := getOrder(t, db, "B"); o.Mark != scheduler.MarkNew {
		t.Errorf("B changed while still new: mark %q, want new", o.Mark)
	}
	n, err = db.MarkAllSeen()
	if err != nil || n != 3 {
		t.Fatalf("MarkAllSeen() = %d, %v; want 3 cleared", n, err)
	}
	all, _ := db.Orders(true)
	for _, o := range all {
		if o.Mark != scheduler.MarkNone {
			t.Errorf("%s: mark %q after MarkAllSeen", o.PortalID, o.Mark)
		}
	}
	if n, _ := db.MarkAllSeen(); n != 0 {
		t.Errorf("MarkAllSeen() again cleared %d", n)
	}
}

func TestOrderByNumber(t *testing.T) {
	db := newDB(t)
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if _, _, err := db.FinishRun(r, []scheduler.Order{order("A", 1), order("B", 2)}, t0, nil); err != nil {
		t.Fatal(err)
	}
	if o, err := db.OrderByNumber("w-000002"); err != nil || o.PortalID != "B" {
		t.Errorf("OrderByNumber(w-000002) = %s, %v", o.PortalID, err)
	}
	if _, err := db.OrderByNumber("W-9"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("OrderByNumber(W-9) = %v, want ErrNotFound", err)
	}
}

func TestMigrateFromV2KeepsOrdersUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worktray.db")
	// A version 2 order record, as version 2 wrote it (no mark, the old hash).
	v2 := order("A", 1)
	v2.Instructions = "Ring twice."
	v2.FirstSeen, v2.LastSeen, v2.ChangedAt = t0, t0, t0
	v2.Hash = oldContentHash(v2)
	v2JSON := fmt.Sprintf(`{"portal_id":"A","number":%q,"customer":%q,"store_number":%q,"site_name":%q,`+
		`"address":{"street":%q,"city":"Springfield","state":"IL","zip":"62701"},"service_code":"HVAC-PM",`+
		`"service_name":"Preventive maintenance","items":["filter 20x25","belt B42"],"visit_date":%q,"visit_url":%q,`+
		`"instructions":"Ring twice.","first_seen":"2025-03-10T14:30:00Z","last_seen":"2025-03-10T14:30:00Z",`+
		`"changed_at":"2025-03-10T14:30:00Z","hash":%q}`,
		v2.Number, v2.Customer, v2.StoreNumber, v2.SiteName, v2.Address.Street, v2.VisitDate, v2.VisitURL, v2.Hash)
	writeRawStore(t, path, 2, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOrderChanges) != nil {
			t.Error("a version 2 store already has the change history")
		}
		if err := tx.Bucket(bucketOrders).Put([]byte("A"), []byte(v2JSON)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketKV), keyOrdersScrapedAt, t0)
	})
	db := openTest(t, path, Options{})
	if v := schemaVersion(t, db); v != 3 || SchemaVersion != 3 {
		t.Fatalf("schema version = %d (SchemaVersion %d), want 3", v, SchemaVersion)
	}
	o := getOrder(t, db, "A")
	if o.Mark != scheduler.MarkNone || !o.FirstSeen.Equal(t0) || o.Hash != v2.Hash {
		t.Errorf("migrated order: %+v", o)
	}
	// The same order read again is unchanged: the upgrade marks nothing changed.
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	r.Status = scheduler.StatusSucceeded
	scraped := order("A", 1)
	scraped.Instructions = "Ring twice."
	_, diff, err := db.FinishRun(r, []scheduler.Order{scraped}, t0.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.New)+len(diff.Changed)+len(diff.Missing)+len(diff.Removed) != 0 {
		t.Errorf("first scrape after the migration: %+v; want nothing new or changed", diff)
	}
	// And the history of version 3 works.
	scraped.Customer = "Other"
	r = claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	r.Status = scheduler.StatusSucceeded
	if _, _, err := db.FinishRun(r, []scheduler.Order{scraped}, t0.Add(2*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if h, err := db.OrderHistory("A"); err != nil || len(h) != 1 || h[0].Field != "customer" {
		t.Errorf("history after the migration: %+v, %v", h, err)
	}
}
