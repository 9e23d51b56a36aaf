package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"worktray/paths"
	"worktray/scheduler"
)

func TestBackupDirMatchesPaths(t *testing.T) {
	p := paths.Resolve(t.TempDir())
	if got := DefaultBackupDir(p.DB); got != p.BackupDir {
		t.Errorf("DefaultBackupDir(%s) = %s, paths say %s", p.DB, got, p.BackupDir)
	}
}

// TestDailyBackup takes the daily backup over 10 days, at several successful scrapes a day,
// in a zone far from UTC: one backup per local day, taken at the first call of the day, the
// newest 7 kept, other files in the directory untouched, each backup readable with the orders
// of its day.
func TestDailyBackup(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, filepath.Join(dir, "worktray.db"), Options{})
	backups := DefaultBackupDir(db.Path())
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(backups, "my-copy.db")
	if err := os.WriteFile(mine, []byte("kept by hand"), 0o600); err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	// 00:10 local is 18:40 UTC of the day before: the day is the local one.
	start := time.Date(2025, 3, 1, 0, 10, 0, 0, kolkata)
	ctx := context.Background()
	for day := range 10 {
		for i, hour := range []int{0, 9, 23} {
			now := start.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
			run := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
			run.Status = scheduler.StatusSucceeded
			if _, _, err := db.FinishRun(run, scrape(10+day, 0), now, nil); err != nil {
				t.Fatal(err)
			}
			path, taken, err := db.DailyBackup(ctx, backups, now, BackupKeep)
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(backups, "worktray-"+now.Format("2006-01-02")+".db")
			if path != want || taken != (i == 0) {
				t.Errorf("day %d %02d:10: DailyBackup = %s, taken %v; want %s, taken %v", day, hour, path, taken, want, i == 0)
			}
		}
		list, err := ListBackups(backups)
		if err != nil {
			t.Fatal(err)
		}
		var daily []BackupInfo
		for _, b := range list {
			if b.Path != mine {
				daily = append(daily, b)
			} else if b.Problem == "" || b.Orders != -1 {
				t.Errorf("a file that is not a store is listed as usable: %+v", b)
			}
		}
		if want := min(day+1, BackupKeep); len(daily) != want {
			t.Fatalf("after day %d: %d daily backups, want %d", day, len(daily), want)
		}
		// The newest backup holds the first scrape of its day: 10+day orders.
		if daily[0].Orders != 10+day || daily[0].Problem != "" || daily[0].Bytes <= 0 {
			t.Errorf("after day %d the newest backup is %+v, want %d orders", day, daily[0], 10+day)
		}
		if !slices.IsSortedFunc(daily, func(a, b BackupInfo) int { return b.Time.Compare(a.Time) }) {
			t.Errorf("backups not newest first: %+v", daily)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file of the user's in the backup directory was removed: %v", err)
	}
	if _, _, err := db.DailyBackup(ctx, backups, start, 0); err == nil {
		t.Error("DailyBackup with keep 0 succeeded")
	}
}

// TestRestore restores a backup over a damaged store: the backup is checked first, the
// damaged file is kept aside, and the store opens with the backup's orders. A damaged backup
// and a store held by another process are refused without changing anything.
func TestRestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "worktray.db")
	fillGoodStore(t, path)
	rw, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := dump(t, rw)
	backupPath, _, err := rw.DailyBackup(context.Background(), DefaultBackupDir(path), t0, BackupKeep)
	if err != nil {
		t.Fatal(err)
	}

	// While the store is open (an owner runs), restore is refused.
	now := t0.Add(24 * time.Hour)
	if _, err := Restore(context.Background(), path, backupPath, now); !errors.Is(err, ErrLocked) {
		t.Errorf("Restore while the store is open = %v, want ErrLocked", err)
	}
	checkAndClose(t, rw)

	// Damage the store, then restore.
	ids, pageSize := pagesInUse(t, path)
	damaged := fileBytes(t, path)
	for _, id := range ids[len(ids)/2:] {
		copy(damaged[id*pageSize+16:], strings.Repeat("\x01", 64))
	}
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{ReadOnly: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "worktray backup restore "+backupPath) {
		t.Fatalf("Open of the damaged store = %v, want ErrCorrupt naming the backup %s", err, backupPath)
	}

	// A damaged backup is refused and nothing changes.
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), path, bad, now); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("Restore of a damaged backup = %v, want ErrCorrupt saying nothing changed", err)
	}
	assertUnchanged(t, path, damaged)

	res, err := Restore(context.Background(), path, backupPath, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Orders <= 0 || res.Replaced == "" || res.Store != path || res.Backup != backupPath {
		t.Errorf("Restore = %+v", res)
	}
	assertUnchanged(t, res.Replaced, damaged)
	if _, err := os.Stat(backupPath); err != nil {
		t.Errorf("the restored backup is gone: %v", err)
	}
	restored := openTest(t, path, Options{ReadOnly: true})
	if d := diffDumps(want, dump(t, restored)); len(d) > 0 {
		t.Errorf("the restored store differs from the backed-up one: %v", d)
	}
	if n, err := restored.OrderCount(); err != nil || n != res.Orders {
		t.Errorf("OrderCount() = %d, %v; Restore said %d", n, err, res.Orders)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("restored store: %v, %v; want mode 0600", st, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("restore left %s behind", e.Name())
		}
	}
}

// TestCorruptNamesNewestUsableBackup: the way out a CorruptError names is the newest backup
// that passes the check, not a newer damaged one.
func TestCorruptNamesNewestUsableBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "worktray.db")
	db := openTest(t, path, Options{})
	backups := DefaultBackupDir(path)
	day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	older, _, err := db.DailyBackup(context.Background(), backups, day, BackupKeep)
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(backups, "worktray-2025-03-02.db")
	if err := os.WriteFile(newer, []byte("not a store"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(older, old, old); err != nil {
		t.Fatal(err)
	}
	ce := newCorrupt(path, "read", errors.New("damage"))
	if ce.Backup != older || !strings.Contains(ce.Error(), "worktray backup restore "+older) {
		t.Errorf("CorruptError names %q: %v; want the usable %s", ce.Backup, ce, older)
	}
	if err := os.Remove(older); err != nil {
		t.Fatal(err)
	}
	if ce := newCorrupt(path, "read", errors.New("damage")); ce.Backup != "" || !strings.Contains(ce.Error(), "no usable backup in "+backups) {
		t.Errorf("with only a damaged backup: %v", ce)
	}
}
