package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// orderRecord is an order as the orders bucket keeps it.
type orderRecord struct {
	scheduler.Order
	// Unlisted is set on an active order that the latest applied read did not list (missing
	// from a complete read, or not reached by an incomplete one). Its stored LastSeen is then
	// its own; for the other active orders LastSeen is the latest read's instant (see
	// applyOrders).
	Unlisted bool `json:"unlisted,omitempty"`
}

// storedOrder is the part of a stored order the diff needs to decide whether to read the rest.
type storedOrder struct {
	FirstSeen     time.Time `json:"first_seen,omitzero"`
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	MissingSince  time.Time `json:"missing_since,omitzero"`
	Hash          string    `json:"hash"`
	DetailMissing string    `json:"detail_missing,omitempty"`
	DetailReadAt  time.Time `json:"detail_read_at,omitzero"`
	Unlisted      bool      `json:"unlisted,omitempty"`
}

// listRead says what kind of read of the work-order list a scrape made.
type listRead struct {
	// complete: the whole list was read (not scheduler.Run.Incomplete).
	complete bool
	// confirmed: the scrape read the whole list twice (scheduler.Run.ListReads ≥ 2) and its
	// orders are the union of both reads, so an order it lacks was lacking from two complete
	// reads.
	confirmed bool
}

// applyOrders applies a read of the work-order list to the orders bucket in tx and returns the
// diff.
//
//   - new: a portal id the store has never had: FirstSeen, LastSeen and ChangedAt are at and
//     Mark is "new" until the user has seen it (MarkSeen).
//   - changed: the ContentHash differs from the stored Hash: the content is replaced, each
//     changed field is added to the order's change history (see order_history.go), ChangedAt
//     is at and Mark becomes "changed" (an order still marked "new" stays "new").
//   - reappeared: an order the store had removed is listed again: RemovedAt is cleared, it
//     keeps its FirstSeen and its Mark, and it is not new (Diff.Reappeared, and Diff.Changed
//     too when its content changed).
//   - missing: an active order a complete read does not list gets MissingSince = at and stays
//     active (Diff.Missing). A read, complete or not, that lists it clears MissingSince.
//   - removed: an order already missing that the next complete read still lacks gets
//     RemovedAt = at (Diff.Removed); so does an active order that a confirmed read (two
//     complete reads in one scrape) lacks, at once. Removal is soft: no order is ever deleted.
//   - an incomplete read marks nothing missing and removes nothing.
//
// A listed order that is unchanged is not rewritten: an active order that the latest read
// listed has that read's instant as LastSeen, kept once under kv/orders_scraped_at and filled
// in when orders are read; an active order the latest read did not list is stored with its own
// LastSeen and the Unlisted flag. This keeps a scrape's transaction (and its fsync) small.
//
// When the scraper could not read an order's detail page (DetailMissing) and the order has no
// instructions or lacks custom fields the stored order has, those are kept from the stored
// order: a detail page that failed to load is not a change.
//
// The bookkeeping fields of the scraped orders are ignored (all but DetailMissing and
// DetailReadAt). An empty portal id, one with a NUL byte, or one listed twice is an error, and
// the caller rolls back.
func applyOrders(tx *bbolt.Tx, scraped []scheduler.Order, at time.Time, read listRead) (scheduler.Diff, error) {
	complete := read.complete
	diff := scheduler.Diff{Found: len(scraped), Incomplete: !complete}
	b, err := bucket(tx, bucketOrders)
	if err != nil {
		return diff, err
	}
	hist, err := bucket(tx, bucketOrderChanges)
	if err != nil {
		return diff, err
	}
	seen := make(map[string]struct{}, len(scraped))
	for i, o := range scraped {
		if o.PortalID == "" {
			return diff, fmt.Errorf("apply scrape: order %d (number %q) has no portal id", i+1, o.Number)
		}
		if strings.IndexByte(o.PortalID, 0) >= 0 {
			return diff, fmt.Errorf("apply scrape: order %d (number %q) has a NUL byte in its portal id", i+1, o.Number)
		}
		if _, dup := seen[o.PortalID]; dup {
			return diff, fmt.Errorf("apply scrape: portal id %q is listed twice", o.PortalID)
		}
		seen[o.PortalID] = struct{}{}
	}
	lastScrape, err := ordersScrapedAt(tx)
	if err != nil {
		return diff, err
	}

	stored := make(map[string]storedOrder, len(scraped))
	var unlisted [][]byte
	err = b.ForEach(func(k, v []byte) error {
		var o storedOrder
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("decode order %q: %w", k, err)
		}
		stored[string(k)] = o
		if o.RemovedAt.IsZero() {
			diff.Previous++
			if _, ok := seen[string(k)]; !ok {
				unlisted = append(unlisted, k)
			}
		}
		return nil
	})
	if err != nil {
		return diff, err
	}
	// Keys come sorted from ForEach, so Missing and Removed are sorted too.
	for _, k := range unlisted {
		prev := stored[string(k)]
		if !complete && prev.Unlisted {
			continue // nothing to record: its own LastSeen is already stored
		}
		rec, err := getRecord(b, k)
		if err != nil {
			return diff, err
		}
		if !rec.Unlisted && lastScrape.After(rec.LastSeen) {
			rec.LastSeen = lastScrape // the read before this one listed it
		}
		rec.Unlisted = true
		if complete {
			if rec.MissingSince.IsZero() && !read.confirmed {
				rec.MissingSince = at
				diff.Missing = append(diff.Missing, rec.PortalID)
			} else {
				if rec.MissingSince.IsZero() {
					rec.MissingSince = at // lacking from both reads of this scrape
				}
				rec.RemovedAt = at
				rec.Unlisted = false
				diff.Removed = append(diff.Removed, rec.PortalID)
				if err := appendChanges(hist, []scheduler.OrderChange{{PortalID: rec.PortalID, At: at,
					Field: FieldRemovedAt, New: at.Format(time.RFC3339)}}); err != nil {
					return diff, err
				}
			}
		}
		if err := putJSON(b, k, rec); err != nil {
			return diff, err
		}
	}

	for _, o := range scraped {
		prev, ok := stored[o.PortalID]
		o.FirstSeen, o.LastSeen, o.RemovedAt, o.MissingSince, o.ChangedAt = at, at, time.Time{}, time.Time{}, at
		o.Mark, o.SeenAt = scheduler.MarkNew, time.Time{}
		if !ok {
			o.Hash = o.ContentHash()
			diff.New = append(diff.New, o.PortalID)
			diff.NewNumbers = append(diff.NewNumbers, o.Number)
			diff.NewSites = append(diff.NewSites, o.SiteName)
			if err := putJSON(b, []byte(o.PortalID), orderRecord{Order: o}); err != nil {
				return diff, err
			}
			continue
		}
		var old orderRecord
		if o.DetailMissing != "" {
			if old, err = getRecord(b, []byte(o.PortalID)); err != nil {
				return diff, err
			}
			o = keepDetailFields(o, old.Order)
		}
		o.Hash = o.ContentHash()
		reappeared := !prev.RemovedAt.IsZero()
		changed := prev.Hash != o.Hash
		if !reappeared && !changed && !prev.Unlisted && prev.MissingSince.IsZero() &&
			prev.DetailMissing == o.DetailMissing && prev.DetailReadAt.Equal(o.DetailReadAt) {
			continue
		}
		if old.PortalID == "" {
			if old, err = getRecord(b, []byte(o.PortalID)); err != nil {
				return diff, err
			}
		}
		o.FirstSeen, o.ChangedAt, o.Mark, o.SeenAt = old.FirstSeen, old.ChangedAt, old.Mark, old.SeenAt
		var changes []scheduler.OrderChange
		if reappeared {
			diff.Reappeared = append(diff.Reappeared, o.PortalID)
			changes = append(changes, scheduler.OrderChange{PortalID: o.PortalID, At: at, Field: FieldRemovedAt,
				Old: prev.RemovedAt.UTC().Format(time.RFC3339)})
		}
		if changed {
			diff.Changed = append(diff.Changed, o.PortalID)
			o.ChangedAt = at
			if o.Mark != scheduler.MarkNew {
				o.Mark = scheduler.MarkChanged
			}
			changes = append(changes, FieldChanges(old.Order, o, at)...)
		}
		if err := appendChanges(hist, changes); err != nil {
			return diff, err
		}
		if err := putJSON(b, []byte(o.PortalID), orderRecord{Order: o}); err != nil {
			return diff, err
		}
	}
	slices.Sort(diff.New)
	slices.Sort(diff.Changed)
	slices.Sort(diff.Reappeared)
	kv, err := bucket(tx, bucketKV)
	if err != nil {
		return diff, err
	}
	return diff, putJSON(kv, keyOrdersScrapedAt, at)
}

// keepDetailFields fills what a failed detail page could not give o from the stored order: the
// instructions when o has none, and the stored custom fields o lacks.
func keepDetailFields(o, stored scheduler.Order) scheduler.Order {
	if o.Instructions == "" {
		o.Instructions = stored.Instructions
	}
	have := make(map[string]bool, len(o.Custom))
	for _, c := range o.Custom {
		have[c.Name] = true
	}
	var add []scheduler.CustomField
	for _, c := range stored.Custom {
		if !have[c.Name] {
			add = append(add, c)
		}
	}
	if len(add) > 0 {
		o.Custom = append(slices.Clone(o.Custom), add...)
	}
	return o
}

// getRecord reads and decodes the order record under k; a missing record is an error.
func getRecord(b *bbolt.Bucket, k []byte) (orderRecord, error) {
	var rec orderRecord
	ok, err := getJSON(b, k, &rec)
	if err == nil && !ok {
		err = fmt.Errorf("order %q: %w", k, scheduler.ErrNotFound)
	}
	return rec, err
}

// ordersScrapedAt returns the instant of the latest applied scrape, or zero.
func ordersScrapedAt(tx *bbolt.Tx) (time.Time, error) {
	var t time.Time
	kv, err := bucket(tx, bucketKV)
	if err != nil {
		return t, err
	}
	_, err = getJSON(kv, keyOrdersScrapedAt, &t)
	return t, err
}

// CompareVisit orders work orders by visit, soonest first: visit date, then visit time (an
// order with only a date first), then number, then portal id; an order with no visit date
// comes last. It is the default order of every list of orders (CLI, windows, calendar).
func CompareVisit(a, b scheduler.Order) int { return CompareVisitRef(&a, &b) }

// CompareVisitRef is CompareVisit over pointers, for sorting without copying orders.
func CompareVisitRef(a, b *scheduler.Order) int {
	if (a.VisitDate == "") != (b.VisitDate == "") {
		if a.VisitDate == "" {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.VisitDate, b.VisitDate), a.VisitAt.Compare(b.VisitAt),
		cmp.Compare(a.Number, b.Number), cmp.Compare(a.PortalID, b.PortalID))
}

// Orders returns the stored orders, soonest visit first (CompareVisit). Removed orders are
// included when includeRemoved is set. Safe for concurrent use.
func (db *DB) Orders(includeRemoved bool) ([]scheduler.Order, error) {
	var out []scheduler.Order
	err := db.eachOrder("read orders", func(o scheduler.Order) {
		if includeRemoved || o.RemovedAt.IsZero() {
			out = append(out, o)
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, CompareVisit)
	return out, nil
}

// ActiveOrders returns the stored orders that are not removed (missing ones included), by
// portal id. Safe for concurrent use.
func (db *DB) ActiveOrders() (map[string]scheduler.Order, error) {
	out := make(map[string]scheduler.Order)
	err := db.eachOrder("read active orders", func(o scheduler.Order) {
		if o.RemovedAt.IsZero() {
			out[o.PortalID] = o
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OrderCount returns the number of active (not removed) orders. Safe for concurrent use.
func (db *DB) OrderCount() (int, error) {
	n := 0
	err := db.view("count orders", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOrders)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var o struct {
				RemovedAt time.Time `json:"removed_at,omitzero"`
			}
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("decode order %q: %w", k, err)
			}
			if o.RemovedAt.IsZero() {
				n++
			}
			return nil
		})
	})
	return n, err
}

// Order returns the stored order with the given portal id, removed or not; the error wraps
// scheduler.ErrNotFound when there is none. Safe for concurrent use.
func (db *DB) Order(portalID string) (scheduler.Order, error) {
	var o scheduler.Order
	err := db.view("read order", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOrders)
		if err != nil {
			return err
		}
		rec, err := getRecord(b, []byte(portalID))
		if err != nil {
			return err
		}
		lastScrape, err := ordersScrapedAt(tx)
		o = withLastSeen(rec, lastScrape)
		return err
	})
	return o, err
}

// OrderByNumber returns the stored order whose work-order number is number (compared without
// regard to case), removed or not; an active order wins over a removed one with the same
// number. The error wraps scheduler.ErrNotFound when there is none. It reads every order. Safe
// for concurrent use.
func (db *DB) OrderByNumber(number string) (scheduler.Order, error) {
	var (
		found scheduler.Order
		ok    bool
	)
	err := db.eachOrder("find order", func(o scheduler.Order) {
		if strings.EqualFold(o.Number, number) && (!ok || !found.RemovedAt.IsZero() && o.RemovedAt.IsZero()) {
			found, ok = o, true
		}
	})
	if err == nil && !ok {
		err = fmt.Errorf("work order %q: %w", number, scheduler.ErrNotFound)
	}
	return found, err
}

// eachOrder calls fn with every stored order, LastSeen filled in.
func (db *DB) eachOrder(op string, fn func(scheduler.Order)) error {
	return db.view(op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOrders)
		if err != nil {
			return err
		}
		lastScrape, err := ordersScrapedAt(tx)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var rec orderRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode order %q: %w", k, err)
			}
			fn(withLastSeen(rec, lastScrape))
			return nil
		})
	})
}

// withLastSeen returns the order of a record, with the LastSeen of an active order that the
// latest applied scrape listed set to that scrape's instant.
func withLastSeen(rec orderRecord, lastScrape time.Time) scheduler.Order {
	o := rec.Order
	if o.RemovedAt.IsZero() && !rec.Unlisted && lastScrape.After(o.LastSeen) {
		o.LastSeen = lastScrape
	}
	return o
}
