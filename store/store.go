// Package store keeps worktray's data in one embedded bbolt file: settings, the run history,
// the slot claims, the work orders, the scheduler's state, the alert outbox and small blobs such
// as the portal's session cookies.
//
// The file has a schema version and an ordered list of migrations (see migrate.go). A
// read-write open migrates; a read-only open never writes. The bbolt file lock is worktray's
// single-instance lock: a second read-write open, or any open while the owner holds the file,
// fails with ErrLocked within Options.Timeout.
//
// Every method is one bbolt transaction, so a multi-step write is all or nothing, and a *DB is
// safe for concurrent use by many goroutines.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"
	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// DefaultTimeout is how long Open waits for the file lock when Options.Timeout is not set.
const DefaultTimeout = time.Second

// Bucket and key names. They are part of the file format: never rename one.
var (
	bucketMeta     = []byte("meta")     // schema_version
	bucketSettings = []byte("settings") // key → JSON value; "schedule" is the scheduler.Schedule
	bucketRuns     = []byte("runs")     // 8-byte big-endian id → JSON scheduler.Run
	bucketOrders   = []byte("orders")   // portal id → JSON orderRecord (see applyOrders for LastSeen)
	bucketState    = []byte("state")    // "scheduler" → JSON scheduler.State
	bucketKV       = []byte("kv")       // small values: "cookies", "orders_scraped_at", "alert_delivery"
	bucketSlots    = []byte("slots")    // 8-byte big-endian unix seconds of a slot → run id (since v2)
	bucketRunning  = []byte("running")  // run id → empty, for runs whose status is "running" (since v2)
	bucketOutbox   = []byte("outbox")   // 8-byte big-endian id → JSON scheduler.Alert (since v2)
	bucketSent     = []byte("sent")     // 8-byte big-endian id → JSON SentAlert, the last SentKeep (since v2)
	// bucketOrderChanges holds the orders' change history: portal id, NUL, 8-byte big-endian
	// sequence → JSON storedChange, the last OrderHistoryKeep per order (since v3).
	bucketOrderChanges = []byte("order_changes")

	keySchemaVersion   = []byte("schema_version")
	keySchedule        = []byte("schedule")
	keyState           = []byte("scheduler")
	keyCookies         = []byte("cookies")
	keyOrdersScrapedAt = []byte("orders_scraped_at") // JSON instant of the latest applied scrape
)

// Options configures Open.
type Options struct {
	// ReadOnly opens the file with a shared lock and never writes to it. Many read-only opens
	// can share a file; none succeeds while a read-write open holds it.
	ReadOnly bool
	// Timeout bounds the wait for the file lock; zero or negative means DefaultTimeout. (bbolt
	// would wait forever on zero; the store never does.)
	Timeout time.Duration
	// Clock supplies the time for values the caller leaves unset (an alert's Created time).
	// Nil means the real clock.
	Clock clockwork.Clock
}

// DB is an open store. It is safe for concurrent use; every method is one transaction.
type DB struct {
	bolt     *bbolt.DB
	path     string
	readOnly bool
	clock    clockwork.Clock
}

// The store implements the scheduler's port.
var _ scheduler.Store = (*DB)(nil)

// Open opens the store at path, creating it (and its directory, mode 0700; the file is 0600)
// unless opts.ReadOnly is set, and migrates it to SchemaVersion. It blocks at most about
// opts.Timeout waiting for the file lock.
//
// Errors: ErrLocked when another process holds the file; ErrCorrupt when the file is not a
// readable worktray store (the file is never modified then); ErrSchemaNewer when a newer
// worktray wrote it; for a read-only open, ErrNotInitialized when there is no store yet and
// ErrSchemaOutdated when it needs a migration.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open store: the path is empty")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	st, statErr := os.Stat(path)
	switch {
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return nil, fmt.Errorf("open store %s: %w", path, statErr)
	case statErr == nil && st.IsDir():
		return nil, fmt.Errorf("open store %s: it is a directory", path)
	case opts.ReadOnly && (statErr != nil || st.Size() == 0):
		return nil, fmt.Errorf("open store %s read-only: %w (start worktray once to create it)", path, ErrNotInitialized)
	case !opts.ReadOnly && statErr != nil:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: create its directory: %w", path, err)
		}
	case !opts.ReadOnly && st.Size() > 0:
		// Look at an existing file read-only first: bbolt may write to a file it opens
		// read-write (and a migration certainly does), and a file that is not ours, or is
		// damaged, or is newer than this binary must stay exactly as it is.
		if err := inspect(path, opts.Timeout); err != nil {
			return nil, err
		}
	}

	b, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: b, path: path, readOnly: opts.ReadOnly, clock: opts.Clock}
	if opts.ReadOnly {
		err = guard(func() error { return b.View(func(tx *bbolt.Tx) error { return checkReadable(tx, path) }) })
	} else {
		err = guard(func() error { return b.Update(func(tx *bbolt.Tx) error { return migrate(tx, path, SchemaVersion) }) })
	}
	if err != nil {
		_ = b.Close()
		return nil, classify(path, err)
	}
	return db, nil
}

// openBolt opens the bbolt file and turns its errors into the store's.
func openBolt(path string, opts Options) (*bbolt.DB, error) {
	var b *bbolt.DB
	err := guard(func() (err error) {
		b, err = bbolt.Open(path, 0o600, &bbolt.Options{
			Timeout:      opts.Timeout,
			ReadOnly:     opts.ReadOnly,
			FreelistType: bbolt.FreelistMapType,
		})
		return err
	})
	if err != nil {
		return nil, classify(path, err)
	}
	return b, nil
}

// inspect opens an existing file read-only and checks that this binary can use it.
func inspect(path string, timeout time.Duration) error {
	b, err := openBolt(path, Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return err
	}
	err = guard(func() error {
		return b.View(func(tx *bbolt.Tx) error {
			v, err := readVersion(tx)
			if err != nil {
				return err
			}
			if v > SchemaVersion {
				return newerError(path, v)
			}
			return nil
		})
	})
	_ = b.Close()
	if err != nil {
		return classify(path, err)
	}
	return nil
}

// checkReadable reports whether a read-only open can use the file as it is.
func checkReadable(tx *bbolt.Tx, path string) error {
	v, err := readVersion(tx)
	switch {
	case err != nil:
		return err
	case v == 0:
		return fmt.Errorf("open store %s read-only: %w (start worktray once to create it)", path, ErrNotInitialized)
	case v > SchemaVersion:
		return newerError(path, v)
	case v < SchemaVersion:
		return fmt.Errorf("open store %s read-only: %w: it has schema version %d and this worktray needs %d; start worktray (the owner) once to upgrade it",
			path, ErrSchemaOutdated, v, SchemaVersion)
	}
	return nil
}

func newerError(path string, v int) error {
	return fmt.Errorf("open store %s: %w: it has schema version %d and this worktray knows up to %d; upgrade worktray",
		path, ErrSchemaNewer, v, SchemaVersion)
}

// errPanic marks a panic inside bbolt while opening, which happens on some kinds of damaged
// pages, and errTxPanic one inside a transaction.
var (
	errPanic   = errors.New("the file could not be read")
	errTxPanic = errors.New("a transaction panicked and was rolled back")
)

// guard runs fn and turns a panic into an error wrapping errPanic.
func guard(fn func() error) error { return guardAs(errPanic, fn) }

// guardAs runs fn and turns a panic into an error wrapping sentinel.
func guardAs(sentinel error, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", sentinel, r)
		}
	}()
	return fn()
}

// classify maps the errors of opening a file to the store's sentinels.
func classify(path string, err error) error {
	var (
		le *lockedError
		ce *corruptError
	)
	switch {
	case errors.As(err, &le), errors.As(err, &ce):
		return err
	case errors.Is(err, bbolt.ErrTimeout):
		return &lockedError{path: path, cause: err}
	case errors.Is(err, ErrSchemaNewer), errors.Is(err, ErrSchemaOutdated), errors.Is(err, ErrNotInitialized):
		return err
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrChecksum), errors.Is(err, bbolt.ErrVersionMismatch),
		errors.Is(err, errForeign), errors.Is(err, errPanic):
		return &corruptError{path: path, cause: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	// bbolt reports other damage (a file too small for its pages, an unmappable size…) with
	// plain errors.
	return &corruptError{path: path, cause: err}
}

// Path returns the file the store was opened from.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether the store was opened read-only.
func (db *DB) ReadOnly() bool { return db.readOnly }

// Close releases the file and its lock. It waits for running transactions to finish.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// view runs fn in a read transaction and names the store and the operation in its error.
func (db *DB) view(op string, fn func(tx *bbolt.Tx) error) error {
	if err := db.bolt.View(fn); err != nil {
		return db.wrap(op, err)
	}
	return nil
}

// update runs fn in a write transaction (rolled back when fn fails or panics) and names the
// store and the operation in its error.
func (db *DB) update(op string, fn func(tx *bbolt.Tx) error) error {
	err := guardAs(errTxPanic, func() error { return db.bolt.Update(fn) })
	if err != nil {
		return db.wrap(op, err)
	}
	return nil
}

func (db *DB) wrap(op string, err error) error {
	return fmt.Errorf("store %s: %s: %w", db.path, op, err)
}

// bucket returns a bucket the schema guarantees, or an error naming it.
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: bucket %q is missing", ErrCorrupt, name)
	}
	return b, nil
}

func u64key(v uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], v)
	return k[:]
}

func keyU64(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// slotKey is the key of a slot instant: its unix seconds, big-endian.
func slotKey(t time.Time) []byte { return u64key(uint64(t.Unix())) }

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

func getJSON(b *bbolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}
