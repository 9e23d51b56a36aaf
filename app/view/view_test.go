package view

import (
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
			"Next 10:30 · Last 09:31 ✗ login failed", assets.TrayFailing},
		{"paused", scheduler.Snapshot{Now: now, Schedule: enabled, Paused: true, LastRun: okRun(9, 30, 52)},
			"Paused · Last 09:30 ✓ 52 orders", assets.TrayPaused},
		{"overdue", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), OverdueSlot: at(9, 30), OverdueBy: 15 * time.Minute, LastRun: okRun(8, 30, 52)},
			"Overdue since 09:30 · Last 08:30 ✓ 52 orders", assets.TrayOverdue},
		{"missed", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(5, 30, 52),
			LastMissed: &scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{at(6, 30), at(7, 30)}}},
			"Next 10:30 · Last 05:30 ✓ 52 orders", assets.TrayOverdue},
		{"yesterday", scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(-2, 30, 3)},
			"Next 10:30 · Last Mon 22:30 ✓ 3 orders", assets.TrayIdle},
		{"disabled", scheduler.Snapshot{Now: now, LastRun: okRun(9, 30, 52)},
			"Schedule off · Last 09:30 ✓ 52 orders", assets.TrayIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusLine(tt.snap, london); got != tt.line {
				t.Errorf("StatusLine = %q, want %q", got, tt.line)
			}
			if got := State(tt.snap); got != tt.state {
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

func TestBanner(t *testing.T) {
	s := scheduler.Snapshot{Now: now, ConsecutiveFailures: 3, LastErrorClass: scheduler.ClassLoginFailed, LastError: "the portal said: wrong password", FailingSince: at(7, 30)}
	b := BannerFor(s, london)
	if b.Severity != SeverityError || b.Title != "The last 3 scrapes failed" {
		t.Errorf("failing banner = %+v", b)
	}
	if want := "login failed: the portal said: wrong password (failing since 07:30). Check the username"; len(b.Body) < len(want) || b.Body[:len(want)] != want {
		t.Errorf("failing body = %q", b.Body)
	}
	if b := BannerFor(scheduler.Snapshot{Now: now}, london); b.Severity != SeverityNone {
		t.Errorf("healthy snapshot has a banner: %+v", b)
	}
	if b := BannerFor(scheduler.Snapshot{Now: now, OverdueSlot: at(9, 30), OverdueBy: 15 * time.Minute}, london); b.Severity != SeverityWarning || b.Title != "A scheduled scrape is overdue" {
		t.Errorf("overdue banner = %+v", b)
	}
}
