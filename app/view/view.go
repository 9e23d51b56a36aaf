// Package view turns the scheduler's snapshots into what the desktop shows: the tray's state and
// status line, banners, and the wording of times, durations and failures. It is pure (no Fyne, no
// D-Bus, no I/O) so the tray in the owner and the windows in `worktray ui` say the same thing, and
// tests check the wording without a display.
package view

import (
	"fmt"
	"strings"
	"time"

	"worktray/assets"
	"worktray/scheduler"
)

// Situation is what the desktop shows: the scheduler's snapshot and what it knows beside it.
type Situation struct {
	scheduler.Snapshot
	// NoPortal is set while no portal is set up: nothing can run until one is, so the desktop
	// says so instead of a schedule.
	NoPortal bool
}

// State returns the tray state of a situation. A run in progress wins, then no portal set up,
// then a stuck scheduler, then paused, then a failure, then an overdue slot or missed slots;
// otherwise the tray is idle.
func State(s Situation) assets.TrayState {
	switch {
	case s.Running != nil:
		return assets.TrayRunning
	case s.NoPortal:
		return assets.TraySetup
	case Stuck(s.Snapshot):
		return assets.TrayStuck
	case s.Paused:
		return assets.TrayPaused
	case Failing(s.Snapshot):
		return assets.TrayFailing
	case s.Overdue() || s.LastMissed != nil:
		return assets.TrayOverdue
	default:
		return assets.TrayIdle
	}
}

// Stuck reports whether the scheduler cannot arm its next slot while it should (Snapshot.Stuck).
func Stuck(s scheduler.Snapshot) bool { return s.Stuck != "" && !s.Paused && s.Schedule.Enabled }

// Failing reports whether the latest run failed (and no success followed).
func Failing(s scheduler.Snapshot) bool {
	if s.ConsecutiveFailures > 0 {
		return true
	}
	return s.LastRun != nil && (s.LastRun.Status == scheduler.StatusFailed || s.LastRun.Status == scheduler.StatusInterrupted)
}

// Due says when an overdue slot was due, naturally: "due at 08:36, not started yet".
func Due(slot, now time.Time, loc *time.Location) string {
	return "due at " + Clock(slot, now, loc) + ", not started yet"
}

// MissedText names missed slots briefly: "1 slot missed (07:30)", "3 slots missed (06:30–08:30)".
func MissedText(r *scheduler.Run, now time.Time, loc *time.Location) string {
	n := len(r.MissedSlots)
	if n == 0 {
		return "slots missed"
	}
	text := Plural(n, "slot", "slots") + " missed (" + Clock(r.MissedSlots[0], now, loc)
	if n > 1 {
		text += "–" + Clock(r.MissedSlots[n-1], now, loc)
	}
	return text + ")"
}

// StatusLine is the one-line summary the tray menu and tooltip show, e.g.
// "Next 10:30 · Last 09:30 ✓ 52 orders", "Next 10:30 · retry 09:50 · Last 09:31 ✗ …",
// "Next 10:30 · 3 slots missed (06:30–08:30) · Last 05:30 ✓ 52 orders". Times are shown in loc.
func StatusLine(s Situation, loc *time.Location) string {
	var first string
	switch {
	case s.Running != nil:
		first = "Scraping now"
		if p := s.Progress; p != nil && p.Stage != "" {
			first += " (" + StageText(*p) + ")"
		}
	case s.NoPortal:
		return "Set up your portal to start scraping"
	case Stuck(s.Snapshot):
		first = "Scheduling stuck: " + s.Stuck
	case s.Paused:
		first = "Paused"
	case s.Overdue():
		first = "Scrape " + Due(s.OverdueSlot, s.Now, loc)
	case !s.Schedule.Enabled:
		first = "Schedule off"
	case s.Next.IsZero():
		first = "No next run"
	default:
		first = "Next " + Clock(s.Next, s.Now, loc)
	}
	parts := []string{first}
	if s.Running == nil && !s.RetryAt.IsZero() {
		parts = append(parts, "retry "+Clock(s.RetryAt, s.Now, loc))
	}
	if s.LastMissed != nil {
		parts = append(parts, MissedText(s.LastMissed, s.Now, loc))
	}
	return strings.Join(append(parts, LastRunText(s.LastRun, s.Now, loc)), " · ")
}

// Tooltip is the tray icon's tooltip: the app's name and the status line.
func Tooltip(s Situation, loc *time.Location) string {
	return "worktray: " + StatusLine(s, loc)
}

// LastRunText describes the last finished run briefly: "Last 09:30 ✓ 52 orders",
// "Last 09:30 ✗ the portal refused the sign-in", "Last never".
func LastRunText(r *scheduler.Run, now time.Time, loc *time.Location) string {
	if r == nil {
		return "Last never"
	}
	at := r.Finished
	if at.IsZero() {
		at = r.Started
	}
	t := "Last " + Clock(at, now, loc) + " "
	switch r.Status {
	case scheduler.StatusSucceeded:
		return t + "✓ " + Plural(r.Found, "order", "orders")
	case scheduler.StatusCanceled:
		return t + "canceled"
	case scheduler.StatusInterrupted:
		return t + "✗ interrupted"
	default:
		return t + "✗ " + ClassText(r.ErrorClass)
	}
}

// Clock formats an instant as a wall-clock time in loc: "10:30" today, "Tue 10:30" within a week
// either side of now, "2 Jan 10:30" otherwise.
func Clock(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	if loc == nil {
		loc = time.Local
	}
	lt, ln := t.In(loc), now.In(loc)
	y1, m1, d1 := lt.Date()
	y2, m2, d2 := ln.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return lt.Format("15:04")
	case absDuration(t.Sub(now)) < 6*24*time.Hour:
		return lt.Format("Mon 15:04")
	default:
		return lt.Format("2 Jan 15:04")
	}
}

// DateTime formats an instant in full in loc: "Tue 2 Jan 2026 10:30:05".
func DateTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04:05")
}

// Relative says how far t is from now: "in 12 min", "3 h 5 min ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case t.IsZero():
		return ""
	case absDuration(d) < 30*time.Second:
		return "now"
	case d > 0:
		return "in " + Span(d)
	default:
		return Span(-d) + " ago"
	}
}

// Span formats a length of time to the minute for people: "12 min", "2 h 5 min", "3 d 4 h".
func Span(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		d = time.Minute
	}
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%d d %d h", days, h)
	case days > 0:
		return fmt.Sprintf("%d d", days)
	case h > 0 && m > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case h > 0:
		return fmt.Sprintf("%d h", h)
	default:
		return fmt.Sprintf("%d min", m)
	}
}

// Duration formats a run's duration: "850 ms", "4.2 s", "2 min 5 s".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
}

// RunDuration is a run's duration for people. An interrupted run's duration ends at the last
// progress its process recorded (Run.Alive), so it never includes the time worktray was not
// running; "at least …" says that it may have run a few seconds longer, and with no sign of
// life recorded the duration is unknown.
func RunDuration(r *scheduler.Run) string {
	if r.Status == scheduler.StatusInterrupted {
		if r.Alive.IsZero() || r.Duration <= 0 {
			return "duration unknown"
		}
		return "at least " + Duration(r.Duration)
	}
	return Duration(r.Duration)
}

// Uptime says exactly how long a process has run, to the second below an hour: "3 s",
// "1 min 5 s", "2 h 3 min", "3 d 4 h".
func Uptime(d time.Duration) string {
	d = max(d.Truncate(time.Second), 0)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	m, sec := int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, h)
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, sec)
	default:
		return fmt.Sprintf("%d s", sec)
	}
}

// Plural formats n with the singular or plural noun.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// StageText describes a progress report: "list, page 2 of 5, 40 orders".
func StageText(p scheduler.Progress) string {
	parts := []string{string(p.Stage)}
	switch {
	case p.Page > 0 && p.Pages > 0:
		parts = append(parts, fmt.Sprintf("page %d of %d", p.Page, p.Pages))
	case p.Page > 0:
		parts = append(parts, fmt.Sprintf("page %d", p.Page))
	}
	if p.Orders > 0 {
		parts = append(parts, Plural(p.Orders, "order", "orders"))
	}
	return strings.Join(parts, ", ")
}

// Banner is a warning the status window shows above everything else.
type Banner struct {
	Severity Severity
	Title    string // what happened
	Body     string // details and what to do
}

// Severity is how bad a banner is.
type Severity int

// The severities of a banner.
const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityError
)

// BannerFor returns the banner a situation calls for (Severity None when all is well). No portal
// wins, then stuck, failing, missed, overdue and paused. Each fact is said once: the status
// window does not repeat the banner's error message elsewhere.
func BannerFor(s Situation, loc *time.Location) Banner {
	canScrape := !s.NoPortal && s.Running == nil
	switch {
	case s.NoPortal:
		return Banner{SeverityInfo, "Set up your portal",
			"worktray has no portal to read work orders from yet. Enter the portal's address, your username and your password in Settings → Portal; scrapes then run on the schedule."}
	case Stuck(s.Snapshot):
		body := "worktray cannot plan the next scheduled scrape: " + s.Stuck
		if !s.StuckSince.IsZero() {
			body += " (since " + Clock(s.StuckSince, s.Now, loc) + ")"
		}
		body += ". Check the schedule in Settings → Schedule; `worktray diagnose` tells more."
		if canScrape {
			body += " Scrape now still works."
		}
		return Banner{SeverityError, "Scheduled scrapes are stuck", body}
	case Failing(s.Snapshot) && s.Running == nil:
		title := "The last scrape failed"
		if s.ConsecutiveFailures > 1 {
			title = fmt.Sprintf("The last %d scrapes failed", s.ConsecutiveFailures)
		}
		class, msg := s.LastErrorClass, s.LastError
		if s.LastRun != nil && s.LastRun.Status != scheduler.StatusSucceeded {
			if class == "" {
				class = s.LastRun.ErrorClass
			}
			if msg == "" {
				msg = s.LastRun.Message
			}
		}
		title += ": " + ClassText(class)
		var body []string
		if msg != "" {
			body = append(body, sentence(msg))
		}
		if !s.FailingSince.IsZero() {
			body = append(body, "Failing since "+Clock(s.FailingSince, s.Now, loc)+".")
		}
		if !s.RetryAt.IsZero() {
			body = append(body, "worktray retries at "+Clock(s.RetryAt, s.Now, loc)+".")
		}
		if a := Advice(class, s); a != "" {
			body = append(body, a)
		}
		return Banner{SeverityError, title, strings.Join(body, " ")}
	case s.LastMissed != nil:
		body := "The computer was probably asleep or worktray was not running."
		if s.Schedule.CatchUp {
			body += " One catch-up scrape follows."
		}
		if canScrape {
			body += " Scrape now runs one at once."
		}
		return Banner{SeverityWarning, "Scheduled scrapes were missed: " + MissedText(s.LastMissed, s.Now, loc), body}
	case s.Overdue():
		body := fmt.Sprintf("The scrape %s (%s late). It starts as soon as it can.", Due(s.OverdueSlot, s.Now, loc), Span(s.OverdueBy))
		if canScrape {
			body += " Scrape now runs one at once."
		}
		return Banner{SeverityWarning, "A scheduled scrape is overdue", body}
	case s.Paused:
		return Banner{SeverityInfo, "Scheduled scrapes are paused", "Nothing runs on its own until you resume. Scrape now still works."}
	}
	return Banner{}
}

// sentence starts text with a capital and ends it with a full stop unless it already ends a sentence.
func sentence(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return text
	}
	text = strings.ToUpper(text[:1]) + text[1:]
	if strings.HasSuffix(text, ".") || strings.HasSuffix(text, "!") || strings.HasSuffix(text, "?") {
		return text
	}
	return text + "."
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
