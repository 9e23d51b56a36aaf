package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// migration upgrades the schema by one version inside the open transaction.
type migration struct {
	name  string
	apply func(tx *bbolt.Tx) error
}

// SchemaVersion is the schema version this binary writes and reads. Raise it together with a
// new entry in migrations.
const SchemaVersion = 3

// migrations is the ordered list of schema upgrades: migrations[i] takes a store from version
// i to version i+1. Version 0 is an empty file. Append only; never edit a released step.
var migrations = [SchemaVersion]migration{
	{name: "create the base buckets", apply: migrateBase},
	{name: "add the slot and running indexes and the alert outbox", apply: migrateIndexesOutbox},
	{name: "add the orders' change history", apply: migrateOrderChanges},
}

// errForeign means a bbolt file has buckets but no worktray schema.
var errForeign = errors.New("the bbolt file has no worktray schema version")

// readVersion returns the schema version of the file: 0 for a file without any bucket.
func readVersion(tx *bbolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var found bool
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { found = true; return errors.New("stop") })
		if found {
			return 0, errForeign
		}
		return 0, nil
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return 0, fmt.Errorf("%w (meta/schema_version is %d bytes)", errForeign, len(v))
	}
	return int(keyU64(v)), nil
}

// migrate upgrades the file to version target, one step at a time, in tx.
func migrate(tx *bbolt.Tx, path string, target int) error {
	v, err := readVersion(tx)
	if err != nil {
		return err
	}
	if v > SchemaVersion {
		return newerError(path, v)
	}
	for ; v < target; v++ {
		if err := migrations[v].apply(tx); err != nil {
			return fmt.Errorf("migrate store %s from schema version %d to %d (%s): %w", path, v, v+1, migrations[v].name, err)
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchemaVersion, u64key(uint64(v+1))); err != nil {
			return err
		}
	}
	return nil
}

// migrateBase (0 → 1) creates the buckets of the first release.
func migrateBase(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketSettings, bucketRuns, bucketOrders, bucketState, bucketKV} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrateIndexesOutbox (1 → 2) adds the slot index and the index of running runs, filled from
// the stored runs, and the alert outbox with its record of sent alerts.
func migrateIndexesOutbox(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketSlots, bucketRunning, bucketOutbox, bucketSent} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	slots, running := tx.Bucket(bucketSlots), tx.Bucket(bucketRunning)
	return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		var r scheduler.Run
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode run %d: %w", keyU64(k), err)
		}
		for _, s := range claimedSlots(r) {
			// The oldest run keeps a slot that two runs name.
			if slots.Get(slotKey(s)) == nil {
				if err := slots.Put(slotKey(s), k); err != nil {
					return err
				}
			}
		}
		if r.Status == scheduler.StatusRunning {
			return running.Put(k, present)
		}
		return nil
	})
}

// migrateOrderChanges (2 → 3) adds the orders' change history. Stored orders need no rewrite:
// an order without a mark counts as seen, one without MissingSince as listed, and the content
// hash of an order without custom fields or visit time is what version 2 stored.
func migrateOrderChanges(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketOrderChanges); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketOrderChanges, err)
	}
	return nil
}
