package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// appendFill is the page fill of buckets whose keys only grow (ids, instants): pages split
// nearly full instead of half full, which keeps the file small.
const appendFill = 0.9

// present is the value of an index entry that only needs its key.
var present = []byte{1}

// runBuckets returns the buckets a run write touches.
func runBuckets(tx *bbolt.Tx) (runs, slots, running *bbolt.Bucket, err error) {
	if runs, err = bucket(tx, bucketRuns); err != nil {
		return
	}
	if slots, err = bucket(tx, bucketSlots); err != nil {
		return
	}
	if running, err = bucket(tx, bucketRunning); err != nil {
		return
	}
	runs.FillPercent, slots.FillPercent, running.FillPercent = appendFill, appendFill, appendFill
	return
}

// claimedSlots returns the slots a run claims: every missed slot of a missed record, or the
// slot and the covered slots of a first attempt. Retries (Attempt > 1) and manual runs claim
// nothing.
func claimedSlots(r scheduler.Run) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		if !t.IsZero() && !slices.ContainsFunc(out, t.Equal) {
			out = append(out, t)
		}
	}
	if r.Status == scheduler.StatusMissed {
		for _, t := range r.MissedSlots {
			add(t)
		}
		add(r.Slot)
		return out
	}
	if r.Attempt <= 1 {
		add(r.Slot)
		for _, t := range r.CoveredSlots {
			add(t)
		}
	}
	return out
}

// normalizeRun stores every instant of a run in UTC, without a monotonic reading.
func normalizeRun(r scheduler.Run) scheduler.Run {
	r.Slot, r.Started, r.Finished = utc(r.Slot), utc(r.Started), utc(r.Finished)
	r.MissedSlots, r.CoveredSlots = utcAll(r.MissedSlots), utcAll(r.CoveredSlots)
	return r
}

// utcAll returns a copy of ts in UTC (nil stays nil).
func utcAll(ts []time.Time) []time.Time {
	if ts == nil {
		return nil
	}
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = utc(t)
	}
	return out
}

// utc returns t in UTC; the zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// putRun writes a run record and keeps the index of running runs in step.
func putRun(runs, running *bbolt.Bucket, r scheduler.Run) error {
	k := u64key(r.ID)
	if err := putJSON(runs, k, r); err != nil {
		return err
	}
	if r.Status == scheduler.StatusRunning {
		return running.Put(k, present)
	}
	return running.Delete(k)
}

func getRun(runs *bbolt.Bucket, id uint64) (scheduler.Run, error) {
	var r scheduler.Run
	ok, err := getJSON(runs, u64key(id), &r)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("run %d: %w", id, scheduler.ErrNotFound)
	}
	return r, checkRunKey(u64key(id), r)
}

// checkRunKey reports damage when a run record is not stored under its own id (a damaged key
// or value that still decodes).
func checkRunKey(k []byte, r scheduler.Run) error {
	if len(k) != 8 || keyU64(k) != r.ID {
		return damagef("run record %d is stored under the key %x", r.ID, k)
	}
	return nil
}

// ClaimRun inserts run with a new id and returns it. When run.Slot is set on a first attempt
// (Attempt ≤ 1) the slot is claimed in the same transaction; a missed record (StatusMissed)
// claims every one of run.MissedSlots. If any of those slots already has a run, nothing is
// written and the error wraps scheduler.ErrSlotClaimed: a slot is claimed exactly once, also
// across processes and restarts. Retries (Attempt > 1) and manual runs claim nothing. Every
// instant is stored in UTC. Safe for concurrent use.
func (db *DB) ClaimRun(run scheduler.Run) (scheduler.Run, error) {
	run = normalizeRun(run)
	err := db.update("claim run", func(tx *bbolt.Tx) error {
		runs, slots, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		id, err := runs.NextSequence()
		if err != nil {
			return err
		}
		run.ID = id
		if err := claimSlots(slots, run); err != nil {
			return err
		}
		return putRun(runs, running, run)
	})
	if err != nil {
		return scheduler.Run{}, err
	}
	return run, nil
}

// UpdateRun rewrites the record of an existing run (progress, status); the error wraps
// scheduler.ErrNotFound when there is no run with run.ID. Its slot claims do not change.
// Safe for concurrent use.
func (db *DB) UpdateRun(run scheduler.Run) error {
	run = normalizeRun(run)
	return db.update(fmt.Sprintf("update run %d", run.ID), func(tx *bbolt.Tx) error {
		runs, _, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		if runs.Get(u64key(run.ID)) == nil {
			return fmt.Errorf("run %d: %w", run.ID, scheduler.ErrNotFound)
		}
		return putRun(runs, running, run)
	})
}

// claimSlots claims every slot of run (see claimedSlots) for run.ID, or fails with
// scheduler.ErrSlotClaimed when one already has a run.
func claimSlots(slots *bbolt.Bucket, run scheduler.Run) error {
	for _, s := range claimedSlots(run) {
		if owner := slots.Get(slotKey(s)); owner != nil {
			return fmt.Errorf("slot %s (run %d): %w", s.Format(time.RFC3339), keyU64(owner), scheduler.ErrSlotClaimed)
		}
		if err := slots.Put(slotKey(s), u64key(run.ID)); err != nil {
			return err
		}
	}
	return nil
}

// errDecidePanic wraps a panic of FinishRun's decide function.
var errDecidePanic = errors.New("deciding the outcome of the run panicked")

// FinishRun records the outcome of a run in one transaction. A run with ID 0 (a coalesced missed
// record) is inserted with a new id and its slots claimed as ClaimRun does. When orders is non-nil
// it is applied as a diff against the stored orders (see the orders bucket rules on
// applyOrders; a run with Incomplete set marks nothing missing and removes nothing, one with
// ListReads ≥ 2 removes what both its reads lacked at once) and
// run.Found, New, Changed and Removed are set from it. Then decide, when not
// nil, is called with the run, the diff and the stored state to update; the alerts it returns
// are appended to the outbox (Created defaults to at, RunID to the run's id). Last the run and
// the state are saved. If any step fails — an order without a portal id, a portal id twice in
// orders, a run that does not exist, a panic in decide — nothing is written. Safe for
// concurrent use; decide runs inside the write transaction and must not call the store.
func (db *DB) FinishRun(run scheduler.Run, orders []scheduler.Order, at time.Time,
	decide func(run *scheduler.Run, diff scheduler.Diff, st *scheduler.State) []scheduler.Alert) (scheduler.Run, scheduler.Diff, error) {
	at = utc(at)
	run = normalizeRun(run)
	var diff scheduler.Diff
	err := db.update(fmt.Sprintf("finish run %d", run.ID), func(tx *bbolt.Tx) error {
		runs, slots, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		id := run.ID
		if id == 0 {
			// A record that was never claimed (a coalesced missed record) is inserted and its
			// slots claimed here, so that it and its alerts are written together.
			if id, err = runs.NextSequence(); err != nil {
				return err
			}
			run.ID = id
			if err := claimSlots(slots, run); err != nil {
				return err
			}
		} else if runs.Get(u64key(id)) == nil {
			return fmt.Errorf("run %d: %w", id, scheduler.ErrNotFound)
		}
		if orders != nil {
			if diff, err = applyOrders(tx, orders, at, listRead{complete: !run.Incomplete, confirmed: !run.Incomplete && run.ListReads >= 2}); err != nil {
				return err
			}
			run.Found, run.New, run.Changed, run.Removed = diff.Found, len(diff.New), len(diff.Changed), len(diff.Removed)
			run.Missing = len(diff.Missing)
		}
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		var alerts []scheduler.Alert
		if decide != nil {
			err := guardAs(errDecidePanic, func() error {
				alerts = decide(&run, diff, &st)
				return nil
			})
			if err != nil {
				return err
			}
		}
		run = normalizeRun(run)
		run.ID = id
		for i := range alerts {
			if alerts[i].RunID == 0 {
				alerts[i].RunID = id
			}
		}
		if _, err := appendAlerts(tx, alerts, at); err != nil {
			return err
		}
		if err := putRun(runs, running, run); err != nil {
			return err
		}
		return saveState(tx, st)
	})
	if err != nil {
		return scheduler.Run{}, scheduler.Diff{}, err
	}
	return run, diff, nil
}

// Run returns the run with the given id; the error wraps scheduler.ErrNotFound when there is
// none. Safe for concurrent use.
func (db *DB) Run(id uint64) (scheduler.Run, error) {
	var r scheduler.Run
	err := db.view("read run", func(tx *bbolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		r, err = getRun(runs, id)
		return err
	})
	return r, err
}

// RunBySlot returns the run that claimed slot (the first attempt, or the missed record naming
// it); the error wraps scheduler.ErrNotFound when the slot was never claimed or its run was
// pruned. Safe for concurrent use.
func (db *DB) RunBySlot(slot time.Time) (scheduler.Run, error) {
	var r scheduler.Run
	err := db.view("read run by slot", func(tx *bbolt.Tx) error {
		runs, slots, _, err := runBuckets(tx)
		if err != nil {
			return err
		}
		id := slots.Get(slotKey(slot))
		if id == nil {
			return fmt.Errorf("slot %s: %w", slot.UTC().Format(time.RFC3339), scheduler.ErrNotFound)
		}
		r, err = getRun(runs, keyU64(id))
		return err
	})
	return r, err
}

// SlotClaimed reports whether slot has been claimed by a run or a missed record. Claims are
// never pruned (see PruneRuns), so a slot whose run record is gone is still claimed. Safe for
// concurrent use.
func (db *DB) SlotClaimed(slot time.Time) (bool, error) {
	var claimed bool
	err := db.view("read slot claim", func(tx *bbolt.Tx) error {
		_, slots, _, err := runBuckets(tx)
		if err != nil {
			return err
		}
		claimed = slots.Get(slotKey(slot)) != nil
		return nil
	})
	return claimed, err
}

// ClaimedSlots returns the claimed slots in [from, to], oldest first, whether or not their
// records were pruned. Safe for concurrent use.
func (db *DB) ClaimedSlots(from, to time.Time) ([]time.Time, error) {
	var out []time.Time
	err := db.view("read slot claims", func(tx *bbolt.Tx) error {
		_, slots, _, err := runBuckets(tx)
		if err != nil {
			return err
		}
		c := slots.Cursor()
		end := slotKey(to)
		for k, _ := c.Seek(slotKey(from)); k != nil && bytes.Compare(k, end) <= 0; k, _ = c.Next() {
			out = append(out, time.Unix(int64(keyU64(k)), 0).UTC())
		}
		return nil
	})
	return out, err
}

// ReleaseMissedSlots withdraws the missed records of the slots after after, in one
// transaction: each such slot claimed by a missed record loses its claim and leaves the
// record's MissedSlots; a record left with no slot is deleted. Claims of runs that did run, and
// claims whose record was pruned, stay. It returns the released slots, oldest first. The
// scheduler calls it when the wall clock was set back behind slots it had recorded missed:
// their real time has not come. Safe for concurrent use.
func (db *DB) ReleaseMissedSlots(after time.Time) ([]time.Time, error) {
	var released []time.Time
	err := db.update("release missed slots", func(tx *bbolt.Tx) error {
		runs, slots, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		type claim struct {
			key []byte
			id  uint64
		}
		var claims []claim
		c := slots.Cursor()
		for k, v := c.Seek(slotKey(after.Add(time.Second))); k != nil; k, v = c.Next() {
			claims = append(claims, claim{slices.Clone(k), keyU64(v)})
		}
		edited := map[uint64]*scheduler.Run{}
		for _, cl := range claims {
			r, ok := edited[cl.id]
			if !ok {
				run, err := getRun(runs, cl.id)
				if errors.Is(err, scheduler.ErrNotFound) {
					continue // pruned: what it was is unknown, so the claim stays
				} else if err != nil {
					return err
				}
				r = &run
				edited[cl.id] = r
			}
			if r.Status != scheduler.StatusMissed {
				continue
			}
			slot := time.Unix(int64(keyU64(cl.key)), 0).UTC()
			r.MissedSlots = slices.DeleteFunc(r.MissedSlots, slot.Equal)
			if err := slots.Delete(cl.key); err != nil {
				return err
			}
			released = append(released, slot)
		}
		for id, r := range edited {
			if r.Status != scheduler.StatusMissed {
				continue
			}
			if len(r.MissedSlots) == 0 {
				if err := runs.Delete(u64key(id)); err != nil {
					return err
				}
				continue
			}
			if err := putRun(runs, running, *r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return released, nil
}

// LatestRuns returns the n newest runs, newest first. Safe for concurrent use.
func (db *DB) LatestRuns(n int) ([]scheduler.Run, error) {
	if n <= 0 {
		return nil, nil
	}
	return db.Runs(RunQuery{Limit: n})
}

// RunQuery selects runs for Runs. The zero value selects every run.
type RunQuery struct {
	// Before, when not zero, selects runs with a smaller id: pass the id of the last run of a
	// page to get the next one.
	Before uint64
	// Limit is the most runs returned; zero or negative means no limit.
	Limit int
	// OnlyFailed selects failed runs (StatusFailed) only.
	OnlyFailed bool
	// Statuses, when not empty, selects runs with one of these statuses.
	Statuses []scheduler.RunStatus
}

func (q RunQuery) match(r *scheduler.Run) bool {
	if q.OnlyFailed && r.Status != scheduler.StatusFailed {
		return false
	}
	return len(q.Statuses) == 0 || slices.Contains(q.Statuses, r.Status)
}

// Runs returns the runs q selects, newest first. Safe for concurrent use.
func (db *DB) Runs(q RunQuery) ([]scheduler.Run, error) {
	var out []scheduler.Run
	err := db.view("read runs", func(tx *bbolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		c := runs.Cursor()
		var k, v []byte
		if q.Before == 0 {
			k, v = c.Last()
		} else if k, _ = c.Seek(u64key(q.Before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && (q.Limit <= 0 || len(out) < q.Limit); k, v = c.Prev() {
			var r scheduler.Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode run %d: %w", keyU64(k), err)
			}
			if err := checkRunKey(k, r); err != nil {
				return err
			}
			if q.match(&r) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// RunningRuns returns the runs whose status is still "running", oldest first. It reads an
// index and does not scan the history. Safe for concurrent use.
func (db *DB) RunningRuns() ([]scheduler.Run, error) {
	var out []scheduler.Run
	err := db.view("read running runs", func(tx *bbolt.Tx) error {
		runs, _, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		return running.ForEach(func(k, _ []byte) error {
			r, err := getRun(runs, keyU64(k))
			if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// PruneRuns deletes the oldest run records so that keep remain, and returns how many it
// deleted. The newest run and running runs are never deleted. keep must be at least 1. Safe
// for concurrent use.
//
// The rule that connects slot claims and retention: pruning deletes run records only, never a
// slot claim. A claim maps a slot instant to the id of the run or missed record that took it,
// and ids are never reused (the bucket's sequence only grows), so after pruning a slot stays
// claimed (SlotClaimed is true, RunBySlot says ErrNotFound) and can never run again, whatever
// the wall clock does; and no claim ever names a slot that has not been claimed, so pruning
// cannot block claiming one. Claims cost a few bytes each (about 9,000 a year for an hourly
// schedule) and are kept for the life of the store.
func (db *DB) PruneRuns(keep int) (int, error) {
	if keep < 1 {
		return 0, db.wrap("prune runs", fmt.Errorf("keep must be at least 1, got %d", keep))
	}
	deleted := 0
	err := db.update("prune runs", func(tx *bbolt.Tx) error {
		runs, _, running, err := runBuckets(tx)
		if err != nil {
			return err
		}
		var doomed [][]byte
		c := runs.Cursor()
		n := 0
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if n++; n <= keep || running.Get(k) != nil {
				continue
			}
			doomed = append(doomed, slices.Clone(k))
		}
		for _, k := range doomed {
			if err := runs.Delete(k); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
