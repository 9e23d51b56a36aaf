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
// for the copy. Safe for concurrent use.
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
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(ctxWriter{ctx: ctx, w: tmp})
		return err
	})
	if err != nil {
		return db.wrap(op, err)
	}
	if err := tmp.Sync(); err != nil {
		return db.wrap(op, err)
	}
	if err := tmp.Close(); err != nil {
		return db.wrap(op, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return db.wrap(op, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // Make the rename durable; not every file system supports it.
		_ = d.Close()
	}
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

// ctxWriter stops a copy when its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Check verifies the consistency of the whole file (every page reachable once, no page both
// free and in use…) and returns every problem found, joined. It reads the whole file in one
// read transaction. Safe for concurrent use.
func (db *DB) Check() error {
	var errs []error
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		return db.wrap("check", err)
	}
	if len(errs) > 0 {
		return db.wrap("check", errors.Join(errs...))
	}
	return nil
}
