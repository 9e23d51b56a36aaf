package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// jsonBuckets are the buckets in which every value is one JSON document.
var jsonBuckets = [][]byte{bucketSettings, bucketRuns, bucketOrders, bucketState, bucketOutbox, bucketSent, bucketOrderChanges}

// idBuckets are the buckets keyed by 8-byte big-endian numbers.
var idBuckets = [][]byte{bucketRuns, bucketSlots, bucketRunning, bucketOutbox, bucketSent}

// damageError is a damage verify or a read found; it matches ErrCorrupt without repeating its
// text.
type damageError struct{ msg string }

func (e *damageError) Error() string        { return e.msg }
func (e *damageError) Is(target error) bool { return target == ErrCorrupt }

// damagef returns a damageError with a formatted message.
func damagef(format string, args ...any) error {
	return &damageError{msg: fmt.Sprintf(format, args...)}
}

// maxReported is how many of bbolt's consistency errors a damage report lists.
const maxReported = 5

// Check verifies the whole file as Open does (see verify) and returns a *CorruptError
// (errors.Is ErrCorrupt) naming the problems found and the newest backup, or nil. It reads the
// whole file (about 25 ms of CPU at 5,000 orders and 10,000 runs, see BenchmarkOpenCheck). On a
// read-write store it runs in a write transaction that it rolls back, because bbolt's check
// reads the free list that writers change: writes wait for it. Safe for concurrent use.
func (db *DB) Check() error {
	if db.readOnly {
		return db.view("check", verify)
	}
	err := db.transact("check", true, func(tx *bbolt.Tx) error {
		if err := verify(tx); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return db.wrap("check", err)
}

// errRollback ends a write transaction that must not commit.
var errRollback = errors.New("rolled back")

// verify checks the file seen by tx, in three steps, each of which returns an error wrapping
// ErrCorrupt at the first damage:
//  1. every page header up to the high-water mark, so that no page claims overflow pages past
//     the end of the file;
//  2. every key and value of every bucket is read (in this goroutine, where a memory fault is
//     a recoverable panic, see guardAs): keys in order, ids 8 bytes, JSON values valid;
//  3. bbolt's consistency check (tx.Check): every page reachable once or free, page types,
//     key order across pages.
//
// The order matters: tx.Check runs in a goroutine of its own, where a fault would crash the
// process, so it only runs over pages the first two steps have read safely.
func verify(tx *bbolt.Tx) error {
	if err := checkPageHeaders(tx); err != nil {
		return err
	}
	err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		return readBucket(string(name), b, slices.ContainsFunc(jsonBuckets, func(n []byte) bool { return bytes.Equal(n, name) }),
			slices.ContainsFunc(idBuckets, func(n []byte) bool { return bytes.Equal(n, name) }))
	})
	if err != nil {
		return err
	}
	var errs []error
	for err := range tx.Check() {
		// Drain the channel whole, or the checking goroutine never ends.
		if len(errs) < maxReported {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		return damagef("bbolt's consistency check: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// checkPageHeaders walks the pages below the high-water mark and fails when the file is
// shorter than the mark or a page in use claims overflow pages past it. Free pages are
// stepped one by one, since their headers may be stale.
func checkPageHeaders(tx *bbolt.Tx) error {
	pageSize := int64(tx.DB().Info().PageSize)
	hwm := tx.Size() / pageSize
	if st, err := os.Stat(tx.DB().Path()); err == nil && st.Size() < tx.Size() {
		return damagef("the file has %d bytes but its pages reach to byte %d (it was cut short)", st.Size(), tx.Size())
	}
	for id := int64(2); id < hwm; {
		info, err := tx.Page(int(id))
		if err != nil {
			return damagef("page %d: %v", id, err)
		}
		if info == nil || info.Type == "free" {
			id++
			continue
		}
		if end := id + int64(info.OverflowCount); end >= hwm || end < id {
			return damagef("page %d claims %d overflow pages, past the end of the file (%d pages)", id, info.OverflowCount, hwm)
		}
		id += 1 + int64(info.OverflowCount)
	}
	return nil
}

// readBucket reads every key and value of b and its nested buckets.
func readBucket(name string, b *bbolt.Bucket, jsonValues, idKeys bool) error {
	c := b.Cursor()
	var prev []byte
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return damagef("bucket %s: key %x is not after key %x", name, k, prev)
		}
		prev = k
		if v == nil {
			child := b.Bucket(k)
			if child == nil {
				return damagef("bucket %s: key %x is neither a value nor a bucket", name, k)
			}
			if err := readBucket(name+"/"+string(k), child, false, false); err != nil {
				return err
			}
			continue
		}
		if idKeys && len(k) != 8 {
			return damagef("bucket %s: key %x is %d bytes, want 8", name, k, len(k))
		}
		if jsonValues {
			if !json.Valid(v) {
				key := fmt.Sprintf("%q", k)
				if idKeys {
					key = fmt.Sprint(keyU64(k))
				}
				return damagef("bucket %s: the value of key %s is not valid JSON", name, key)
			}
		} else {
			_ = crc32.ChecksumIEEE(v) // Read it, so that a fault happens here.
		}
	}
	return nil
}
