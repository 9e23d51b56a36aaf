package store

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// writeRawStore writes a store file at the given schema version with bbolt directly, then
// lets fill add to it in the same transaction.
func writeRawStore(t *testing.T, path string, version int, fill func(tx *bbolt.Tx) error) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bbolt.Tx) error {
		if err := migrate(tx, path, version); err != nil {
			return err
		}
		if fill != nil {
			return fill(tx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func schemaVersion(t *testing.T, db *DB) int {
	t.Helper()
	var v int
	if err := db.bolt.View(func(tx *bbolt.Tx) (err error) { v, err = readVersion(tx); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenCreatesStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "worktray")
	path := filepath.Join(dir, "worktray.db")
	db := openTest(t, path, Options{})

	if v := schemaVersion(t, db); v != SchemaVersion || SchemaVersion < 2 {
		t.Errorf("schema version = %d, want %d (and at least 2)", v, SchemaVersion)
	}
	for _, p := range []struct {
		path string
		mode fs.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		st, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != p.mode {
			t.Errorf("%s has mode %v, want %v", p.path, st.Mode().Perm(), p.mode)
		}
	}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketSettings, bucketRuns, bucketOrders, bucketState, bucketKV,
			bucketSlots, bucketRunning, bucketOutbox, bucketSent} {
			if tx.Bucket(name) == nil {
				t.Errorf("bucket %s is missing", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the store's directory holds %d entries, want only the store (no temporary file)", len(entries))
	}
	if db.Path() != path || db.ReadOnly() {
		t.Errorf("Path() = %q, ReadOnly() = %v", db.Path(), db.ReadOnly())
	}
}

func TestOpenEmptyFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "worktray.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		db, err := Open(path, Options{ReadOnly: ro})
		if err == nil {
			_ = db.Close()
			t.Fatalf("Open(read-only=%v) of a zero-byte file succeeded", ro)
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Open(read-only=%v) = %v, want ErrCorrupt naming the file and saying it is empty", ro, err)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Errorf("the zero-byte file was changed: %v, %v", st, err)
	}
}

func TestMigrationsStepByStep(t *testing.T) {
	for i, m := range migrations {
		if m.apply == nil || m.name == "" {
			t.Fatalf("migration %d → %d is missing", i, i+1)
		}
	}
	for target := 1; target <= SchemaVersion; target++ {
		path := filepath.Join(t.TempDir(), "worktray.db")
		writeRawStore(t, path, target, nil)
		b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var v int
		_ = b.View(func(tx *bbolt.Tx) (err error) { v, err = readVersion(tx); return err })
		_ = b.Close()
		if v != target {
			t.Errorf("after migrating to %d the version is %d", target, v)
		}
	}
}

func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worktray.db")
	slot1, slot2, slot3 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	v1Runs := []scheduler.Run{
		{ID: 1, Trigger: scheduler.TriggerScheduled, Slot: slot1, Attempt: 1, Status: scheduler.StatusFailed},
		{ID: 2, Trigger: scheduler.TriggerRetry, Slot: slot1, Attempt: 2, Status: scheduler.StatusRunning},
		{ID: 3, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusMissed, Slot: slot2, MissedSlots: []time.Time{slot2, slot3}},
	}
	writeRawStore(t, path, 1, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketSlots) != nil || tx.Bucket(bucketOutbox) != nil {
			t.Error("a version 1 store already has the buckets of version 2")
		}
		runs := tx.Bucket(bucketRuns)
		for _, r := range v1Runs {
			if _, err := runs.NextSequence(); err != nil {
				return err
			}
			data, _ := json.Marshal(r)
			if err := runs.Put(u64key(r.ID), data); err != nil {
				return err
			}
		}
		return nil
	})

	db := openTest(t, path, Options{})
	if v := schemaVersion(t, db); v != SchemaVersion {
		t.Fatalf("schema version = %d, want %d", v, SchemaVersion)
	}
	for slot, want := range map[time.Time]uint64{slot1: 1, slot2: 3, slot3: 3} {
		r, err := db.RunBySlot(slot)
		if err != nil || r.ID != want {
			t.Errorf("RunBySlot(%v) = run %d, %v; want run %d", slot, r.ID, err, want)
		}
		if _, err := db.ClaimRun(scheduler.Run{Slot: slot, Attempt: 1, Status: scheduler.StatusRunning}); !errors.Is(err, scheduler.ErrSlotClaimed) {
			t.Errorf("claiming migrated slot %v: %v, want ErrSlotClaimed", slot, err)
		}
	}
	running, err := db.RunningRuns()
	if err != nil || len(running) != 1 || running[0].ID != 2 {
		t.Errorf("RunningRuns() = %+v, %v; want run 2", running, err)
	}
	// New runs continue the v1 sequence.
	r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if r.ID != 4 {
		t.Errorf("first run after the migration has id %d, want 4", r.ID)
	}
	if err := db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertTest}}); err != nil {
		t.Errorf("the outbox of version 2 does not work: %v", err)
	}
}

func TestOpenNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worktray.db")
	writeRawStore(t, path, SchemaVersion, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64key(uint64(SchemaVersion+1)))
	})
	before := fileBytes(t, path)
	for _, ro := range []bool{false, true} {
		db, err := Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchemaNewer) {
			if db != nil {
				_ = db.Close()
			}
			t.Fatalf("Open(read-only=%v) = %v, want ErrSchemaNewer", ro, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("the error does not name the file: %v", err)
		}
	}
	assertUnchanged(t, path, before)
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worktray.db")
	create(t, path)
	release := holdInChild(t, path, "rw")

	for _, ro := range []bool{false, true} {
		start := time.Now()
		db, err := Open(path, Options{ReadOnly: ro})
		elapsed := time.Since(start)
		if err == nil {
			_ = db.Close()
			t.Fatalf("Open(read-only=%v) succeeded while another process holds the store", ro)
		}
		if !errors.Is(err, ErrLocked) || !errors.Is(err, bbolt.ErrTimeout) {
			t.Errorf("Open(read-only=%v) = %v, want ErrLocked and bbolt.ErrTimeout", ro, err)
		}
		want := "worktray is already running (the store " + path + " is locked by another process)"
		if err.Error() != want {
			t.Errorf("error text = %q, want %q", err, want)
		}
		if elapsed > 1500*time.Millisecond {
			t.Errorf("Open(read-only=%v) took %v to give up, want about 1 s", ro, elapsed)
		}
	}

	release()
	openTest(t, path, Options{}) // the lock is free again
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing", "worktray.db")
		_, err := Open(path, Options{ReadOnly: true})
		if !errors.Is(err, ErrNotInitialized) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open = %v, want ErrNotInitialized naming %s", err, path)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a read-only open created the directory: %v", err)
		}
	})

	t.Run("older schema", func(t *testing.T) {
		path := filepath.Join(dir, "v1.db")
		writeRawStore(t, path, 1, nil)
		before := fileBytes(t, path)
		_, err := Open(path, Options{ReadOnly: true})
		if !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), "start worktray") {
			t.Errorf("Open = %v, want ErrSchemaOutdated telling to start worktray", err)
		}
		assertUnchanged(t, path, before)
	})

	t.Run("shared", func(t *testing.T) {
		path := filepath.Join(dir, "worktray.db")
		rw, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.PutSetting("general", map[string]int{"retention": 7}); err != nil {
			t.Fatal(err)
		}
		checkAndClose(t, rw)

		holdInChild(t, path, "ro") // another process reads too
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				db, err := Open(path, Options{ReadOnly: true})
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				var v map[string]int
				if ok, err := db.Setting("general", &v); err != nil || !ok || v["retention"] != 7 {
					errs <- errors.New("read-only open read the wrong setting")
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		ro := openTest(t, path, Options{ReadOnly: true})
		if !ro.ReadOnly() {
			t.Error("ReadOnly() = false")
		}
		if err := ro.PutSetting("general", 1); err == nil {
			t.Error("a read-only store accepted a write")
		}
		if _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
			t.Errorf("read-write open while readers hold the file = %v, want ErrLocked", err)
		}
	})
}

func TestOpenCorruptFileIsLeftUntouched(t *testing.T) {
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)

	cases := map[string]func(t *testing.T, path string){
		"text": func(t *testing.T, path string) {
			_ = os.WriteFile(path, []byte("these are my notes, not a database\n"), 0o600)
		},
		"random": func(t *testing.T, path string) { _ = os.WriteFile(path, random, 0o600) },
		"zeros":  func(t *testing.T, path string) { _ = os.WriteFile(path, make([]byte, 32<<10), 0o600) },
		"another program's bbolt file": func(t *testing.T, path string) {
			b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_ = b.Update(func(tx *bbolt.Tx) error {
				bk, _ := tx.CreateBucket([]byte("widgets"))
				return bk.Put([]byte("a"), []byte("b"))
			})
			_ = b.Close()
		},
		"damaged meta pages": func(t *testing.T, path string) {
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_ = db.PutSetting("general", "x")
			_ = db.Close()
			data := fileBytes(t, path)
			for _, page := range []int{0, 1} {
				for i := page*4096 + 16; i < page*4096+80; i++ {
					data[i] ^= 0xA5
				}
			}
			_ = os.WriteFile(path, data, 0o600)
		},
	}
	for name, write := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "worktray.db")
			write(t, path)
			before := fileBytes(t, path)
			for _, ro := range []bool{false, true} {
				db, err := Open(path, Options{ReadOnly: ro})
				if err == nil {
					_ = db.Close()
					t.Fatalf("Open(read-only=%v) of a corrupt file succeeded", ro)
				}
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
					t.Errorf("Open(read-only=%v) = %v, want ErrCorrupt naming the file", ro, err)
				}
				if ce := (*CorruptError)(nil); !errors.As(err, &ce) || ce.Cause == nil || ce.Path != path {
					t.Errorf("the error does not wrap its cause: %v", err)
				} else {
					t.Logf("read-only=%v: %v", ro, err)
				}
			}
			assertUnchanged(t, path, before)
		})
	}
}
