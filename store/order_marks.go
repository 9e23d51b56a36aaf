package store

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// MarkSeen records that the user has seen the orders with the given portal ids: their Mark
// ("new" or "changed") is cleared and SeenAt set to now (the store's clock, UTC). It returns how
// many marks it cleared. An unknown portal id is an error wrapping scheduler.ErrNotFound and
// nothing is written. Removed orders may be marked seen too. One transaction; safe for
// concurrent use.
func (db *DB) MarkSeen(portalIDs ...string) (int, error) {
	now := db.clock.Now().UTC()
	cleared := 0
	err := db.update("mark orders seen", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOrders)
		if err != nil {
			return err
		}
		for _, id := range portalIDs {
			rec, err := getRecord(b, []byte(id))
			if err != nil {
				return err
			}
			if rec.Mark != scheduler.MarkNone {
				cleared++
			}
			rec.Mark, rec.SeenAt = scheduler.MarkNone, now
			if err := putJSON(b, []byte(id), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return cleared, nil
}

// MarkAllSeen clears the Mark of every order that has one ("Mark all seen") and sets their
// SeenAt to now; it returns how many it cleared. One transaction; safe for concurrent use.
func (db *DB) MarkAllSeen() (int, error) {
	now := db.clock.Now().UTC()
	cleared := 0
	err := db.update("mark all orders seen", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOrders)
		if err != nil {
			return err
		}
		var marked [][]byte
		err = b.ForEach(func(k, v []byte) error {
			var m struct {
				Mark scheduler.OrderMark `json:"mark,omitempty"`
			}
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode order %q: %w", k, err)
			}
			if m.Mark != scheduler.MarkNone {
				marked = append(marked, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range marked {
			rec, err := getRecord(b, k)
			if err != nil {
				return err
			}
			rec.Mark, rec.SeenAt = scheduler.MarkNone, now
			if err := putJSON(b, k, rec); err != nil {
				return err
			}
			cleared++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return cleared, nil
}
