package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the store to path while the store stays in use: the copy
// goes to a temporary file in path's directory, is synced and is renamed over path, so path is
// either the old file or a complete copy. The file is mode 0600. It blocks until the copy is
// written or ctx is done; writers are not blocked, but a write that must grow the file waits
// for the copy. Safe for concurrent use. A
// copy that cannot be written for lack of room is ErrWriteFailed (nothing is left behind).
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	op := fmt.Sprintf("back up to %s", path)
	if err := ctx.Err(); err != nil {
		return db.wrap(op, err)
	}
	if same, _ := samePath(path, db.path); same {
		return db.wrap(op, errors.New("the backup cannot replace the store itself"))
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return db.wrap(op, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return db.wrap(op, err)
	}
	w := &ctxWriter{ctx: ctx, w: tmp}
	err = db.view(op, func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
	if w.err != nil && isDiskError(w.err) {
		// bbolt's WriteTo formats the write error with %s, so it no longer matches: use the
		// writer's own.
		err = w.err
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if isDiskError(err) {
		return &writeError{path: db.path, op: op, cause: err}
	}
	if err != nil {
		return db.wrap(op, err)
	}
	syncDir(dir)
	return nil
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// ctxWriter stops a copy when its context is done, and keeps the first write error.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	err error
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
