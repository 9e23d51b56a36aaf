package view

import (
	"strings"
	"testing"
	"time"

	"worktray/assets"
	"worktray/scheduler"
)

var (
	london = mustZone("Europe/London")
	now    = time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC) // 09:45 in London (GMT)
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }

func okRun(h, m, found int) *scheduler.Run {
	return &scheduler.Run{ID: 7, Status: scheduler.StatusSucceeded, Started: at(h, m), Finished: at(h, m).Add(5 * time.Second), Found: found}
}

func TestStatusLineAndState(t *testing.T) {
	enabled := scheduler.Schedule{Enabled: true}
	tests := []struct {
		name  string
		snap  scheduler.Snapshot
		line  string
		state assets.TrayState
	}{
		{"idle", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(9, 30, 52)},
			"Next 10:30 · Last 09:30 ✓ 52 orders", assets.TrayIdle},
		{"never ran", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30)},
			"Next 10:30 · Last never", assets.TrayIdle},
		{"one order", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(9, 30, 1)},
			"Next 10:30 · Last 09:30 ✓ 1 order", assets.TrayIdle},
		{"running", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(8, 30, 52),
			Running:  &scheduler.Run{ID: 8, Status: scheduler.StatusRunning, Started: at(9, 30)},
			Progress: &scheduler.Progress{Stage: scheduler.StageList, Page: 2, Pages: 5, Orders: 40}},
			"Scraping now (list, page 2 of 5, 40 orders) · Last 08:30 ✓ 52 orders", assets.TrayRunning},
		{"failed", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), ConsecutiveFailures: 1,
			LastRun: &scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: scheduler.ClassLoginFailed, Started: at(9, 30), Finished: at(9, 31)}},
			"Next 10:30 · Last 09:31 ✗ the portal refused the sign-in", assets.TrayFailing},
		{"failing with a retry", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), ConsecutiveFailures: 1, RetryAt: at(9, 50),
			LastRun: &scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: scheduler.ClassTimeout, Started: at(9, 30), Finished: at(9, 31)}},
			"Next 10:30 · retry 09:50 · Last 09:31 ✗ the portal did not answer in time", assets.TrayFailing},
		{"stuck", scheduler.Snapshot{Now: now, Schedule: enabled, LastRun: okRun(8, 30, 52), Stuck: "no slot of the schedule falls in the next 366 days"},
			"Scheduling stuck: no slot of the schedule falls in the next 366 days · Last 08:30 ✓ 52 orders", assets.TrayStuck},
		{"stuck but paused", scheduler.Snapshot{Now: now, Schedule: enabled, Paused: true, LastRun: okRun(8, 30, 52), Stuck: "no slot"},
			"Paused · Last 08:30 ✓ 52 orders", assets.TrayPaused},
		{"paused", scheduler.Snapshot{Now: now, Schedule: enabled, Paused: true, LastRun: okRun(9, 30, 52)},
			"Paused · Last 09:30 ✓ 52 orders", assets.TrayPaused},
		{"overdue", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), OverdueSlot: at(9, 30), OverdueBy: 15 * time.Minute, LastRun: okRun(8, 30, 52)},
			"Scrape due at 09:30, not started yet · Last 08:30 ✓ 52 orders", assets.TrayOverdue},
		{"missed", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(5, 30, 52),
			LastMissed: &scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{at(6, 30), at(7, 30)}}},
			"Next 10:30 · 2 slots missed (06:30–07:30) · Last 05:30 ✓ 52 orders", assets.TrayOverdue},
		{"yesterday", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(-2, 30, 3)},
			"Next 10:30 · Last Mon 22:30 ✓ 3 orders", assets.TrayIdle},
		{"disabled", scheduler.Snapshot{Now: now, LastRun: okRun(9, 30, 52)},
			"Schedule off · Last 09:30 ✓ 52 orders", assets.TrayIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusLine(Situation{Snapshot: tt.snap}, london); got != tt.line {
				t.Errorf("StatusLine = %q, want %q", got, tt.line)
			}
			if got := State(Situation{Snapshot: tt.snap}); got != tt.state {
				t.Errorf("State = %q, want %q", got, tt.state)
			}
		})
	}
}

func TestClockInZone(t *testing.T) {
	kolkata := mustZone("Asia/Kolkata")
	if got := Clock(at(9, 30), now, kolkata); got != "15:00" {
		t.Errorf("Clock in Kolkata = %q, want 15:00", got)
	}
	if got := Clock(at(9, 30).AddDate(0, 0, 30), now, london); got != "9 Apr 10:30" {
		t.Errorf("Clock a month ahead across DST = %q, want 9 Apr 10:30", got)
	}
}

func TestRelativeAndDuration(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(12 * time.Minute), "in 12 min"},
		{now.Add(-3*time.Hour - 5*time.Minute), "3 h 5 min ago"},
		{now.Add(10 * time.Second), "now"},
		{now.Add(49 * time.Hour), "in 2 d 1 h"},
		{now.Add(65 * time.Minute), "in 1 h 5 min"},
		{now.Add(2 * time.Hour), "in 2 h"},
		{now.Add(-3 * time.Minute), "3 min ago"},
	} {
		if got := Relative(tt.t, now); got != tt.want {
			t.Errorf("Relative(%v) = %q, want %q", tt.t.Sub(now), got, tt.want)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{850 * time.Millisecond, "850 ms"}, {4200 * time.Millisecond, "4.2 s"}, {125 * time.Second, "2 min 5 s"}, {0, "—"}} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNoPortalWinsOverEverythingButARun(t *testing.T) {
	for name, snap := range map[string]scheduler.Snapshot{
		"fresh":   {Now: now, Schedule: scheduler.Schedule{Enabled: true}, Next: at(10, 30)},
		"failing": {Now: now, Schedule: scheduler.Schedule{Enabled: true}, ConsecutiveFailures: 2, LastErrorClass: scheduler.ClassConfig},
		"stuck":   {Now: now, Schedule: scheduler.Schedule{Enabled: true}, Stuck: "no slot"},
	} {
		sit := Situation{Snapshot: snap, NoPortal: true}
		if got := State(sit); got != assets.TraySetup {
			t.Errorf("%s: State = %q, want setup", name, got)
		}
		if got := StatusLine(sit, london); got != "Set up your portal to start scraping" {
			t.Errorf("%s: StatusLine = %q", name, got)
		}
		b := BannerFor(sit, london)
		if b.Title != "Set up your portal" || strings.Contains(b.Body, "Scrape now") || strings.Contains(b.Body, "retries") {
			t.Errorf("%s: banner = %+v", name, b)
		}
	}
	sit := Situation{Snapshot: scheduler.Snapshot{Now: now, Running: &scheduler.Run{ID: 1}}, NoPortal: true}
	if got := State(sit); got != assets.TrayRunning {
		t.Errorf("a run while no portal is set up (Test login) shows %q, want running", got)
	}
}

// TestWordsNeverCodes: every error class reads as words, never as its code, and each advice is
// possible in the situation it is given for.
func TestWordsNeverCodes(t *testing.T) {
	classes := []scheduler.ErrorClass{scheduler.ClassLoginFailed, scheduler.ClassTimeout, scheduler.ClassPortalError,
		scheduler.ClassLayoutChanged, scheduler.ClassBrowserFailed, scheduler.ClassCanceled, scheduler.ClassStorageFailed,
		scheduler.ClassConfig, "", "something_new"}
	seen := map[string]scheduler.ErrorClass{}
	for _, c := range classes {
		text := ClassText(c)
		if strings.Contains(text, "_") || (c != "" && strings.Contains(text, string(c)) && c != scheduler.ClassCanceled) {
			t.Errorf("ClassText(%q) = %q shows a code", c, text)
		}
		if other, ok := seen[text]; ok && c != "" && other != "" && c != "something_new" {
			t.Errorf("ClassText(%q) and ClassText(%q) both say %q", c, other, text)
		}
		seen[text] = c
		noRetries := Situation{Snapshot: scheduler.Snapshot{Schedule: scheduler.Schedule{Retries: 0}}}
		noPortal := Situation{Snapshot: scheduler.Snapshot{Schedule: scheduler.Schedule{Retries: 2}, RetryAt: at(9, 50)}, NoPortal: true}
		for _, sit := range []Situation{noRetries, noPortal} {
			if a := Advice(c, sit); strings.Contains(a, "retries by itself") {
				t.Errorf("Advice(%q) = %q promises a retry that will not happen", c, a)
			}
		}
	}
	if got := ClassText(scheduler.ClassLoginFailed); got != "the portal refused the sign-in" {
		t.Errorf("login_failed reads %q", got)
	}
}

func TestUptime(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{3 * time.Second, "3 s"}, {3900 * time.Millisecond, "3 s"}, {65 * time.Second, "1 min 5 s"},
		{2*time.Hour + 3*time.Minute + 9*time.Second, "2 h 3 min"}, {76 * time.Hour, "3 d 4 h"}, {-time.Second, "0 s"}} {
		if got := Uptime(tt.d); got != tt.want {
			t.Errorf("Uptime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestBanner(t *testing.T) {
	s := Situation{Snapshot: scheduler.Snapshot{Now: now, ConsecutiveFailures: 3, LastErrorClass: scheduler.ClassLoginFailed,
		LastError: "the portal said: wrong password", FailingSince: at(7, 30), RetryAt: at(9, 50)}}
	b := BannerFor(s, london)
	if b.Severity != SeverityError || b.Title != "The last 3 scrapes failed: the portal refused the sign-in" {
		t.Errorf("failing banner = %+v", b)
	}
	if want := "The portal said: wrong password. Failing since 07:30. worktray retries at 09:50. Check the username"; !strings.HasPrefix(b.Body, want) &&
		!strings.HasPrefix(b.Body, "the portal said: wrong password. Failing since 07:30. worktray retries at 09:50. Check the username") {
		t.Errorf("failing body = %q", b.Body)
	}
	if strings.Count(b.Title+b.Body, "wrong password") != 1 || strings.Count(b.Title+b.Body, "refused") != 1 {
		t.Errorf("the banner says a thing twice: %+v", b)
	}
	if b := BannerFor(Situation{Snapshot: scheduler.Snapshot{Now: now}}, london); b.Severity != SeverityNone {
		t.Errorf("healthy snapshot has a banner: %+v", b)
	}
	b = BannerFor(Situation{Snapshot: scheduler.Snapshot{Now: now, OverdueSlot: at(8, 36), OverdueBy: 69 * time.Minute}}, london)
	if b.Severity != SeverityWarning || b.Title != "A scheduled scrape is overdue" || !strings.Contains(b.Body, "due at 08:36, not started yet") {
		t.Errorf("overdue banner = %+v", b)
	}
	running := Situation{Snapshot: scheduler.Snapshot{Now: now, OverdueSlot: at(8, 36), Running: &scheduler.Run{ID: 3}}}
	if b := BannerFor(running, london); strings.Contains(b.Body, "Scrape now") {
		t.Errorf("the banner advises Scrape now while a scrape runs: %+v", b)
	}
	stuck := BannerFor(Situation{Snapshot: scheduler.Snapshot{Now: now, Schedule: scheduler.Schedule{Enabled: true},
		Stuck: "the store could not be read", StuckSince: at(9, 0)}}, london)
	if stuck.Severity != SeverityError || !strings.Contains(stuck.Body, "the store could not be read (since 09:00)") {
		t.Errorf("stuck banner = %+v", stuck)
	}
}

func TestRunDurationOfAnInterruptedRun(t *testing.T) {
	r := &scheduler.Run{Status: scheduler.StatusInterrupted, Started: at(6, 0), Finished: at(9, 0), Duration: 3 * time.Hour}
	if got := RunDuration(r); got != "duration unknown" {
		t.Errorf("an interrupted run found 3 h later shows %q", got)
	}
	r.Status = scheduler.StatusSucceeded
	if got := RunDuration(r); got != Duration(3*time.Hour) {
		t.Errorf("a finished run shows %q", got)
	}
}
