package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"worktray/scheduler"
)

// scrape returns n orders; variant v changes the customer of every tenth order (a tenth of
// them), so consecutive variants differ in 10% of the orders.
func scrape(n, v int) []scheduler.Order {
	out := make([]scheduler.Order, n)
	for i := range out {
		o := order(fmt.Sprintf("P%07d", i), i)
		o.Instructions = "Call the store manager on arrival. Ladder required; roof access through the back room."
		if i%10 == v%10 {
			o.Customer = fmt.Sprintf("Acme Retail (revision %d)", v)
		}
		out[i] = o
	}
	return out
}

// sampleRun is a finished scheduled run as the scheduler records it.
func sampleRun(i int) scheduler.Run {
	slot := t0.Add(time.Duration(i) * time.Hour)
	return scheduler.Run{
		Trigger: scheduler.TriggerScheduled, Slot: slot, Attempt: 1,
		Started: slot.Add(2 * time.Second), Finished: slot.Add(47 * time.Second),
		Status: scheduler.StatusSucceeded, Found: 1000, New: 3, Changed: 12, Removed: 2,
		Duration: 45 * time.Second, PID: 4242,
		Stages: []scheduler.StageTiming{
			{Stage: scheduler.StageBrowser, Duration: 1200 * time.Millisecond},
			{Stage: scheduler.StageLogin, Duration: 3400 * time.Millisecond},
			{Stage: scheduler.StageList, Duration: 21 * time.Second},
			{Stage: scheduler.StageDetails, Duration: 18 * time.Second},
			{Stage: scheduler.StageSaving, Duration: 15 * time.Millisecond},
		},
	}
}

// BenchmarkFinishRunDiff1000 applies a 1,000-order scrape in which 10% of the orders changed,
// with the run and the state, in one durable (fsynced) transaction. Target: ≤ 20 ms.
func BenchmarkFinishRunDiff1000(b *testing.B) {
	db := newDB(b)
	run := claim(b, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	orders := scrape(1000, 0)
	if _, _, err := db.FinishRun(run, orders, t0, nil); err != nil {
		b.Fatal(err)
	}
	at := t0
	for i := 0; b.Loop(); i++ {
		for j := i % 10; j < len(orders); j += 10 {
			orders[j].Customer = fmt.Sprintf("Acme Retail (revision %d)", i+1)
		}
		at = at.Add(time.Hour)
		_, diff, err := db.FinishRun(run, orders, at, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(diff.Changed) != 100 || diff.Found != 1000 {
			b.Fatalf("%d of %d orders changed, want 100", len(diff.Changed), diff.Found)
		}
	}
}

// fillRuns writes n run records directly, in large transactions.
func fillRuns(tb testing.TB, db *DB, n int) {
	tb.Helper()
	for done := 0; done < n; {
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			runs, _, running, err := runBuckets(tx)
			if err != nil {
				return err
			}
			for ; done < n; done++ {
				r := sampleRun(done)
				if r.ID, err = runs.NextSequence(); err != nil {
					return err
				}
				if err := putRun(runs, running, r); err != nil {
					return err
				}
				if done%10000 == 9999 {
					done++
					return nil
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkLatestRuns100Of100000 reads the 100 newest of 100,000 runs. Target: ≤ 2 ms.
func BenchmarkLatestRuns100Of100000(b *testing.B) {
	db := newDB(b)
	fillRuns(b, db, 100_000)
	for b.Loop() {
		runs, err := db.LatestRuns(100)
		if err != nil || len(runs) != 100 || runs[0].ID != 100_000 {
			b.Fatalf("LatestRuns(100) = %d runs, %v", len(runs), err)
		}
	}
}

// BenchmarkRunningRunsOf100000 finds the running runs among 100,000 (an index, not a scan).
func BenchmarkRunningRunsOf100000(b *testing.B) {
	db := newDB(b)
	fillRuns(b, db, 100_000)
	claim(b, db, scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	for b.Loop() {
		runs, err := db.RunningRuns()
		if err != nil || len(runs) != 1 {
			b.Fatalf("RunningRuns() = %d runs, %v", len(runs), err)
		}
	}
}

// fillHistory records runs the way the scheduler does — claim, a progress update, finish — with
// 1,000 orders; every ordersEvery-th run applies a full scrape with 10% of the orders changed
// (the others finish without orders). It returns the file's size.
func fillHistory(tb testing.TB, runs, ordersEvery int) int64 {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "worktray.db")
	db := openTest(tb, path, Options{})
	db.bolt.NoSync = true // The layout is the same; only the fsyncs are skipped, to save time.
	for i := range runs {
		r := sampleRun(i)
		r.Status, r.Finished, r.Duration = scheduler.StatusRunning, time.Time{}, 0
		r, err := db.ClaimRun(r)
		if err != nil {
			tb.Fatal(err)
		}
		r.Message = "reading page 3 of 10"
		if err := db.UpdateRun(r); err != nil {
			tb.Fatal(err)
		}
		done := sampleRun(i)
		done.ID, done.Message = r.ID, ""
		var orders []scheduler.Order
		if i%ordersEvery == 0 {
			orders = scrape(1000, i/ordersEvery)
		}
		if _, _, err := db.FinishRun(done, orders, done.Finished, nil); err != nil {
			tb.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}

// raceEnabled is set in race builds (race_test.go).
var raceEnabled bool

// TestFileSizeAfter10000Runs checks the size budget: 10,000 runs and 1,000 orders (a full
// scrape applied every tenth run) fit in 30 MB. It takes about 15 s, so it is skipped with
// -short and under the race detector (where it takes minutes).
func TestFileSizeAfter10000Runs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes 10,000 runs; run it without -short and -race")
	}
	const budget = 30 << 20
	size := fillHistory(t, 10_000, 10)
	t.Logf("store file after 10,000 runs and 1,000 orders: %d bytes (%.1f MB)", size, float64(size)/(1<<20))
	if size > budget {
		t.Errorf("the store file is %d bytes, over the %d-byte budget", size, budget)
	}
}

// BenchmarkFileSize10000Runs reports the file size of TestFileSizeAfter10000Runs as
// "file-bytes" (and the time to write that history; one iteration takes about 15 s).
func BenchmarkFileSize10000Runs(b *testing.B) {
	var size int64
	for b.Loop() {
		size = fillHistory(b, 10_000, 10)
	}
	b.ReportMetric(float64(size), "file-bytes")
}

// BenchmarkClaimRun is the cost of one small durable transaction: the floor under every write.
func BenchmarkClaimRun(b *testing.B) {
	db := newDB(b)
	for i := 0; b.Loop(); i++ {
		if _, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: t0.Add(time.Duration(i) * time.Hour), Attempt: 1, Status: scheduler.StatusRunning}); err != nil {
			b.Fatal(err)
		}
	}
}
