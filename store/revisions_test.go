package store

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
)

// TestRevisionsRandomized writes the settings in a random sequence of plain writes, writes at the
// current revision and writes at an old one (seed printed), and checks after every step: a
// setting's revision counts its successful writes; a stale write is refused with a
// *StaleRevisionError naming both revisions and changes neither the value nor the revision; an
// invalid value changes nothing.
func TestRevisionsRandomized(t *testing.T) {
	db := newDB(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	want := map[string]uint64{}
	values := map[string]int{} // the KeepRuns / Minute / FailureThreshold-like value last written
	type val struct {
		N int `json:"n"`
	}
	read := func(key string) int {
		switch key {
		case "schedule":
			sc, err := db.Schedule()
			if errors.Is(err, scheduler.ErrNotFound) {
				return -1
			}
			if err != nil {
				t.Fatal(err)
			}
			return sc.Minute
		case RetentionKey:
			r, err := db.Retention()
			if err != nil {
				t.Fatal(err)
			}
			return r.KeepRuns
		default:
			var v val
			ok, err := db.Setting(key, &v)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return -1
			}
			return v.N
		}
	}
	keys := []string{"schedule", RetentionKey, "portal", "alerts"}
	for _, k := range keys {
		values[k] = read(k)
	}
	for step := range 300 {
		key := keys[rng.IntN(len(keys))]
		n := rng.IntN(50)
		based := want[key]
		mode := rng.IntN(4) // 0 plain, 1 current revision, 2 stale revision, 3 invalid value
		if mode == 2 {
			if based == 0 {
				based = 1 + uint64(rng.IntN(3))
			} else {
				based = uint64(rng.IntN(int(based)))
			}
		}
		var (
			rev uint64
			err error
		)
		switch key {
		case "schedule":
			sc := scheduler.DefaultSchedule("UTC")
			sc.Minute = n
			if mode == 3 {
				sc.Minute = 60 + n
			}
			if mode == 0 {
				err = db.SaveSchedule(sc)
			} else {
				rev, err = db.SaveScheduleRev(based, sc)
			}
			if mode != 3 {
				n = sc.Minute
			}
		case RetentionKey:
			r := Retention{KeepRuns: MinKeepRuns + n}
			if mode == 3 {
				r.KeepRuns = 1
			}
			if mode == 0 {
				err = db.SaveRetention(r)
			} else {
				rev, err = db.SaveRetentionAt(based, r)
			}
			n = r.KeepRuns
		default:
			if mode == 3 {
				mode = 1 // no validation for plain settings
			}
			if mode == 0 {
				err = db.PutSetting(key, val{n})
			} else {
				rev, err = db.PutSettingAt(key, based, val{n})
			}
		}
		switch {
		case mode == 3:
			var ve scheduler.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("step %d: invalid %s write: %v, want a ValidationError", step, key, err)
			}
		case mode == 2:
			var se *StaleRevisionError
			if !errors.As(err, &se) || !errors.Is(err, ErrStaleRevision) || se.Based != based || se.Current != want[key] || se.Setting != key {
				t.Fatalf("step %d: %s write at stale revision %d (current %d): %v", step, key, based, want[key], err)
			}
		default:
			if err != nil {
				t.Fatalf("step %d: %s write: %v", step, key, err)
			}
			want[key]++
			values[key] = n
			if mode == 1 && rev != want[key] {
				t.Fatalf("step %d: %s write returned revision %d, want %d", step, key, rev, want[key])
			}
		}
		for _, k := range keys {
			got, err := db.Revision(k)
			if err != nil {
				t.Fatal(err)
			}
			if got != want[k] {
				t.Fatalf("step %d: %s at revision %d, want %d", step, k, got, want[k])
			}
			if v := read(k); v != values[k] {
				t.Fatalf("step %d: %s holds %d, want %d", step, k, v, values[k])
			}
		}
	}
}

// TestRevisionConcurrentWriters: writers that all read the same revision race to save; exactly
// one succeeds and the store holds its value.
func TestRevisionConcurrentWriters(t *testing.T) {
	db := newDB(t)
	if _, err := db.PutSettingAt("alerts", 0, map[string]int{"n": -1}); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []int
		errs []error
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PutSettingAt("alerts", 1, map[string]int{"n": i})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, i)
			} else {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d writers succeeded, want exactly 1 (errors %v)", len(won), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, ErrStaleRevision) {
			t.Fatalf("a losing writer got %v, want ErrStaleRevision", err)
		}
	}
	var v map[string]int
	if _, err := db.Setting("alerts", &v); err != nil || v["n"] != won[0] {
		t.Fatalf("stored %v (%v), want the winner's %d", v, err, won[0])
	}
	if rev, _ := db.Revision("alerts"); rev != 2 {
		t.Fatalf("revision %d, want 2", rev)
	}
}
