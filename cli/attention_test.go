package cli

import (
	"strings"
	"testing"
	"time"

	"worktray/control"
	"worktray/scheduler"
)

// Each state that needs attention has its own exit code, and the output says it once, in words.
func TestStatusExitCodes(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	owner := &control.OwnerInfo{PID: 42, Started: now.Add(-3 * time.Second)}
	ok := &scheduler.Run{ID: 1, Status: scheduler.StatusSucceeded, Started: now.Add(-time.Hour), Finished: now.Add(-59 * time.Minute)}
	healthy := func() control.Status {
		return control.Status{Owner: owner, Snapshot: scheduler.Snapshot{Now: now,
			Schedule: scheduler.DefaultSchedule("UTC"), Next: now.Add(30 * time.Minute), LastRun: ok, LastSuccess: ok}}
	}
	cases := []struct {
		name  string
		edit  func(*control.Status)
		code  int
		words string
	}{
		{"healthy", func(*control.Status) {}, ExitOK, ""},
		{"not set up", func(s *control.Status) { s.NeedsSetup = true }, ExitNotSetUp, "no portal is set up"},
		{"owner not running", func(s *control.Status) { s.Owner = nil }, ExitNotRunning, "worktray is not running"},
		{"stuck", func(s *control.Status) { s.Stuck = "no slot in the next 366 days" }, ExitStuck, "stuck"},
		{"storage", func(s *control.Status) { s.StorageError = "no space left on device"; s.Unrecorded = 2 }, ExitStorage,
			"2 runs not recorded"},
		{"last run storage failed", func(s *control.Status) {
			s.ConsecutiveFailures, s.LastErrorClass = 1, scheduler.ClassStorageFailed
			s.LastError = "the scrape read 150 work orders but they could not be saved: no space left on device"
		}, ExitStorage, "the store could not be written"},
		{"failing", func(s *control.Status) {
			s.ConsecutiveFailures, s.LastErrorClass, s.LastError = 2, scheduler.ClassTimeout, "the list did not load"
		}, ExitFailing, "the last 2 scrapes failed"},
		{"missed", func(s *control.Status) {
			s.LastMissed = &scheduler.Run{ID: 2, Status: scheduler.StatusMissed, Finished: now.Add(-10 * time.Minute),
				Message: "3 slots missed, 06:30–08:30"}
		}, ExitMissed, "3 slots missed"},
		{"overdue", func(s *control.Status) { s.OverdueSlot, s.OverdueBy = now.Add(-6*time.Minute), 6*time.Minute }, ExitOverdue,
			"not started yet"},
		{"not set up wins over failing", func(s *control.Status) { s.NeedsSetup = true; s.ConsecutiveFailures = 3 }, ExitNotSetUp, ""},
	}
	seen := map[int]string{}
	for _, c := range cases {
		st := healthy()
		c.edit(&st)
		if got := statusExit(st, now); got != c.code {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.code)
		}
		if prev, dup := seen[c.code]; dup && c.code != ExitNotSetUp && c.code != ExitStorage {
			t.Errorf("%s and %s share exit code %d", c.name, prev, c.code)
		}
		seen[c.code] = c.name
		var b strings.Builder
		printStatus(&b, st, now)
		out := b.String()
		if c.words != "" && strings.Count(out, c.words) != 1 {
			t.Errorf("%s: output says %q %d times, want once:\n%s", c.name, c.words, strings.Count(out, c.words), out)
		}
		for _, code := range []string{"login_failed", "portal_error", "timeout:", "storage_failed"} {
			if strings.Contains(out, code) {
				t.Errorf("%s: output shows the internal code %q:\n%s", c.name, code, out)
			}
		}
		if c.code == ExitNotRunning && strings.Contains(out, "in 30 min") {
			t.Errorf("with no owner, status still promises a next run:\n%s", out)
		}
	}
}
