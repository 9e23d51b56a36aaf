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
//
// The file is checked at every open (verify.go): a damaged, empty or unreadable existing file
// is never replaced or taken for a new store, and a damaged page met later by a read is an
// error, never a panic: both are a *CorruptError naming the file and the newest backup. A
// write that does not reach the disk is ErrWriteFailed (errors.go). Backups: Backup (a
// consistent copy), DailyBackup and ListBackups (backups.go), Restore (restore.go).
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
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

// Open opens the store at path and checks it (see verify: bbolt's consistency check and a
// read of every value), then migrates it to SchemaVersion unless opts.ReadOnly is set. Only a
// missing file means "no store yet": a read-write open then creates it (and its directory,
// mode 0700; the file is 0600) under a temporary name and links it into place whole, so a
// crash never leaves a half-made store at path. It blocks at most about opts.Timeout waiting
// for the file lock, plus the time of the check (see BenchmarkOpenCheck).
//
// Errors: ErrLocked when another process holds the file; a *CorruptError (ErrCorrupt) when
// the file exists but is empty (zero bytes, or a bbolt file without the worktray schema),
// damaged, or not a worktray store, and (ErrUnreadable) when it cannot be read at all: the
// file is never modified then, and the error names the newest backup; ErrSchemaNewer when a
// newer worktray wrote it; ErrWriteFailed when a new store or a migration cannot be written;
// for a read-only open, ErrNotInitialized when there is no file and ErrSchemaOutdated when it
// needs a migration.
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
		return nil, classify(path, statErr)
	case statErr == nil && st.IsDir():
		return nil, fmt.Errorf("open store %s: it is a directory", path)
	case statErr == nil && st.Size() == 0:
		return nil, newCorrupt(path, "open", errEmptyFile)
	case opts.ReadOnly && statErr != nil:
		return nil, fmt.Errorf("open store %s read-only: %w (start worktray once to create it)", path, ErrNotInitialized)
	case statErr != nil:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: create its directory: %w", path, err)
		}
		if err := createStore(path, opts.Timeout); err != nil {
			return nil, err
		}
	}
	version := 0
	if !opts.ReadOnly {
		// Look at the existing file read-only first: bbolt may write to a file it opens
		// read-write (and a migration certainly does), and a file that is not ours, or is
		// damaged, or is newer than this binary must stay exactly as it is.
		var err error
		if version, err = inspect(path, opts.Timeout); err != nil {
			return nil, err
		}
	}

	b, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: b, path: path, readOnly: opts.ReadOnly, clock: opts.Clock}
	if opts.ReadOnly {
		err = db.transact("open", false, func(tx *bbolt.Tx) error {
			if err := checkReadable(tx, path); err != nil {
				return err
			}
			return verify(tx)
		})
	} else if version < SchemaVersion {
		// A store that needs no migration is not written at open: a full disk does not stop
		// the owner from starting, and reads need no room.
		err = db.transact("open", true, func(tx *bbolt.Tx) error { return migrate(tx, path, SchemaVersion) })
	}
	if err != nil {
		_ = b.Close()
		return nil, classify(path, err)
	}
	return db, nil
}

// errEmptyFile is the cause of the CorruptError of a zero-byte store file.
var errEmptyFile = errors.New("the file is empty (0 bytes); a store is never created over an existing file")

// createStore makes a new store at path, which must not exist: it writes a complete store of the
// current schema to a temporary file beside path, then links it to path, which fails if
// another process created path meanwhile (then that store is used).
func createStore(path string, timeout time.Duration) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		return classify(path, err)
	}
	name := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(name)
	b, err := openBolt(name, Options{Timeout: timeout})
	if err != nil {
		return classify(path, err)
	}
	db := &DB{bolt: b, path: path}
	err = db.transact("create", true, func(tx *bbolt.Tx) error { return migrate(tx, path, SchemaVersion) })
	if cerr := b.Close(); err == nil && cerr != nil {
		err = &writeError{path: path, op: "create", cause: cerr}
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(name, 0o600); err != nil {
		return classify(path, err)
	}
	if err := os.Link(name, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return classify(path, fmt.Errorf("create %s: %w", path, err))
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename or link in dir durable; not every file system supports it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// openBolt opens the bbolt file and turns its errors into the store's. The free list is
// loaded at once, in this goroutine, where a damaged free list page is caught (see guard).
//
// bbolt takes the file lock before it reads the file and does not release it when it panics
// on a damaged page while opening: the file it opened is closed here then, which releases the
// lock (the mapping of that failed open is not unmapped).
func openBolt(path string, opts Options) (*bbolt.DB, error) {
	var (
		b    *bbolt.DB
		file *os.File
	)
	err := guard(func() (err error) {
		b, err = bbolt.Open(path, 0o600, &bbolt.Options{
			Timeout:         opts.Timeout,
			ReadOnly:        opts.ReadOnly,
			FreelistType:    bbolt.FreelistMapType,
			PreLoadFreelist: true,
			OpenFile: func(name string, flag int, perm fs.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, perm)
				file = f
				return f, err
			},
		})
		return err
	})
	if err != nil {
		if errors.Is(err, errPanic) && file != nil {
			_ = file.Close()
		}
		return nil, classify(path, err)
	}
	return b, nil
}

// inspect opens an existing file read-only, checks that this binary can use it (a worktray
// schema it knows, and a file that passes verify) and returns its schema version.
func inspect(path string, timeout time.Duration) (int, error) {
	b, err := openBolt(path, Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return 0, err
	}
	db := &DB{bolt: b, path: path, readOnly: true}
	var version int
	err = db.transact("open", false, func(tx *bbolt.Tx) error {
		v, err := readVersion(tx)
		version = v
		switch {
		case err != nil:
			return err
		case v == 0:
			return errNoSchema
		case v > SchemaVersion:
			return newerError(path, v)
		}
		return verify(tx)
	})
	_ = b.Close()
	if err != nil {
		return 0, classify(path, err)
	}
	return version, nil
}

// errNoSchema is the cause of the CorruptError of a bbolt file without any bucket: a store
// is created whole (see create), so such a file is not one to build on.
var errNoSchema = fmt.Errorf("%w: the file holds no data at all", errForeign)

// checkReadable reports whether a read-only open can use the file as it is.
func checkReadable(tx *bbolt.Tx, path string) error {
	v, err := readVersion(tx)
	switch {
	case err != nil:
		return err
	case v == 0:
		return errNoSchema
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
// pages, and errTxPanic one inside a transaction (bbolt's assertions on damaged pages, or a
// memory fault reading past a damaged page). errCallbackPanic marks a panic of a caller's
// function run inside a transaction: a bug, not damage.
var (
	errPanic         = errors.New("the file could not be read")
	errTxPanic       = errors.New("reading the file failed on damaged data")
	errCallbackPanic = errors.New("the caller's function panicked inside the transaction, which was rolled back")
)

// guard runs fn and turns a panic into an error wrapping errPanic.
func guard(fn func() error) error { return guardAs(errPanic, fn) }

// guardAs runs fn and turns a panic into an error wrapping sentinel. While fn runs, a memory
// fault (bbolt following a damaged page number past the end of the mapped file) is a panic
// too rather than a crash of the process (debug.SetPanicOnFault, for this goroutine only).
func guardAs(sentinel error, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
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
		ce *CorruptError
		we *writeError
	)
	switch {
	case errors.As(err, &le), errors.As(err, &ce), errors.As(err, &we):
		return err
	case errors.Is(err, bbolt.ErrTimeout):
		return &lockedError{path: path, cause: err}
	case errors.Is(err, ErrSchemaNewer), errors.Is(err, ErrSchemaOutdated), errors.Is(err, ErrNotInitialized):
		return err
	case isDiskError(err) && !errors.Is(err, syscall.EIO):
		return &writeError{path: path, op: "open", cause: err}
	case isPermission(err), errors.Is(err, syscall.EIO):
		c := newCorrupt(path, "open", err)
		c.Unreadable = true
		return c
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrChecksum), errors.Is(err, bbolt.ErrVersionMismatch),
		errors.Is(err, errForeign), errors.Is(err, errPanic), errors.Is(err, errTxPanic), errors.Is(err, ErrCorrupt):
		return newCorrupt(path, "open", err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	// bbolt reports other damage (a file too small for its pages, an unmappable size…) with
	// plain errors.
	return newCorrupt(path, "open", err)
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

// transact runs fn in a read transaction, or a write one when write is set, with panics and
// memory faults turned into errors, and classifies its error: damage (a panic in bbolt, a
// missing bucket, a value that is not valid JSON) is a *CorruptError; a write that failed to
// commit is ErrWriteFailed; other errors, fn's own, are returned as they are.
func (db *DB) transact(op string, write bool, fn func(tx *bbolt.Tx) error) error {
	var fnErr error
	body := func(tx *bbolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	}
	err := guardAs(errTxPanic, func() error {
		if write {
			return db.bolt.Update(body)
		}
		return db.bolt.View(body)
	})
	var (
		ce *CorruptError
		we *writeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce), errors.As(err, &we):
		return err
	case isDamage(err):
		return newCorrupt(db.path, op, err)
	case write && (isDiskError(err) || fnErr == nil && isCommitFailure(err)):
		return &writeError{path: db.path, op: op, cause: err}
	}
	return err
}

// isDamage reports whether err means the file's content is damaged.
func isDamage(err error) bool {
	var se *json.SyntaxError
	return errors.Is(err, errTxPanic) || errors.Is(err, ErrCorrupt) || errors.Is(err, errForeign) || errors.As(err, &se)
}

// view runs fn in a read transaction and names the store and the operation in its error. A
// damaged page or value is a *CorruptError, never a panic.
func (db *DB) view(op string, fn func(tx *bbolt.Tx) error) error {
	return db.wrap(op, db.transact(op, false, fn))
}

// update runs fn in a write transaction (rolled back when fn fails or panics) and names the
// store and the operation in its error. A write that does not reach the disk is
// ErrWriteFailed; a damaged page is a *CorruptError.
func (db *DB) update(op string, fn func(tx *bbolt.Tx) error) error {
	return db.wrap(op, db.transact(op, true, fn))
}

// wrap names the store and op in err, unless err is nil or already names them (a
// *CorruptError or an ErrWriteFailed).
func (db *DB) wrap(op string, err error) error {
	var (
		ce *CorruptError
		we *writeError
	)
	if err == nil || errors.As(err, &ce) || errors.As(err, &we) {
		return err
	}
	return fmt.Errorf("store %s: %s: %w", db.path, op, err)
}

// bucket returns a bucket the schema guarantees, or an error naming it.
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, damagef("bucket %q is missing", name)
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
