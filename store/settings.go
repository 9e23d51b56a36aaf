package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// Schedule returns the saved schedule, validated (so its zone is loaded and Next works). The
// error wraps scheduler.ErrNotFound when no schedule was ever saved; the caller then uses its
// default. A stored schedule that no longer validates (say, a zone the system dropped) is
// returned together with its ValidationError. Safe for concurrent use.
func (db *DB) Schedule() (scheduler.Schedule, error) {
	var s scheduler.Schedule
	err := db.view("read schedule", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		ok, err := getJSON(b, keySchedule, &s)
		if err == nil && !ok {
			err = fmt.Errorf("schedule: %w", scheduler.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return scheduler.Schedule{}, err
	}
	if err := s.Validate(); err != nil {
		return s, db.wrap("read schedule: the saved schedule is invalid", err)
	}
	return s, nil
}

// SaveSchedule is SaveScheduleAt at the store's clock's now. The command line uses it to change
// the schedule while no owner runs.
func (db *DB) SaveSchedule(s scheduler.Schedule) error {
	return db.SaveScheduleAt(s, db.clock.Now())
}

// maxOwed bounds State.Owed; the oldest slots are dropped past it (they are long past any grace
// period, and one missed record stands for them all).
const maxOwed = 10_000

// SaveScheduleAt validates s (at now) and saves it; an invalid schedule is refused with its
// scheduler.ValidationError (use errors.As) and nothing is written.
//
// In the same transaction it settles the account of the schedule it replaces, so that slots
// are never dropped nor invented by a change, also while no owner runs:
//   - the old schedule, if it was enabled and the scheduler is not paused, still owes its
//     slots after State.Cursor up to now that nobody dealt with: they join State.Owed (the
//     scheduler runs or records each);
//   - the cursor moves to now: the new schedule owes nothing before now, and enabling a
//     disabled schedule owes nothing from the time it was disabled.
//
// Safe for concurrent use.
func (db *DB) SaveScheduleAt(s scheduler.Schedule, now time.Time) error {
	if err := s.ValidateAt(now); err != nil {
		return db.wrap("save schedule", err)
	}
	now = utc(now)
	return db.update("save schedule", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		return saveSchedule(tx, b, s, now)
	})
}

// saveSchedule writes s in tx, settles the account of the schedule it replaces (see
// SaveScheduleAt) and bumps the schedule's revision (revisions.go).
func saveSchedule(tx *bbolt.Tx, b *bbolt.Bucket, s scheduler.Schedule, now time.Time) error {
	var old scheduler.Schedule
	found, err := getJSON(b, keySchedule, &old)
	if err != nil {
		return err
	}
	if err := putJSON(b, keySchedule, s); err != nil {
		return err
	}
	if _, err := bumpRevision(tx, string(keySchedule)); err != nil {
		return err
	}
	if !found {
		return nil
	}
	st, err := loadState(tx)
	if err != nil {
		return err
	}
	// A stored schedule that no longer validates (a zone the system dropped) owes nothing.
	if old.Enabled && !st.Paused && !st.Cursor.IsZero() && old.Validate() == nil {
		for _, t := range old.SlotsBetween(st.Cursor, now, maxOwed) {
			if !slices.ContainsFunc(st.Owed, t.Equal) {
				st.Owed = append(st.Owed, t)
			}
		}
		slices.SortFunc(st.Owed, time.Time.Compare)
		if len(st.Owed) > maxOwed {
			st.Owed = st.Owed[len(st.Owed)-maxOwed:]
		}
	}
	if st.Cursor.Before(now) {
		st.Cursor = now
	}
	return saveState(tx, st)
}

// Setting decodes the JSON setting key into v and reports whether it exists. It is for the
// settings other packages define (portal, alerts, general). Safe for concurrent use.
func (db *DB) Setting(key string, v any) (bool, error) {
	var ok bool
	err := db.view(fmt.Sprintf("read setting %q", key), func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		ok, err = getJSON(b, []byte(key), v)
		return err
	})
	return ok, err
}

// errReservedSetting refuses PutSetting for a setting with its own validated method.
var errReservedSetting = errors.New("this setting has its own method (SaveSchedule)")

// PutSetting saves v as JSON under key. The caller validates v; "schedule" is refused (use
// SaveSchedule, which validates). Safe for concurrent use.
func (db *DB) PutSetting(key string, v any) error {
	op := fmt.Sprintf("save setting %q", key)
	if key == "" {
		return db.wrap(op, errors.New("the key is empty"))
	}
	if key == string(keySchedule) {
		return db.wrap(op, errReservedSetting)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return db.wrap(op, err)
	}
	return db.update(op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(key), data); err != nil {
			return err
		}
		_, err = bumpRevision(tx, key) // revisions.go
		return err
	})
}

func loadState(tx *bbolt.Tx) (scheduler.State, error) {
	var st scheduler.State
	b, err := bucket(tx, bucketState)
	if err != nil {
		return st, err
	}
	_, err = getJSON(b, keyState, &st)
	return st, err
}

func saveState(tx *bbolt.Tx, st scheduler.State) error {
	b, err := bucket(tx, bucketState)
	if err != nil {
		return err
	}
	st.FailingSince, st.Cursor, st.LastFailureAlert = utc(st.FailingSince), utc(st.Cursor), utc(st.LastFailureAlert)
	st.Owed = utcAll(st.Owed)
	if st.Retry != nil {
		r := *st.Retry
		r.Slot, r.At, r.NextSlot = utc(r.Slot), utc(r.At), utc(r.NextSlot)
		st.Retry = &r
	}
	return putJSON(b, keyState, st)
}

// State returns the scheduler's saved state, or the zero State when none was saved. Safe for
// concurrent use.
func (db *DB) State() (scheduler.State, error) {
	var st scheduler.State
	err := db.view("read state", func(tx *bbolt.Tx) (err error) {
		st, err = loadState(tx)
		return err
	})
	return st, err
}

// UpdateState runs fn on the saved state and saves the result, in one transaction; when fn
// returns an error (or panics) nothing is saved and the error is returned. fn runs inside the
// write transaction and must not call the store. Safe for concurrent use.
func (db *DB) UpdateState(fn func(*scheduler.State) error) (scheduler.State, error) {
	var st scheduler.State
	err := db.update("update state", func(tx *bbolt.Tx) error {
		var err error
		if st, err = loadState(tx); err != nil {
			return err
		}
		if err := guardAs(errCallbackPanic, func() error { return fn(&st) }); err != nil {
			return err
		}
		return saveState(tx, st)
	})
	if err != nil {
		return scheduler.State{}, err
	}
	return st, nil
}

// UpdateStateAndEnqueue runs fn on the current state, saves the result and appends the alerts fn
// returns to the outbox, all in one transaction: a reminder and the state that remembers it are
// written together or not at all. Safe for concurrent use.
func (db *DB) UpdateStateAndEnqueue(fn func(*scheduler.State) []scheduler.Alert) (scheduler.State, error) {
	var st scheduler.State
	err := db.update("update state and enqueue alerts", func(tx *bbolt.Tx) error {
		var err error
		if st, err = loadState(tx); err != nil {
			return err
		}
		var alerts []scheduler.Alert
		if err := guardAs(errCallbackPanic, func() error { alerts = fn(&st); return nil }); err != nil {
			return err
		}
		if _, err := appendAlerts(tx, alerts, db.clock.Now()); err != nil {
			return err
		}
		return saveState(tx, st)
	})
	if err != nil {
		return scheduler.State{}, err
	}
	return st, nil
}

// LoadCookies returns the portal session cookies SaveCookies kept, or nil when there are none.
// Safe for concurrent use.
func (db *DB) LoadCookies() ([]byte, error) {
	var out []byte
	err := db.view("read cookies", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketKV)
		if err != nil {
			return err
		}
		if v := b.Get(keyCookies); v != nil {
			out = append([]byte{}, v...)
		}
		return nil
	})
	return out, err
}

// SaveCookies keeps the portal session cookies (an opaque blob) for the next run; an empty
// blob deletes them. Safe for concurrent use.
func (db *DB) SaveCookies(data []byte) error {
	return db.update("save cookies", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketKV)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return b.Delete(keyCookies)
		}
		return b.Put(keyCookies, data)
	})
}
