package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Backup is the file that was restored.
	Backup string `json:"backup"`
	// Store is the store file it replaced.
	Store string `json:"store"`
	// Orders is how many active orders the restored store holds.
	Orders int `json:"orders"`
	// Replaced is where the replaced store file was kept, beside the store
	// (worktray-replaced-YYYYMMDD-HHMMSS.db); "" when there was no store file.
	Replaced string `json:"replaced,omitempty"`
}

// Restore replaces the store at storePath with the backup file backup. First the backup is
// checked as Open checks a store (a damaged or newer backup is refused and nothing changes);
// then, holding the store's file lock (so it is refused with ErrLocked while an owner or any
// other process has the store open), the backup is copied beside the store, synced, the old
// store file is kept aside as worktray-replaced-<now in UTC>.db in the same directory, and the
// copy is renamed over storePath: the store is either the old file or the whole backup. The
// backup file itself is left in place. An older schema is fine: the next owner migrates it.
//
// Errors: ErrLocked; ErrCorrupt or ErrSchemaNewer for a backup that cannot be used;
// ErrWriteFailed when the copy cannot be written. It blocks while it copies; ctx stops the
// copy. Not safe to call concurrently for the same store.
func Restore(ctx context.Context, storePath, backup string, now time.Time) (RestoreResult, error) {
	res := RestoreResult{Backup: backup, Store: storePath}
	fail := func(err error) (RestoreResult, error) {
		return RestoreResult{}, fmt.Errorf("restore %s to %s: %w", backup, storePath, err)
	}
	if same, _ := samePath(backup, storePath); same {
		return fail(errors.New("the backup is the store itself"))
	}
	n, err := inspectBackup(backup)
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			sentinel := ErrCorrupt
			if ce.Unreadable {
				sentinel = ErrUnreadable
			}
			err = fmt.Errorf("%w: %s: %w; nothing was changed", sentinel, ce.Op, ce.Cause)
		}
		return fail(fmt.Errorf("the backup failed its check: %w", err))
	}
	res.Orders = n

	unlock, err := lockStore(storePath)
	if err != nil {
		return fail(err)
	}
	defer unlock()

	dir := filepath.Dir(storePath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	tmp, err := copyToTemp(ctx, backup, dir, "."+filepath.Base(storePath)+".restore-*")
	if err != nil {
		if isDiskError(err) {
			return fail(&writeError{path: storePath, op: "restore", cause: err})
		}
		return fail(err)
	}
	defer os.Remove(tmp) // After the rename, there is nothing left to remove.

	if _, err := os.Lstat(storePath); err == nil {
		res.Replaced, err = keepAside(storePath, now)
		if err != nil {
			return fail(fmt.Errorf("keep the replaced store aside: %w", err))
		}
	}
	if err := os.Rename(tmp, storePath); err != nil {
		return fail(err)
	}
	syncDir(dir)
	return res, nil
}

// lockStore takes the exclusive file lock bbolt's read-write open takes, without waiting, so
// that no process has the store open while it is replaced. A missing store needs no lock.
func lockStore(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &lockedError{path: path, cause: err}
		}
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// copyToTemp copies src to a new file (mode 0600) in dir, synced, and returns its name.
func copyToTemp(ctx context.Context, src, dir, pattern string) (name string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = out.Close()
			_ = os.Remove(out.Name())
		}
	}()
	if err := out.Chmod(0o600); err != nil {
		return "", err
	}
	if _, err := io.Copy(&ctxWriter{ctx: ctx, w: out}, in); err != nil {
		return "", err
	}
	if err := out.Sync(); err != nil {
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return out.Name(), nil
}

// keepAside links the store file to worktray-replaced-<now>.db beside it (a new name if that
// exists) and returns that name; the store's own name still points at it until the rename.
func keepAside(storePath string, now time.Time) (string, error) {
	base := filepath.Join(filepath.Dir(storePath), "worktray-replaced-"+now.UTC().Format("20060102-150405"))
	for i := 0; i < 100; i++ {
		name := base + ".db"
		if i > 0 {
			name = fmt.Sprintf("%s-%d.db", base, i)
		}
		err := os.Link(storePath, name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("too many replaced stores named %s*.db", base)
}
