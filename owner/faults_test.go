package owner

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
	"worktray/store"
)

// TestPortalFaultsRetryAndKeepOrders runs the real scheduler, scraper and store against the demo
// portal: after a good scrape, each fault switch fails the 10:30 slot with its error class,
// leaves the stored orders untouched, and the retry two minutes later (on the scheduler's clock)
// succeeds once the fault is gone.
func TestPortalFaultsRetryAndKeepOrders(t *testing.T) {
	requireChromium(t)
	if testing.Short() {
		t.Skip("real browser scrapes")
	}
	for _, tc := range []struct {
		name    string
		faults  demoportal.Faults
		class   scheduler.ErrorClass
		timeout time.Duration // the run's deadline
	}{
		{"http 500", demoportal.Faults{ServerErrorEvery: 1, ServerErrorPrefix: "/api/"}, scheduler.ClassPortalError, time.Minute},
		{"login fails", demoportal.Faults{LoginAlwaysFails: true}, scheduler.ClassLoginFailed, time.Minute},
		// A changed layout shows after the profile's page timeout (20 s), inside the deadline.
		{"layout changed", demoportal.Faults{ChangedLayout: true}, scheduler.ClassLayoutChanged, time.Minute},
		// A page that never finishes is cut by the run's deadline.
		{"never finishes", demoportal.Faults{Hang: true}, scheduler.ClassTimeout, 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			portal := demoportal.New(demoportal.Options{Seed: 9, Count: 30})
			base, stop, err := portal.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			dir := t.TempDir()
			db, err := store.Open(filepath.Join(dir, "worktray.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			secrets, err := secret.Open(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.PutSetting(scraper.SettingsKey, scraper.Settings{URL: base, Profile: scraper.ProfileDemo, Username: demoportal.DefaultEmail}); err != nil {
				t.Fatal(err)
			}
			if err := secrets.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
				t.Fatal(err)
			}
			sc := scheduler.DefaultSchedule("UTC")
			if err := db.SaveSchedule(sc); err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 6, 1, 10, 29, 0, 0, time.UTC)
			if _, err := db.UpdateState(func(st *scheduler.State) error { st.Cursor = t0; return nil }); err != nil {
				t.Fatal(err)
			}
			fc := clockwork.NewFakeClockAt(t0)
			scr := &portalScraper{db: db, secrets: secrets, artifacts: filepath.Join(dir, "artifacts"), log: slog.New(slog.DiscardHandler)}
			svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: scr, Clock: fc, RunTimeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx) }()
			defer func() { cancel(); <-done }()
			block := func(n int) {
				bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
				defer bcancel()
				if err := fc.BlockUntilContext(bctx, n); err != nil {
					t.Fatalf("waiting for %d timers: %v", n, err)
				}
			}
			waitRun := func(n int) scheduler.Run {
				t.Helper()
				var runs []scheduler.Run
				eventually(t, "the run", 60*time.Second, func() bool {
					runs, _ = db.LatestRuns(10)
					return len(runs) == n && runs[0].Status.Finished() && svc.Snapshot().Running == nil
				})
				return runs[0]
			}
			block(2)
			if _, err := svc.ScrapeNow(ctx); err != nil {
				t.Fatal(err)
			}
			if r := waitRun(1); r.Status != scheduler.StatusSucceeded || r.New != 30 {
				t.Fatalf("first scrape %+v", r)
			}
			before, _ := db.Orders(true)

			portal.SetFaults(tc.faults)
			portal.ExpireSessions()
			block(2)
			fc.Advance(time.Minute) // the 10:30 slot
			failed := waitRun(2)
			if failed.Status != scheduler.StatusFailed || failed.ErrorClass != tc.class || failed.Trigger != scheduler.TriggerScheduled {
				t.Fatalf("faulty slot run %+v, want %s", failed, tc.class)
			}
			if len(failed.Artifacts) != 2 {
				t.Fatalf("artifacts %v, want a screenshot and the HTML", failed.Artifacts)
			}
			after, _ := db.Orders(true)
			if len(after) != len(before) {
				t.Fatalf("%d orders after the failed run, %d before", len(after), len(before))
			}
			for i := range after {
				if after[i].Hash != before[i].Hash || !after[i].RemovedAt.Equal(before[i].RemovedAt) {
					t.Fatalf("order %s changed by a failed run", after[i].PortalID)
				}
			}
			if snap := svc.Snapshot(); snap.RetryAt.IsZero() || !snap.RetryAt.Equal(failed.Finished.Add(2*time.Minute)) {
				t.Fatalf("retry at %v, want 2 min after %v", snap.RetryAt, failed.Finished)
			}
			portal.SetFaults(demoportal.Faults{})
			block(3)
			fc.Advance(2 * time.Minute)
			retry := waitRun(3)
			if retry.Status != scheduler.StatusSucceeded || retry.Trigger != scheduler.TriggerRetry || retry.Attempt != 2 || !retry.Slot.Equal(failed.Slot) {
				t.Fatalf("retry %+v", retry)
			}
		})
	}
}
