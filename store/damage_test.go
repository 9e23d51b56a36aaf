package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// fillGoodStore writes a store at path with every kind of record: a schedule, settings, 300
// orders (some removed), 400 runs (one still running), the state, cookies, pending and sent
// alerts. It returns the portal ids of the orders.
func fillGoodStore(t testing.TB, path string) {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer checkAndClose(t, db)
	db.bolt.NoSync = true // The layout is the same; only the fsyncs are skipped, to save time.
	if err := db.SaveSchedule(scheduler.DefaultSchedule("Europe/London")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting("general", map[string]any{"start_at_login": true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCookies([]byte(`[{"name":"session","value":"abc"}]`)); err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		r := claim(t, db, scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Duration(i) * time.Hour),
			Attempt: 1, Status: scheduler.StatusRunning})
		done := sampleRun(i)
		done.ID = r.ID
		var scraped []scheduler.Order
		if i%100 == 0 {
			// A tenth of the orders changes each time (a change history), some are removed.
			scraped = scrape(300, i/100)[:300-i/10]
		}
		if _, _, err := db.FinishRun(done, scraped, done.Finished, func(run *scheduler.Run, _ scheduler.Diff, st *scheduler.State) []scheduler.Alert {
			st.Cursor = run.Slot
			if i%50 == 0 {
				return []scheduler.Alert{{Kind: scheduler.AlertTest, Title: fmt.Sprintf("alert %d", i)}}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	claim(t, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	pending, err := db.PendingAlerts(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pending[:len(pending)/2] {
		if err := db.AckAlert(a.ID, t0); err != nil {
			t.Fatal(err)
		}
	}
}

// readEverything calls every read API of the store and returns what each returned, by name.
// An API that fails records its error instead.
func readEverything(db *DB) (results map[string]any, errs map[string]error) {
	results, errs = map[string]any{}, map[string]error{}
	record := func(name string, v any, err error) {
		if err != nil {
			errs[name] = err
			return
		}
		results[name] = v
	}
	s, err := db.Schedule()
	sj, _ := json.Marshal(s)
	record("Schedule", string(sj), err)
	var general map[string]any
	_, err = db.Setting("general", &general)
	record("Setting", general, err)
	ret, err := db.Retention()
	record("Retention", ret, err)
	st, err := db.State()
	record("State", st, err)
	cookies, err := db.LoadCookies()
	record("LoadCookies", cookies, err)
	runs, err := db.Runs(RunQuery{})
	record("Runs", runs, err)
	latest, err := db.LatestRuns(50)
	record("LatestRuns", latest, err)
	failed, err := db.Runs(RunQuery{OnlyFailed: true})
	record("Runs(failed)", failed, err)
	running, err := db.RunningRuns()
	record("RunningRuns", running, err)
	for _, id := range []uint64{1, 100, 250, 401} {
		r, err := db.Run(id)
		record("Run "+strconv.FormatUint(id, 10), r, err)
	}
	for _, h := range []int{0, 99, 399} {
		r, err := db.RunBySlot(t0.Add(time.Duration(h) * time.Hour))
		record(fmt.Sprintf("RunBySlot %d", h), r, err)
	}
	orders, err := db.Orders(true)
	record("Orders", orders, err)
	active, err := db.ActiveOrders()
	record("ActiveOrders", active, err)
	n, err := db.OrderCount()
	record("OrderCount", n, err)
	for _, id := range []string{"P0000000", "P0000150", "P0000299"} {
		o, err := db.Order(id)
		record("Order "+id, o, err)
	}
	for _, id := range []string{"P0000000", "P0000150"} {
		h, err := db.OrderHistory(id)
		record("OrderHistory "+id, h, err)
	}
	o, err := db.OrderByNumber("W-000010")
	record("OrderByNumber", o, err)
	claimed, err := db.SlotClaimed(t0.Add(17 * time.Hour))
	record("SlotClaimed", claimed, err)
	slots, err := db.ClaimedSlots(t0, t0.Add(1000*time.Hour))
	record("ClaimedSlots", slots, err)
	delivery, err := db.AlertDelivery()
	record("AlertDelivery", delivery, err)
	rev, err := db.Revision("schedule")
	record("Revision", rev, err)
	pending, err := db.PendingAlerts(0)
	record("PendingAlerts", pending, err)
	sent, err := db.SentAlerts(0)
	record("SentAlerts", sent, err)
	record("Check", nil, db.Check())
	return results, errs
}

// damagePage overwrites 64 bytes of page id at offset off with random bytes from rng; every
// eighth byte is a control character, so a damaged JSON value never decodes as another valid
// one by chance.
func damagePage(t testing.TB, path string, pageSize, id, off int, rng *rand.Rand) {
	t.Helper()
	data := fileBytes(t, path)
	start := id*pageSize + off
	for i := range 64 {
		b := byte(rng.UintN(256))
		if i%8 == 0 {
			b = byte(rng.UintN(0x20))
		}
		data[start+i] = b
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// pagesInUse returns the ids of the pages of the file that are in use (not free, not meta) and
// the page size.
func pagesInUse(t testing.TB, path string) ([]int, int) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var ids []int
	err = b.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				return nil
			}
			if p.Type != "free" {
				ids = append(ids, id)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, b.Info().PageSize
}

// damageCases is how many random damages TestDamagedPages tries: WORKTRAY_DAMAGE_CASES (make
// soak sets 2,000), or 40 (5 under the race detector).
func damageCases() int {
	if n, err := strconv.Atoi(os.Getenv("WORKTRAY_DAMAGE_CASES")); err == nil && n > 0 {
		return n
	}
	if raceEnabled {
		return 5
	}
	return 40
}

// TestDamagedPages overwrites 64 bytes of one page in use of a good store, at a random page
// and offset, many times (the seed is printed; WORKTRAY_DAMAGE_SEED repeats a run). After
// each damage, for a read-write and a read-only open: either Open fails with a *CorruptError
// naming the file, the newest backup and the restore command, or every read API returns
// exactly what it returned before the damage or such an error. Never a panic, never a
// silently different answer.
func TestDamagedPages(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("WORKTRAY_DAMAGE_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (WORKTRAY_DAMAGE_SEED=%d repeats it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillGoodStore(t, good)
	ids, pageSize := pagesInUse(t, good)
	want := func() map[string]any {
		db := openTest(t, good, Options{ReadOnly: true})
		results, errs := readEverything(db)
		if len(errs) > 0 {
			t.Fatalf("the good store fails reads: %v", errs)
		}
		return results
	}()

	caseDir := filepath.Join(dir, "case")
	path := filepath.Join(caseDir, "worktray.db")
	backups := DefaultBackupDir(path)
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	newest := filepath.Join(backups, "worktray-2025-03-10.db")
	if err := os.WriteFile(newest, fileBytes(t, good), 0o600); err != nil {
		t.Fatal(err)
	}
	goodBytes := fileBytes(t, good)

	var refusedAtOpen, foundByRead, harmless int
	for i := range damageCases() {
		id, off := ids[rng.IntN(len(ids))], rng.IntN(pageSize-64)
		label := fmt.Sprintf("case %d: page %d offset %d", i, id, off)
		for _, ro := range []bool{true, false} {
			if err := os.WriteFile(path, goodBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			damagePage(t, path, pageSize, id, off, rand.New(rand.NewPCG(seed, uint64(i))))
			db, err := Open(path, Options{ReadOnly: ro})
			if err != nil {
				assertCorruptMessage(t, label, err, path, newest)
				refusedAtOpen++
				continue
			}
			results, errs := readEverything(db)
			_ = db.Close()
			for name, err := range errs {
				if !errors.Is(err, scheduler.ErrNotFound) {
					assertCorruptMessage(t, label+": "+name, err, path, newest)
				}
			}
			for name, v := range results {
				if !reflect.DeepEqual(v, want[name]) {
					t.Errorf("%s (read-only=%v): %s returned a different answer from a damaged store and no error", label, ro, name)
				}
			}
			if len(errs) > 0 {
				foundByRead++
			} else {
				harmless++
			}
		}
	}
	t.Logf("%d opens of damaged copies: %d refused at open, %d opened and a read found the damage, %d harmless (damage in unused bytes)",
		refusedAtOpen+foundByRead+harmless, refusedAtOpen, foundByRead, harmless)
	if refusedAtOpen == 0 {
		t.Error("no damage was found at open: the check does not look at the pages")
	}

	// The same damages while the store is open (the check at open passed; bbolt reads the
	// file through a shared mapping, so it sees the damage): every read API returns data or a
	// CorruptError naming the file, and never panics. Without the check at open a damaged
	// key can reorder a list silently; those answers are counted, not failed.
	var readErrors, differing int
	for i := range damageCases() {
		id, off := ids[rng.IntN(len(ids))], rng.IntN(pageSize-64)
		label := fmt.Sprintf("case %d after open: page %d offset %d", i, id, off)
		if err := os.WriteFile(path, goodBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		damageInPlace(t, path, int64(id*pageSize+off), rand.New(rand.NewPCG(seed, uint64(i)+1<<32)))
		results, errs := readEverything(db)
		_ = db.Close()
		for name, err := range errs {
			if !errors.Is(err, scheduler.ErrNotFound) {
				assertCorruptMessage(t, label+": "+name, err, path, newest)
				readErrors++
			}
		}
		for name, v := range results {
			if !reflect.DeepEqual(v, want[name]) {
				differing++
				t.Logf("%s: %s answered differently without an error", label, name)
			}
		}
	}
	t.Logf("damage after open: %d reads failed with a CorruptError, %d answered differently without one", readErrors, differing)
	if readErrors == 0 {
		t.Error("no read noticed damage done after open")
	}
}

// damageInPlace overwrites 64 bytes of the file at off (as damagePage does) without
// truncating it, so that a store holding it open sees the change.
func damageInPlace(t testing.TB, path string, off int64, rng *rand.Rand) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(rng.UintN(256))
		if i%8 == 0 {
			b[i] = byte(rng.UintN(0x20))
		}
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// assertCorruptMessage checks that err is a CorruptError of path with the way out.
func assertCorruptMessage(t *testing.T, label string, err error, path, backup string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Errorf("%s: error %v, want a CorruptError", label, err)
		return
	}
	msg := err.Error()
	for _, s := range []string{path, backup, "worktray backup restore " + backup} {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: the message lacks %q: %s", label, s, msg)
		}
	}
	if strings.Contains(msg, "goroutine ") {
		t.Errorf("%s: the message holds a stack trace: %s", label, msg)
	}
	var re *scheduler.RunError
	if !errors.As(err, &re) || re.Class != scheduler.ClassStorageFailed {
		t.Errorf("%s: the error does not classify as storage_failed: %v", label, err)
	}
}

// TestDamagedLeafHeaders damages the element headers of every leaf page in use (the bytes
// right after the page header, where bbolt keeps each key's and value's position and size):
// the damage the issue describes, which made every command panic. Each is refused at open.
// Under the race detector every fourth page is tried.
func TestDamagedLeafHeaders(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillGoodStore(t, good)
	ids, pageSize := pagesInUse(t, good)
	if raceEnabled {
		var some []int
		for i := 0; i < len(ids); i += 4 {
			some = append(some, ids[i])
		}
		ids = some
	}
	path := filepath.Join(dir, "case", "worktray.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := os.WriteFile(path, fileBytes(t, good), 0o600); err != nil {
			t.Fatal(err)
		}
		damagePage(t, path, pageSize, id, 16, rand.New(rand.NewPCG(uint64(id), 1)))
		for _, ro := range []bool{true, false} {
			db, err := Open(path, Options{ReadOnly: ro})
			if err == nil {
				_ = db.Close()
				t.Errorf("page %d: Open(read-only=%v) of a store whose page %d has damaged element headers succeeded", id, ro, id)
				continue
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no usable backup in "+DefaultBackupDir(path)) {
				t.Errorf("page %d: Open = %v, want ErrCorrupt saying there is no backup", id, err)
			}
		}
	}
}

// BenchmarkOpenCheck opens a store of 5,000 orders and 10,000 runs (about 9 MB) read-only and
// read-write, with the check at open, and reports the check alone (verify: page headers,
// every value read, bbolt's tx.Check): the cost every command and the owner pay at open.
func BenchmarkOpenCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), "worktray.db")
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	fillRuns(b, db, 10_000)
	run := claim(b, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if _, _, err := db.FinishRun(run, scrape(5000, 0), t0, nil); err != nil {
		b.Fatal(err)
	}
	checkAndClose(b, db)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, ro := range []bool{true, false} {
		b.Run(fmt.Sprintf("open read-only=%v", ro), func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				db, err := Open(path, Options{ReadOnly: ro})
				if err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(st.Size()), "file-bytes")
		})
	}
	b.Run("check only", func(b *testing.B) {
		db := openTest(b, path, Options{ReadOnly: true})
		cpu := cpuTime()
		for b.Loop() {
			if err := db.Check(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
}

// cpuTime returns the CPU time (user and system) this process used so far, in nanoseconds: a
// figure that, unlike ns/op, does not grow when other processes share the cores.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
