package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"worktray/app/view"
	"worktray/scheduler"
)

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// The CLI words times as the tray and the windows do (package view), in local time.
func clock(t, now time.Time) string    { return view.Clock(t, now, time.Local) }
func relative(t, now time.Time) string { return view.Relative(t, now) }
func span(d time.Duration) string      { return view.Span(d) }

// mark is the one-character outcome of a run.
func mark(s scheduler.RunStatus) string {
	switch s {
	case scheduler.StatusSucceeded:
		return "✓"
	case scheduler.StatusRunning:
		return "…"
	case scheduler.StatusCanceled:
		return "⊘"
	default:
		return "✗"
	}
}

// runSummary is one line about a run: "09:30 ✓ succeeded · 52 orders (3 new) · 4.2 s".
func runSummary(r scheduler.Run, now time.Time) string {
	at := r.Started
	if at.IsZero() {
		at = r.Finished
	}
	parts := []string{fmt.Sprintf("%s %s %s", clock(at, now), mark(r.Status), r.Status)}
	switch r.Status {
	case scheduler.StatusSucceeded:
		o := fmt.Sprintf("%d orders", r.Found)
		if ch := r.Changes(); ch != "" {
			o += " (" + ch + ")"
		}
		parts = append(parts, o)
	case scheduler.StatusMissed:
		parts = append(parts, r.Message)
	default:
		if r.ErrorClass != "" {
			what := view.ClassText(r.ErrorClass)
			if r.Message != "" {
				what += ": " + r.Message
			}
			parts = append(parts, what)
		} else if r.Message != "" {
			parts = append(parts, r.Message)
		}
	}
	if r.Status != scheduler.StatusMissed && r.Duration > 0 {
		parts = append(parts, view.RunDuration(&r))
	}
	if r.LargeDrop {
		parts = append(parts, "⚠ large drop")
	}
	return strings.Join(parts, " · ")
}

var dayNames = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// describeSchedule says when a schedule runs, in one line.
func describeSchedule(s scheduler.Schedule) string {
	var parts []string
	if !s.Enabled {
		parts = append(parts, "disabled")
	}
	if s.EveryHours <= 1 {
		parts = append(parts, fmt.Sprintf("every hour at :%02d", s.Minute))
	} else {
		parts = append(parts, fmt.Sprintf("every %d hours at :%02d from %02d:%02d", s.EveryHours, s.Minute, s.Hour, s.Minute))
	}
	if s.ActiveFrom == s.ActiveTo || (s.ActiveFrom == 0 && s.ActiveTo == 24) {
		parts = append(parts, "all day")
	} else {
		parts = append(parts, fmt.Sprintf("active %02d:00–%02d:00", s.ActiveFrom, s.ActiveTo))
	}
	parts = append(parts, describeWeekdays(s.Weekdays))
	parts = append(parts, s.Zone)
	return strings.Join(parts, " · ")
}

func describeWeekdays(ds []time.Weekday) string {
	on := map[time.Weekday]bool{}
	for _, d := range ds {
		on[d] = true
	}
	switch {
	case len(on) == 7:
		return "every day"
	case len(on) == 5 && !on[time.Saturday] && !on[time.Sunday]:
		return "Mon–Fri"
	case len(on) == 2 && on[time.Saturday] && on[time.Sunday]:
		return "weekends"
	}
	var names []string
	for d := time.Monday; ; d = (d + 1) % 7 {
		if on[d] {
			names = append(names, dayNames[d])
		}
		if d == time.Sunday {
			break
		}
	}
	return strings.Join(names, ",")
}

// describePolicy says how a schedule handles lateness and failure.
func describePolicy(s scheduler.Schedule) string {
	cu := "off"
	if s.CatchUp {
		cu = "on"
	}
	return fmt.Sprintf("grace %d min · catch-up %s · %d retries from %d min", s.GraceMinutes, cu, s.Retries, s.RetryBackoff)
}

// progressLine describes where a run is: "list · page 2/5 · 30 orders".
func progressLine(p scheduler.Progress) string {
	parts := []string{string(p.Stage)}
	if p.Page > 0 {
		if p.Pages > 0 {
			parts = append(parts, fmt.Sprintf("page %d/%d", p.Page, p.Pages))
		} else {
			parts = append(parts, fmt.Sprintf("page %d", p.Page))
		}
	}
	parts = append(parts, fmt.Sprintf("%d orders", p.Orders))
	if p.Message != "" {
		parts = append(parts, p.Message)
	}
	return strings.Join(parts, " · ")
}

// bar draws a progress bar of width cells.
func bar(percent, width int) string {
	percent = max(0, min(100, percent))
	full := percent * width / 100
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "]"
}

// bytesText is a file size for people: 512 bytes, 12 KB, 3.4 MB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
