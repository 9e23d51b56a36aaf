package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// BackupKeep is how many daily backups the owner keeps.
const BackupKeep = 7

// DefaultBackupDir returns the backup directory of the store at storePath: "backups" beside
// it (paths.Paths.BackupDir names the same directory).
func DefaultBackupDir(storePath string) string {
	return filepath.Join(filepath.Dir(storePath), "backups")
}

// dailyName matches the file names DailyBackup writes: worktray-YYYY-MM-DD.db.
var dailyName = regexp.MustCompile(`^worktray-\d{4}-\d{2}-\d{2}\.db$`)

// DailyBackup takes the backup of now's calendar day (in now's location: pass the local time)
// unless the backup directory dir already holds one: a consistent copy of the store, written
// as dir/worktray-YYYY-MM-DD.db (see Backup), then verified like a store at open. Then it keeps
// the newest keep daily backups and removes older ones; other files in dir are never touched.
// It returns the day's backup path and whether it was taken now. The owner calls it after
// each successful scrape, so the backup of a day is taken after its first success.
//
// A copy that fails the check is removed and nothing is pruned; the error is then a
// *CorruptError of the store (the copy is page for page). A copy that cannot be written is
// ErrWriteFailed. It blocks while the copy is written (see Backup). Safe for concurrent use,
// though two concurrent calls for the same day may both copy.
func (db *DB) DailyBackup(ctx context.Context, dir string, now time.Time, keep int) (path string, taken bool, err error) {
	if keep < 1 {
		return "", false, db.wrap("daily backup", fmt.Errorf("keep must be at least 1, got %d", keep))
	}
	path = filepath.Join(dir, "worktray-"+now.Format("2006-01-02")+".db")
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if isDiskError(err) {
			return "", false, &writeError{path: db.path, op: "daily backup", cause: err}
		}
		return "", false, db.wrap("daily backup", err)
	}
	if err := db.Backup(ctx, path); err != nil {
		return "", false, err
	}
	if _, err := inspectBackup(path); err != nil {
		_ = os.Remove(path)
		var ce *CorruptError
		if errors.As(err, &ce) {
			err = ce.Cause
		}
		return "", false, newCorrupt(db.path, "daily backup (the copy failed the check and was removed)", err)
	}
	if err := pruneDaily(dir, keep); err != nil {
		return path, true, db.wrap("daily backup: remove old backups", err)
	}
	return path, true, nil
}

// pruneDaily removes the daily backups in dir but the newest keep (by the day in the name).
func pruneDaily(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var daily []string
	for _, e := range entries {
		if e.Type().IsRegular() && dailyName.MatchString(e.Name()) {
			daily = append(daily, e.Name())
		}
	}
	slices.Sort(daily)
	var errs []error
	for len(daily) > keep {
		if err := os.Remove(filepath.Join(dir, daily[0])); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		daily = daily[1:]
	}
	return errors.Join(errs...)
}

// BackupInfo describes one backup file.
type BackupInfo struct {
	// Path is the backup file.
	Path string `json:"path"`
	// Bytes is its size.
	Bytes int64 `json:"bytes"`
	// Time is when it was written (its modification time), in UTC.
	Time time.Time `json:"time"`
	// Orders is how many active (not removed) orders it holds; -1 when it is not readable.
	Orders int `json:"orders"`
	// Problem says why the file cannot be restored (it failed the check, or is newer than this
	// worktray); "" when it passed.
	Problem string `json:"problem,omitempty"`
}

// ListBackups returns the backups in dir (every regular *.db file, daily or copied there by
// hand), newest first, each opened read-only and checked as a store is at open. A missing dir
// is an empty list. It blocks while it reads each file; it never writes.
func ListBackups(dir string) ([]BackupInfo, error) {
	files, err := backupFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make([]BackupInfo, 0, len(files))
	for _, f := range files {
		info := BackupInfo{Path: f.path, Bytes: f.size, Time: f.mod.UTC(), Orders: -1}
		n, err := inspectBackup(f.path)
		if err != nil {
			info.Problem = backupProblem(err)
		} else {
			info.Orders = n
		}
		out = append(out, info)
	}
	return out, nil
}

// newestUsableBackup returns the newest backup in dir that passes the check at open, or "".
func newestUsableBackup(dir string) string {
	files, _ := backupFiles(dir)
	for _, f := range files {
		if _, err := inspectBackup(f.path); err == nil {
			return f.path
		}
	}
	return ""
}

type backupFile struct {
	path string
	size int64
	mod  time.Time
}

// backupFiles lists the *.db files in dir, newest first (then by name, descending).
func backupFiles(dir string) ([]backupFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", dir, err)
	}
	var out []backupFile
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || filepath.Ext(e.Name()) != ".db" {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, backupFile{path: filepath.Join(dir, e.Name()), size: fi.Size(), mod: fi.ModTime()})
	}
	slices.SortFunc(out, func(a, b backupFile) int {
		if c := b.mod.Compare(a.mod); c != 0 {
			return c
		}
		return strings.Compare(b.path, a.path)
	})
	return out, nil
}

// inspectBackup opens a backup read-only, checks it as Open checks a store (an older schema
// is fine: the owner migrates it after a restore) and returns its count of active orders.
func inspectBackup(path string) (int, error) {
	st, err := os.Stat(path)
	if err != nil {
		return -1, err
	}
	if st.Size() == 0 {
		return -1, newCorrupt(path, "check", errEmptyFile)
	}
	b, err := openBolt(path, Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return -1, err
	}
	defer b.Close()
	db := &DB{bolt: b, path: path, readOnly: true}
	err = db.transact("check", false, func(tx *bbolt.Tx) error {
		v, err := readVersion(tx)
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
	if err != nil {
		return -1, err
	}
	return db.OrderCount()
}

// backupProblem is the short text of why a backup cannot be used.
func backupProblem(err error) string {
	var ce *CorruptError
	switch {
	case errors.Is(err, ErrSchemaNewer):
		return "written by a newer worktray"
	case errors.As(err, &ce):
		if ce.Unreadable {
			return fmt.Sprintf("cannot be read: %v", ce.Cause)
		}
		return fmt.Sprintf("damaged: %v", ce.Cause)
	}
	return err.Error()
}
