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

// State returns the tray state of a snapshot. A run in progress wins, then paused, then a
// failure, then an overdue slot or missed slots; otherwise the tray is idle.
func State(s scheduler.Snapshot) assets.TrayState {
	switch {
	case s.Running != nil:
		return assets.TrayRunning
	case s.Paused:
		return assets.TrayPaused
	case Failing(s):
		return assets.TrayFailing
	case s.Overdue() || s.LastMissed != nil:
		return assets.TrayOverdue
	default:
		return assets.TrayIdle
	}
}

// Failing reports whether the latest run failed (and no success followed).
func Failing(s scheduler.Snapshot) bool {
	if s.ConsecutiveFailures > 0 {
		return true
	}
	return s.LastRun != nil && (s.LastRun.Status == scheduler.StatusFailed || s.LastRun.Status == scheduler.StatusInterrupted)
}

// StatusLine is the one-line summary the tray menu and tooltip show, e.g.
// "Next 10:30 · Last 09:30 ✓ 52 orders". Times are shown in loc.
func StatusLine(s scheduler.Snapshot, loc *time.Location) string {
	var first string
	switch {
	case s.Running != nil:
		first = "Scraping now"
		if p := s.Progress; p != nil && p.Stage != "" {
			first += " (" + StageText(*p) + ")"
		}
	case s.Paused:
		first = "Paused"
	case s.Overdue():
		first = "Overdue since " + Clock(s.OverdueSlot, s.Now, loc)
	case !s.Schedule.Enabled:
		first = "Schedule off"
	case s.Next.IsZero():
		first = "No next run"
	default:
		first = "Next " + Clock(s.Next, s.Now, loc)
	}
	return first + " · " + LastRunText(s.LastRun, s.Now, loc)
}

// Tooltip is the tray icon's tooltip: the app's name and the status line.
func Tooltip(s scheduler.Snapshot, loc *time.Location) string {
	return "worktray: " + StatusLine(s, loc)
}

// LastRunText describes the last finished run briefly: "Last 09:30 ✓ 52 orders",
// "Last 09:30 ✗ login failed", "Last never".
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

// ClassText names an error class in a few words: "login failed".
func ClassText(c scheduler.ErrorClass) string {
	switch c {
	case scheduler.ClassLoginFailed:
		return "login failed"
	case scheduler.ClassTimeout:
		return "timed out"
	case scheduler.ClassPortalError:
		return "portal error"
	case scheduler.ClassLayoutChanged:
		return "portal layout changed"
	case scheduler.ClassBrowserFailed:
		return "browser failed"
	case scheduler.ClassCanceled:
		return "canceled"
	case "":
		return "failed"
	default:
		return strings.ReplaceAll(string(c), "_", " ")
	}
}

// Advice says what the user can do about a failure of class c.
func Advice(c scheduler.ErrorClass) string {
	switch c {
	case scheduler.ClassLoginFailed:
		return "Check the username and password in Settings → Portal, then use Test login."
	case scheduler.ClassTimeout:
		return "The portal was too slow. Check the network; worktray retries by itself."
	case scheduler.ClassLayoutChanged:
		return "The portal's pages look different. Update the portal profile in Settings → Portal."
	case scheduler.ClassBrowserFailed:
		return "Chromium could not start. Check that it is installed (worktray diagnose)."
	case scheduler.ClassCanceled:
		return "The run was canceled; the next one runs as scheduled."
	default:
		return "Check the portal settings and the log; worktray retries by itself."
	}
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

// BannerFor returns the banner a snapshot calls for (Severity None when all is well). Failing
// wins over missed, missed over overdue, overdue over paused.
func BannerFor(s scheduler.Snapshot, loc *time.Location) Banner {
	switch {
	case Failing(s) && s.Running == nil:
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
		body := ClassText(class)
		if msg != "" {
			body += ": " + msg
		}
		if !s.FailingSince.IsZero() {
			body += fmt.Sprintf(" (failing since %s).", Clock(s.FailingSince, s.Now, loc))
		} else {
			body += "."
		}
		if !s.RetryAt.IsZero() {
			body += " Retrying at " + Clock(s.RetryAt, s.Now, loc) + "."
		}
		return Banner{SeverityError, title, body + " " + Advice(class)}
	case s.LastMissed != nil:
		msg := s.LastMissed.Message
		if msg == "" {
			msg = Plural(len(s.LastMissed.MissedSlots), "slot was", "slots were") + " missed"
		}
		return Banner{SeverityWarning, "Scheduled scrapes were missed",
			msg + ". The computer was probably asleep or worktray was not running. A catch-up run follows; use Scrape now to run one at once."}
	case s.Overdue():
		return Banner{SeverityWarning, "A scheduled scrape is overdue",
			fmt.Sprintf("The %s run has not started yet (%s late). It starts as soon as possible; if it stays overdue, use Scrape now.",
				Clock(s.OverdueSlot, s.Now, loc), Span(s.OverdueBy))}
	case s.Paused:
		return Banner{SeverityInfo, "Scheduled scrapes are paused", "Nothing runs on its own until you resume. Scrape now still works."}
	}
	return Banner{}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
