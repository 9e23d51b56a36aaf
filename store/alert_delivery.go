package store

import (
	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// keyAlertDelivery is the kv key of the notifier's scheduler.AlertDelivery.
var keyAlertDelivery = []byte("alert_delivery")

// AlertDelivery returns the alert delivery state the notifier last saved, or the zero value
// (Remaining -1) when it never saved one. Safe for concurrent use.
func (db *DB) AlertDelivery() (scheduler.AlertDelivery, error) {
	d := scheduler.AlertDelivery{Remaining: -1}
	err := db.view("read alert delivery", func(tx *bbolt.Tx) error {
		kv, err := bucket(tx, bucketKV)
		if err != nil {
			return err
		}
		_, err = getJSON(kv, keyAlertDelivery, &d)
		return err
	})
	return d, err
}

// SaveAlertDelivery saves the notifier's alert delivery state. Safe for concurrent use.
func (db *DB) SaveAlertDelivery(d scheduler.AlertDelivery) error {
	return db.update("save alert delivery", func(tx *bbolt.Tx) error {
		kv, err := bucket(tx, bucketKV)
		if err != nil {
			return err
		}
		return putJSON(kv, keyAlertDelivery, d)
	})
}
