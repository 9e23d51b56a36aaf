package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// Sentinel errors of the store. Callers test them with errors.Is. The store also returns
// scheduler.ErrNotFound for a run, slot, alert or setting that does not exist and
// scheduler.ErrSlotClaimed when a slot already has a run.
var (
	// ErrLocked means another process holds the store file: worktray is already running. Open
	// returns it within Options.Timeout; the error also matches bbolt.ErrTimeout.
	ErrLocked = errors.New("worktray is already running")
	// ErrCorrupt means the file is not a usable worktray store: it is damaged (found by the
	// check at open, or by a read that met a damaged page or value), empty (zero bytes, or a
	// bbolt file without the worktray schema), or not a bbolt file at all. The file is left
	// untouched. The error is a *CorruptError naming the file and the newest backup, and it
	// also carries a *scheduler.RunError of class scheduler.ClassStorageFailed.
	ErrCorrupt = errors.New("the store is damaged or not a worktray store")
	// ErrUnreadable means an existing store file cannot be opened or read at all (its
	// permissions, an I/O error). It is never replaced. The error is a *CorruptError too.
	ErrUnreadable = errors.New("the store file cannot be read")
	// ErrWriteFailed means a write to the store (or to a backup) did not reach the disk: the
	// disk or the quota is full, the file system is read-only, or it reported an I/O error
	// (ENOSPC, EDQUOT, EROFS, EFBIG, EIO), or bbolt could not commit for another reason. The
	// write is rolled back as a whole; everything committed before is intact and the store
	// stays usable, so the same write succeeds once there is room again. The error wraps the
	// system error (errors.Is(err, syscall.ENOSPC) works) and carries a *scheduler.RunError of
	// class scheduler.ClassStorageFailed, so scheduler.Classify reports "storage_failed"
	// without importing this package.
	ErrWriteFailed = errors.New("the store could not be written")
	// ErrSchemaNewer means the store was written by a newer worktray that this binary does not
	// know how to read. The file is left untouched.
	ErrSchemaNewer = errors.New("the store was written by a newer version of worktray")
	// ErrSchemaOutdated means a read-only open found a store that needs a migration, which only
	// a read-write open (the owner) performs.
	ErrSchemaOutdated = errors.New("the store needs an upgrade")
	// ErrNotInitialized means a read-only open found no store file at the path. (An existing
	// but empty file is ErrCorrupt: only a missing file means "no store yet".)
	ErrNotInitialized = errors.New("no store has been created yet")
)

// lockedError is ErrLocked for one file; it also unwraps to the bbolt timeout behind it.
type lockedError struct {
	path  string
	cause error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("worktray is already running (the store %s is locked by another process)", e.path)
}

func (e *lockedError) Unwrap() []error { return []error{ErrLocked, e.cause} }

// CorruptError is ErrCorrupt (or ErrUnreadable) for one store file. Its message is meant for
// the user as it is: it names the file, what is wrong, and the way out (the newest backup and
// the command that restores it). Use errors.As to get it from a wrapped error.
type CorruptError struct {
	// Path is the store file.
	Path string
	// Op says what found the problem ("open", "read orders", …).
	Op string
	// Cause is the underlying problem (a bbolt error, a recovered panic, a decode error).
	Cause error
	// Backup is the newest backup in the store's backup directory that passes the check at
	// open, or "" when there is none.
	Backup string
	// Unreadable is set when the file could not be read at all (ErrUnreadable) rather than
	// read and found damaged (ErrCorrupt).
	Unreadable bool
}

func (e *CorruptError) Error() string {
	what := "is damaged or is not a worktray store"
	if e.Unreadable {
		what = "cannot be read"
	}
	msg := fmt.Sprintf("the store %s %s; it was left untouched (%s: %v). ", e.Path, what, e.Op, e.Cause)
	if e.Unreadable {
		msg += "Check the file's owner and permissions (you must be able to read and write it) and the disk. "
	}
	if e.Backup != "" {
		return msg + fmt.Sprintf("The newest backup is %s: with worktray stopped, run `worktray backup restore %s` "+
			"(the current file is kept aside); `worktray backup list` shows every backup.", e.Backup, e.Backup)
	}
	return msg + fmt.Sprintf("There is no usable backup in %s: restore a copy of your own with `worktray backup restore FILE`, "+
		"or move the file away to start with an empty store.", DefaultBackupDir(e.Path))
}

// Unwrap lets errors.Is match ErrCorrupt or ErrUnreadable, the cause, and a storage_failed
// scheduler.RunError.
func (e *CorruptError) Unwrap() []error {
	sentinel := ErrCorrupt
	if e.Unreadable {
		sentinel = ErrUnreadable
	}
	what := "is damaged"
	if e.Unreadable {
		what = "cannot be read"
	}
	return []error{sentinel, e.Cause, &scheduler.RunError{Class: scheduler.ClassStorageFailed,
		Msg: fmt.Sprintf("the store %s %s; see `worktray diagnose`", e.Path, what)}}
}

// newCorrupt returns the CorruptError of the store at path, naming the newest usable backup in
// its default backup directory (each backup tried is opened and checked, newest first).
func newCorrupt(path, op string, cause error) *CorruptError {
	return &CorruptError{Path: path, Op: op, Cause: cause, Backup: newestUsableBackup(DefaultBackupDir(path))}
}

// writeError is ErrWriteFailed for one operation on one file.
type writeError struct {
	path, op string
	cause    error
}

func (e *writeError) Error() string {
	return fmt.Sprintf("store %s: %s: could not write to the disk: %v (nothing of this change was saved and what was saved "+
		"before is intact; free disk space or fix the file system, then it works again)", e.path, e.op, e.cause)
}

// Unwrap lets errors.Is match ErrWriteFailed and the system error, and errors.As find a
// scheduler.RunError of class storage_failed.
func (e *writeError) Unwrap() []error {
	return []error{ErrWriteFailed, e.cause, &scheduler.RunError{Class: scheduler.ClassStorageFailed,
		Msg: fmt.Sprintf("the store %s could not be written: %v", filepath.Base(e.path), e.cause)}}
}

// diskErrors are the system errors that mean a write did not reach the disk.
var diskErrors = []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EFBIG, syscall.EIO}

// isDiskError reports whether err is (or wraps) one of diskErrors.
func isDiskError(err error) bool {
	for _, e := range diskErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isCommitFailure reports whether err, returned by bbolt's Update when the transaction's own
// function returned nil, is a failure to write (and not a closed or read-only store, or a
// panic).
func isCommitFailure(err error) bool {
	switch {
	case errors.Is(err, bbolt.ErrDatabaseNotOpen), errors.Is(err, bbolt.ErrTxClosed),
		errors.Is(err, bbolt.ErrDatabaseReadOnly), errors.Is(err, errTxPanic):
		return false
	}
	return true
}

// isPermission reports whether err is a permission error of the file system.
func isPermission(err error) bool { return errors.Is(err, os.ErrPermission) }
