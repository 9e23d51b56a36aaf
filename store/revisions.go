package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// This file keeps the settings' revisions. Each setting (the schedule and each PutSetting key:
// "portal", "alerts", "retention", …) has a revision: the number of times it was written since
// revisions were kept, 0 for one never written. Every write (SaveSchedule, PutSetting,
// SaveRetention and their …At forms) increases it by one in the same transaction as the value,
// so a value and its revision change together or not at all. A client reads a setting with its
// revision and writes it back with the …At forms: a write based on an older revision is refused
// with a *StaleRevisionError and changes nothing, so concurrent editors cannot silently
// overwrite each other.

// ScheduleKey names the schedule among the settings, for Revision.
const ScheduleKey = "schedule"

// keyRevisions (in bucketKV) holds the JSON map from setting key to revision.
var keyRevisions = []byte("settings_revisions")

// ErrStaleRevision means a settings write was based on a revision that is no longer current:
// someone else saved the setting since it was read. Nothing was written. The error is a
// *StaleRevisionError.
var ErrStaleRevision = errors.New("the setting was changed since it was read")

// StaleRevisionError refuses a settings write based on an old revision. It matches
// ErrStaleRevision.
type StaleRevisionError struct {
	Setting string // the setting's key: "schedule", "portal", "alerts", "retention"
	Based   uint64 // the revision the write was based on
	Current uint64 // the setting's revision in the store
}

func (e *StaleRevisionError) Error() string {
	return fmt.Sprintf("the %s settings were saved by someone else since they were read (revision %d, now %d); read them again and redo the change",
		e.Setting, e.Based, e.Current)
}

// Is reports whether target is ErrStaleRevision.
func (e *StaleRevisionError) Is(target error) bool { return target == ErrStaleRevision }

func loadRevisions(tx *bbolt.Tx) (map[string]uint64, error) {
	b, err := bucket(tx, bucketKV)
	if err != nil {
		return nil, err
	}
	revs := map[string]uint64{}
	if _, err := getJSON(b, keyRevisions, &revs); err != nil {
		return nil, err
	}
	return revs, nil
}

// bumpRevision increases the revision of setting key by one inside tx and returns the new one.
func bumpRevision(tx *bbolt.Tx, key string) (uint64, error) {
	revs, err := loadRevisions(tx)
	if err != nil {
		return 0, err
	}
	revs[key]++
	b, err := bucket(tx, bucketKV)
	if err != nil {
		return 0, err
	}
	return revs[key], putJSON(b, keyRevisions, revs)
}

// revisionIn returns the revision of setting key inside tx.
func revisionIn(tx *bbolt.Tx, key string) (uint64, error) {
	revs, err := loadRevisions(tx)
	return revs[key], err
}

// checkRevision returns a *StaleRevisionError when setting key is not at revision based.
func checkRevision(tx *bbolt.Tx, key string, based uint64) error {
	revs, err := loadRevisions(tx)
	if err != nil {
		return err
	}
	if cur := revs[key]; cur != based {
		return &StaleRevisionError{Setting: key, Based: based, Current: cur}
	}
	return nil
}

// Revision returns the revision of setting key ("schedule", "portal", "alerts", "retention"):
// 0 when it was never written. Safe for concurrent use.
func (db *DB) Revision(key string) (uint64, error) {
	var rev uint64
	err := db.view(fmt.Sprintf("read the revision of %q", key), func(tx *bbolt.Tx) error {
		revs, err := loadRevisions(tx)
		rev = revs[key]
		return err
	})
	return rev, err
}

// SaveScheduleRev validates s and saves it if the schedule is still at revision based, and
// returns its new revision; like SaveScheduleAt at the store's clock's now, it settles the
// account of the schedule it replaces. An invalid schedule is refused with its
// scheduler.ValidationError, a stale revision with a *StaleRevisionError; either way nothing is
// written. Safe for concurrent use.
func (db *DB) SaveScheduleRev(based uint64, s scheduler.Schedule) (uint64, error) {
	now := db.clock.Now()
	if err := s.ValidateAt(now); err != nil {
		return 0, db.wrap("save schedule", err)
	}
	now = utc(now)
	var rev uint64
	err := db.update("save schedule", func(tx *bbolt.Tx) error {
		if err := checkRevision(tx, string(keySchedule), based); err != nil {
			return err
		}
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		if err := saveSchedule(tx, b, s, now); err != nil {
			return err
		}
		rev, err = revisionIn(tx, string(keySchedule))
		return err
	})
	return rev, err
}

// PutSettingAt is PutSetting if setting key is still at revision based: it saves v as JSON and
// returns the new revision, or refuses a stale revision with a *StaleRevisionError and writes
// nothing. The caller validates v. Safe for concurrent use.
func (db *DB) PutSettingAt(key string, based uint64, v any) (uint64, error) {
	op := fmt.Sprintf("save setting %q", key)
	if key == "" {
		return 0, db.wrap(op, errors.New("the key is empty"))
	}
	if key == string(keySchedule) {
		return 0, db.wrap(op, errReservedSetting)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return 0, db.wrap(op, err)
	}
	var rev uint64
	err = db.update(op, func(tx *bbolt.Tx) error {
		if err := checkRevision(tx, key, based); err != nil {
			return err
		}
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(key), data); err != nil {
			return err
		}
		rev, err = bumpRevision(tx, key)
		return err
	})
	return rev, err
}

// SaveRetentionAt validates r and saves it if the retention is still at revision based, and
// returns its new revision; see SaveRetention and PutSettingAt. Safe for concurrent use.
func (db *DB) SaveRetentionAt(based uint64, r Retention) (uint64, error) {
	if err := r.Validate(); err != nil {
		return 0, db.wrap("save retention", err)
	}
	return db.PutSettingAt(RetentionKey, based, r)
}
