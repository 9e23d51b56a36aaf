package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// storedOrder is the part of a stored order the diff needs.
type storedOrder struct {
	FirstSeen time.Time `json:"first_seen,omitzero"`
	RemovedAt time.Time `json:"removed_at,omitzero"`
	Hash      string    `json:"hash"`
	// The scraper's bookkeeping of the detail page, kept even when nothing else changed.
	DetailReadAt  time.Time `json:"detail_read_at,omitzero"`
	DetailMissing string    `json:"detail_missing,omitempty"`
}

// applyOrders applies a complete scrape to the orders bucket in tx and returns the diff:
//   - new: a portal id the store does not have, or one it marked removed (a reappearance):
//     FirstSeen, LastSeen and ChangedAt are at, RemovedAt is cleared;
//   - changed: the ContentHash differs from the stored Hash: the content is replaced,
//     FirstSeen is kept, LastSeen and ChangedAt are at;
//   - unchanged: the record is not rewritten (see below);
//   - removed: an active stored order the scrape does not list gets RemovedAt = at and keeps
//     the LastSeen of the scrape before. Removal is soft: no order is ever deleted.
//
// An active order is by definition in the latest applied scrape, so its LastSeen is that
// scrape's instant, kept once under kv/orders_scraped_at and filled in when orders are read.
// Not rewriting unchanged orders keeps a scrape's transaction (and its fsync) small.
//
// The bookkeeping fields of the scraped orders are ignored. An empty portal id or a portal id
// listed twice is an error, and the caller rolls back.
func applyOrders(tx *bbolt.Tx, scraped []scheduler.Order, at time.Time) (scheduler.Diff, error) {
	diff := scheduler.Diff{Found: len(scraped)}
	b, err := bucket(tx, bucketOrders)
	if err != nil {
		return diff, err
	}
	seen := make(map[string]struct{}, len(scraped))
	for i, o := range scraped {
		if o.PortalID == "" {
			return diff, fmt.Errorf("apply scrape: order %d (number %q) has no portal id", i+1, o.Number)
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
	var removed [][]byte
	err = b.ForEach(func(k, v []byte) error {
		var o storedOrder
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("decode order %q: %w", k, err)
		}
		stored[string(k)] = o
		if o.RemovedAt.IsZero() {
			diff.Previous++
			if _, ok := seen[string(k)]; !ok {
				removed = append(removed, k)
			}
		}
		return nil
	})
	if err != nil {
		return diff, err
	}
	// Keys come sorted from ForEach, so Removed is sorted too.
	for _, k := range removed {
		var o scheduler.Order
		if _, err := getJSON(b, k, &o); err != nil {
			return diff, err
		}
		if !lastScrape.IsZero() {
			o.LastSeen = lastScrape
		}
		o.RemovedAt = at
		if err := putJSON(b, k, o); err != nil {
			return diff, err
		}
		diff.Removed = append(diff.Removed, o.PortalID)
	}

	for _, o := range scraped {
		o.FirstSeen, o.LastSeen, o.RemovedAt, o.ChangedAt = at, at, time.Time{}, at
		o.Hash = o.ContentHash()
		prev, ok := stored[o.PortalID]
		switch {
		case !ok || !prev.RemovedAt.IsZero():
			diff.New = append(diff.New, o.PortalID)
			diff.NewNumbers = append(diff.NewNumbers, o.Number)
		case prev.Hash != o.Hash:
			o.FirstSeen = prev.FirstSeen
			diff.Changed = append(diff.Changed, o.PortalID)
		case !prev.DetailReadAt.Equal(o.DetailReadAt) || prev.DetailMissing != o.DetailMissing:
			// The same content, read again (or not): the scraper's bookkeeping of the detail
			// page is kept, which is no change of the order.
			if err := updateDetailState(b, o); err != nil {
				return diff, err
			}
			continue
		default:
			continue
		}
		if err := putJSON(b, []byte(o.PortalID), o); err != nil {
			return diff, err
		}
	}
	slices.Sort(diff.New)
	slices.Sort(diff.Changed)
	kv, err := bucket(tx, bucketKV)
	if err != nil {
		return diff, err
	}
	return diff, putJSON(kv, keyOrdersScrapedAt, at)
}

// updateDetailState writes o's DetailReadAt and DetailMissing into its stored record, leaving
// everything else as it was.
func updateDetailState(b *bbolt.Bucket, o scheduler.Order) error {
	var cur scheduler.Order
	if _, err := getJSON(b, []byte(o.PortalID), &cur); err != nil {
		return err
	}
	cur.DetailReadAt, cur.DetailMissing = o.DetailReadAt.UTC(), o.DetailMissing
	return putJSON(b, []byte(o.PortalID), cur)
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

// Orders returns the stored orders, sorted by visit date, then number, then portal id. Removed
// orders are included when includeRemoved is set. Safe for concurrent use.
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
	slices.SortFunc(out, func(a, b scheduler.Order) int {
		return cmp.Or(cmp.Compare(a.VisitDate, b.VisitDate), cmp.Compare(a.Number, b.Number), cmp.Compare(a.PortalID, b.PortalID))
	})
	return out, nil
}

// ActiveOrders returns the stored orders that are not removed, by portal id. Safe for
// concurrent use.
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
		ok, err := getJSON(b, []byte(portalID), &o)
		if err == nil && !ok {
			err = fmt.Errorf("order %q: %w", portalID, scheduler.ErrNotFound)
		}
		if err != nil {
			return err
		}
		lastScrape, err := ordersScrapedAt(tx)
		o = withLastSeen(o, lastScrape)
		return err
	})
	return o, err
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
			var o scheduler.Order
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("decode order %q: %w", k, err)
			}
			fn(withLastSeen(o, lastScrape))
			return nil
		})
	})
}

// withLastSeen sets the LastSeen of an active order to the latest applied scrape.
func withLastSeen(o scheduler.Order, lastScrape time.Time) scheduler.Order {
	if o.RemovedAt.IsZero() && lastScrape.After(o.LastSeen) {
		o.LastSeen = lastScrape
	}
	return o
}
