package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"worktray/scheduler"
)

// mountSmallFS mounts a tmpfs of size bytes on a new directory and unmounts it at cleanup. It
// skips the test when mounting is not permitted (not root, or no CAP_SYS_ADMIN in a
// container).
func mountSmallFS(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with CAP_SYS_ADMIN): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// assertWriteFailed checks that err is nil or ErrWriteFailed of class storage_failed wrapping
// ENOSPC, and reports whether it failed.
func assertWriteFailed(t *testing.T, op string, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if !errors.Is(err, ErrWriteFailed) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%s on a full disk: %v, want ErrWriteFailed wrapping ENOSPC", op, err)
	}
	if class, _ := scheduler.Classify(err); class != scheduler.ClassStorageFailed {
		t.Errorf("%s on a full disk: class %q, want %q", op, class, scheduler.ClassStorageFailed)
	}
	return true
}

// TestFullDisk puts the store on a real, small file system, fills it, and calls every write
// API: each either succeeds (bbolt reuses free pages already on disk) or fails with
// ErrWriteFailed (storage_failed, wrapping ENOSPC) and writes nothing; the store stays
// consistent after each. A scrape too large for the free pages must fail. Then the disk gets
// room again: the store, reopened, holds exactly what was committed, and the scrape that
// failed succeeds.
func TestFullDisk(t *testing.T) {
	dir := mountSmallFS(t, 8<<20)
	path := filepath.Join(dir, "data", "worktray.db")
	db, err := Open(path, Options{Clock: nil})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			checkAndClose(t, db)
		}
	})
	first := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0, Attempt: 1, Status: scheduler.StatusRunning})
	first.Status, first.Finished = scheduler.StatusSucceeded, t0.Add(time.Minute)
	if _, _, err := db.FinishRun(first, scrape(200, 0), t0, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertTest}, {Kind: scheduler.AlertTest}}); err != nil {
		t.Fatal(err)
	}

	filler := fillDisk(t, dir)
	committed := dump(t, db)
	big := scrape(3000, 1)
	failures := 0
	step := func(op string, fn func() error) {
		t.Helper()
		before := dump(t, db)
		err := fn()
		if assertWriteFailed(t, op, err) {
			failures++
			if d := diffDumps(before, dump(t, db)); len(d) > 0 {
				t.Errorf("%s failed but changed the store: %v", op, d)
			}
		}
		if err := db.Check(); err != nil {
			t.Fatalf("after %s on a full disk: %v", op, err)
		}
		committed = dump(t, db)
	}
	// Use up the free pages the file already has, so that the small writes below need new
	// ones too: settings of 4 KB, one more each time, until one fails.
	for i := 0; ; i++ {
		err := db.PutSetting(fmt.Sprintf("filler-%d", i), strings.Repeat("f", 4<<10))
		if assertWriteFailed(t, "PutSetting (filling)", err) {
			break
		}
		if i > 10_000 {
			t.Fatal("10,000 settings of 4 KB fitted on a full disk")
		}
	}
	committed = dump(t, db)
	var run scheduler.Run
	step("FinishRun with 3,000 orders", func() error {
		r := first
		r.Message = "too large for the disk"
		_, _, err := db.FinishRun(r, big, t0.Add(time.Hour), nil)
		if err == nil {
			t.Error("a scrape of 3,000 orders was saved on a full disk")
		}
		return err
	})
	step("ClaimRun", func() (err error) {
		run, err = db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Hour), Attempt: 1, Status: scheduler.StatusRunning})
		return err
	})
	step("UpdateRun", func() error { return db.UpdateRun(first) })
	step("SaveSchedule", func() error { return db.SaveSchedule(scheduler.DefaultSchedule("Asia/Kolkata")) })
	step("PutSetting (64 KB)", func() error { return db.PutSetting("general", strings.Repeat("x", 64<<10)) })
	step("SaveRetention", func() error { return db.SaveRetention(Retention{KeepRuns: 500}) })
	step("SaveCookies", func() error { return db.SaveCookies([]byte(strings.Repeat("c", 8<<10))) })
	step("UpdateState", func() error {
		_, err := db.UpdateState(func(st *scheduler.State) error { st.ConsecutiveFailures++; return nil })
		return err
	})
	step("UpdateStateAndEnqueue", func() error {
		_, err := db.UpdateStateAndEnqueue(func(st *scheduler.State) []scheduler.Alert {
			return []scheduler.Alert{{Kind: scheduler.AlertTest}}
		})
		return err
	})
	step("EnqueueAlerts", func() error { return db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertTest}}) })
	step("UpdateAlert", func() error { return db.UpdateAlert(scheduler.Alert{ID: 1, Kind: scheduler.AlertTest, Attempts: 1}) })
	step("AckAlert", func() error { return db.AckAlert(1, t0) })
	step("DeleteAlert", func() error { return db.DeleteAlert(2) })
	step("PruneRuns", func() error { _, err := db.PruneRuns(1); return err })
	step("SaveScheduleAt", func() error { return db.SaveScheduleAt(scheduler.DefaultSchedule("Europe/Paris"), t0) })
	step("SaveScheduleRev", func() error {
		rev, err := db.Revision("schedule")
		if err != nil {
			return err
		}
		_, err = db.SaveScheduleRev(rev, scheduler.DefaultSchedule("Europe/Berlin"))
		return err
	})
	step("PutSettingAt", func() error {
		rev, err := db.Revision("general")
		if err != nil {
			return err
		}
		_, err = db.PutSettingAt("general", rev, strings.Repeat("y", 32<<10))
		return err
	})
	step("SaveRetentionAt", func() error {
		rev, err := db.Revision(RetentionKey)
		if err != nil {
			return err
		}
		_, err = db.SaveRetentionAt(rev, Retention{KeepRuns: 700})
		return err
	})
	step("SaveAlertDelivery", func() error {
		return db.SaveAlertDelivery(scheduler.AlertDelivery{Held: &scheduler.DeliveryHold{}})
	})
	step("MarkAllSeen", func() error { _, err := db.MarkAllSeen(); return err })
	step("MarkSeen", func() error { _, err := db.MarkSeen("P0000001"); return err })
	step("ReleaseMissedSlots", func() error { _, err := db.ReleaseMissedSlots(t0); return err })
	step("Backup", func() error { return db.Backup(context.Background(), filepath.Join(dir, "copy.db")) })
	step("DailyBackup", func() error {
		_, _, err := db.DailyBackup(context.Background(), DefaultBackupDir(path), t0, BackupKeep)
		return err
	})
	t.Logf("%d of 24 writes failed with ErrWriteFailed on the full disk; the others fitted in free pages", failures)
	for _, d := range []string{dir, filepath.Dir(path), DefaultBackupDir(path)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".tmp") || e.Name() == "copy.db" || strings.HasPrefix(e.Name(), "worktray-") {
				t.Errorf("a failed write left %s in %s", e.Name(), d)
			}
		}
	}

	// Room again: nothing committed was lost, and the scrape goes through.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	checkAndClose(t, db)
	closed = true
	db = openTest(t, path, Options{})
	if d := diffDumps(committed, dump(t, db)); len(d) > 0 {
		t.Errorf("after the disk had room again the store differs from what was committed: %v", d)
	}
	if run.ID == 0 {
		run = claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	}
	run.Status = scheduler.StatusSucceeded
	if _, diff, err := db.FinishRun(run, big, t0.Add(2*time.Hour), nil); err != nil || diff.Found != 3000 {
		t.Fatalf("FinishRun with room again = %+v, %v", diff, err)
	}
	if n, err := db.OrderCount(); err != nil || n != 3000 {
		t.Errorf("OrderCount() = %d, %v; want 3000", n, err)
	}
}
