package store

import (
	"errors"
	"fmt"
)

// Sentinel errors of the store. Callers test them with errors.Is. The store also returns
// scheduler.ErrNotFound for a run, slot, alert or setting that does not exist and
// scheduler.ErrSlotClaimed when a slot already has a run.
var (
	// ErrLocked means another process holds the store file: worktray is already running. Open
	// returns it within Options.Timeout; the error also matches bbolt.ErrTimeout.
	ErrLocked = errors.New("worktray is already running")
	// ErrCorrupt means the file is not a readable worktray store (not a bbolt file, a damaged
	// one, or a bbolt file of another program). The file is left untouched.
	ErrCorrupt = errors.New("the store is corrupt or not a worktray store")
	// ErrSchemaNewer means the store was written by a newer worktray that this binary does not
	// know how to read. The file is left untouched.
	ErrSchemaNewer = errors.New("the store was written by a newer version of worktray")
	// ErrSchemaOutdated means a read-only open found a store that needs a migration, which only
	// a read-write open (the owner) performs.
	ErrSchemaOutdated = errors.New("the store needs an upgrade")
	// ErrNotInitialized means a read-only open found no store, or an empty file, at the path.
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

// corruptError is ErrCorrupt for one file with its cause.
type corruptError struct {
	path  string
	cause error
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("the store %s is corrupt or not a worktray store; it was left untouched (restore a backup or move it away): %v", e.path, e.cause)
}

func (e *corruptError) Unwrap() []error { return []error{ErrCorrupt, e.cause} }
