package store

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// SentKeep is how many delivered alerts the sent record keeps, so that "never sent twice" can
// be audited.
const SentKeep = 500

// SentAlert is a delivered alert as the sent record keeps it.
type SentAlert struct {
	scheduler.Alert
	Sent time.Time `json:"sent"`
}

// appendAlerts gives each alert the next outbox id (and Created = at when unset) and appends
// it to the outbox.
func appendAlerts(tx *bbolt.Tx, alerts []scheduler.Alert, at time.Time) ([]scheduler.Alert, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	b, err := bucket(tx, bucketOutbox)
	if err != nil {
		return nil, err
	}
	b.FillPercent = appendFill
	out := make([]scheduler.Alert, len(alerts))
	for i, a := range alerts {
		if a.ID, err = b.NextSequence(); err != nil {
			return nil, err
		}
		if a.Created.IsZero() {
			a.Created = at
		}
		a.Created, a.NextTry = utc(a.Created), utc(a.NextTry)
		if err := putJSON(b, u64key(a.ID), a); err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// EnqueueAlerts appends alerts to the outbox in one transaction; each gets the next outbox id
// and Created defaults to the store clock's now. Safe for concurrent use.
func (db *DB) EnqueueAlerts(alerts []scheduler.Alert) error {
	_, err := db.AppendAlerts(alerts)
	return err
}

// AppendAlerts is EnqueueAlerts that also returns the alerts as stored, with their ids. Safe
// for concurrent use.
func (db *DB) AppendAlerts(alerts []scheduler.Alert) ([]scheduler.Alert, error) {
	var out []scheduler.Alert
	now := db.clock.Now().UTC()
	err := db.update("enqueue alerts", func(tx *bbolt.Tx) (err error) {
		out, err = appendAlerts(tx, alerts, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PendingAlerts returns up to limit undelivered alerts (all when limit ≤ 0), oldest first.
// Safe for concurrent use.
func (db *DB) PendingAlerts(limit int) ([]scheduler.Alert, error) {
	var out []scheduler.Alert
	err := db.view("read outbox", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var a scheduler.Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode alert %d: %w", keyU64(k), err)
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// UpdateAlert rewrites an alert still in the outbox (its delivery bookkeeping); the error wraps
// scheduler.ErrNotFound when it is no longer there. Safe for concurrent use.
func (db *DB) UpdateAlert(a scheduler.Alert) error {
	return db.update(fmt.Sprintf("update alert %d", a.ID), func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		if b.Get(u64key(a.ID)) == nil {
			return fmt.Errorf("alert %d: %w", a.ID, scheduler.ErrNotFound)
		}
		a.Created, a.NextTry = utc(a.Created), utc(a.NextTry)
		return putJSON(b, u64key(a.ID), a)
	})
}

// AckAlert records that alert id was delivered at at: it leaves the outbox and joins the sent
// record, which keeps the last SentKeep. The error wraps scheduler.ErrNotFound when the alert
// is not in the outbox (for instance, already acknowledged), so a caller can tell a second
// delivery from the first. Safe for concurrent use.
func (db *DB) AckAlert(id uint64, at time.Time) error {
	return db.update(fmt.Sprintf("acknowledge alert %d", id), func(tx *bbolt.Tx) error {
		outbox, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		sent, err := bucket(tx, bucketSent)
		if err != nil {
			return err
		}
		sent.FillPercent = appendFill
		k := u64key(id)
		v := outbox.Get(k)
		if v == nil {
			return fmt.Errorf("alert %d: %w", id, scheduler.ErrNotFound)
		}
		var a scheduler.Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("decode alert %d: %w", id, err)
		}
		if err := outbox.Delete(k); err != nil {
			return err
		}
		if err := putJSON(sent, k, SentAlert{Alert: a, Sent: utc(at)}); err != nil {
			return err
		}
		// Keep the newest SentKeep entries.
		c := sent.Cursor()
		var old [][]byte
		n := 0
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if n++; n > SentKeep {
				old = append(old, append([]byte{}, k...))
			}
		}
		for _, k := range old {
			if err := sent.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAlert drops an undelivered alert from the outbox without recording it as sent (for
// an alert that can never be delivered). The error wraps scheduler.ErrNotFound when it is not
// there. Safe for concurrent use.
func (db *DB) DeleteAlert(id uint64) error {
	return db.update(fmt.Sprintf("delete alert %d", id), func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		if b.Get(u64key(id)) == nil {
			return fmt.Errorf("alert %d: %w", id, scheduler.ErrNotFound)
		}
		return b.Delete(u64key(id))
	})
}

// SentAlerts returns up to limit delivered alerts (all kept when limit ≤ 0), newest first.
// Safe for concurrent use.
func (db *DB) SentAlerts(limit int) ([]SentAlert, error) {
	var out []SentAlert
	err := db.view("read sent alerts", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSent)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var a SentAlert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode sent alert %d: %w", keyU64(k), err)
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
