package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// OrderHistoryKeep is how many change-history entries the store keeps per order; the oldest
// go first.
const OrderHistoryKeep = 30

// FieldRemovedAt is the field of the change-history entries that record an order's removal
// (Old "", New the removal instant in RFC 3339 UTC) and its reappearance (Old the removal
// instant, New ""). It is the JSON name of Order.RemovedAt, so no custom field can take it.
const FieldRemovedAt = "removed_at"

// storedChange is a change-history entry as stored: the portal id is in its key.
type storedChange struct {
	At    time.Time `json:"t"`
	Field string    `json:"f"`
	Old   string    `json:"o,omitempty"`
	New   string    `json:"n,omitempty"`
}

// orderChangeKey is the key of a change-history entry: the portal id, a NUL byte and the
// bucket's sequence number (8 bytes, big-endian), so an order's entries are adjacent and in
// the order they were written.
func orderChangeKey(portalID string, seq uint64) []byte {
	k := make([]byte, 0, len(portalID)+9)
	k = append(k, portalID...)
	k = append(k, 0)
	return append(k, u64key(seq)...)
}

func orderChangePrefix(portalID string) []byte { return append([]byte(portalID), 0) }

// appendChanges adds entries to the change history and drops the oldest of each order beyond
// OrderHistoryKeep.
func appendChanges(hist *bbolt.Bucket, changes []scheduler.OrderChange) error {
	// Entries go in at the end of each order's key range, in the middle of the bucket: split
	// pages nearly full, or the file holds mostly half-empty pages.
	hist.FillPercent = 0.95
	touched := map[string]bool{}
	for _, c := range changes {
		seq, err := hist.NextSequence()
		if err != nil {
			return err
		}
		if err := putJSON(hist, orderChangeKey(c.PortalID, seq), storedChange{At: c.At.UTC(), Field: c.Field, Old: c.Old, New: c.New}); err != nil {
			return err
		}
		touched[c.PortalID] = true
	}
	for id := range touched {
		if err := pruneChanges(hist, id, OrderHistoryKeep); err != nil {
			return err
		}
	}
	return nil
}

// pruneChanges deletes the oldest history entries of portalID beyond keep.
func pruneChanges(hist *bbolt.Bucket, portalID string, keep int) error {
	prefix := orderChangePrefix(portalID)
	var keys [][]byte
	c := hist.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys[:max(0, len(keys)-keep)] {
		if err := hist.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// OrderHistory returns the change history of the order with the given portal id, newest first
// (at most OrderHistoryKeep entries). An order without changes, or an unknown one, has an
// empty history. Safe for concurrent use.
func (db *DB) OrderHistory(portalID string) ([]scheduler.OrderChange, error) {
	var out []scheduler.OrderChange
	err := db.view("read order history", func(tx *bbolt.Tx) error {
		hist, err := bucket(tx, bucketOrderChanges)
		if err != nil {
			return err
		}
		prefix := orderChangePrefix(portalID)
		c := hist.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 {
				continue // another order whose id starts with this one and a NUL: impossible, ids have none
			}
			var ch storedChange
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("decode change %q: %w", k, err)
			}
			out = append(out, scheduler.OrderChange{PortalID: portalID, At: ch.At, Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// FieldChanges returns the fields whose value differs between old and new, as change-history
// entries at at: the built-in fields by their JSON names (the address as one line, items
// joined with "; ", visit_at in RFC 3339 UTC) and the custom fields by their names, a custom
// field present on one side only counting as a change from or to "". Bookkeeping fields (seen,
// marks, detail-page state) are not compared.
func FieldChanges(old, new scheduler.Order, at time.Time) []scheduler.OrderChange {
	at = at.UTC()
	var out []scheduler.OrderChange
	add := func(field, o, n string) {
		if o != n {
			out = append(out, scheduler.OrderChange{PortalID: new.PortalID, At: at, Field: field, Old: o, New: n})
		}
	}
	instant := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	add("number", old.Number, new.Number)
	add("customer", old.Customer, new.Customer)
	add("store_number", old.StoreNumber, new.StoreNumber)
	add("site_name", old.SiteName, new.SiteName)
	add("address", old.Address.String(), new.Address.String())
	add("service_code", old.ServiceCode, new.ServiceCode)
	add("service_name", old.ServiceName, new.ServiceName)
	add("items", strings.Join(old.Items, "; "), strings.Join(new.Items, "; "))
	add("visit_date", old.VisitDate, new.VisitDate)
	add("visit_at", instant(old.VisitAt), instant(new.VisitAt))
	add("visit_url", old.VisitURL, new.VisitURL)
	add("instructions", old.Instructions, new.Instructions)

	oldCustom := make(map[string]string, len(old.Custom))
	for _, c := range old.Custom {
		oldCustom[c.Name] = customValue(c)
	}
	newNames := make(map[string]bool, len(new.Custom))
	for _, c := range new.Custom {
		newNames[c.Name] = true
		add(c.Name, oldCustom[c.Name], customValue(c))
	}
	for _, c := range old.Custom {
		if !newNames[c.Name] {
			add(c.Name, customValue(c), "")
		}
	}
	return out
}

// customValue is a custom field's value as the history shows it.
func customValue(c scheduler.CustomField) string {
	if c.Type == scheduler.FieldList && len(c.Items) > 0 {
		return strings.Join(c.Items, ", ")
	}
	return c.Value
}
