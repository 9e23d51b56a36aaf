package cli

import (
	"fmt"
	"time"

	"worktray/control"
	"worktray/scheduler"
)

// Exit codes of `worktray status`: what needs attention, like `systemctl is-active`. When
// several apply, the first of this list wins.
const (
	ExitNotSetUp   = 20 // no portal is set up
	ExitNotRunning = 25 // no owner runs: nothing is scheduled
	ExitStuck      = 24 // the scheduler cannot arm its next slot
	ExitStorage    = 26 // the store could not be written
	ExitFailing    = 21 // scheduled scrapes fail
	ExitMissed     = 23 // slots were missed (since the last success)
	ExitOverdue    = 22 // a slot is due and has not started
)

// attention is one thing in a status that needs the user.
type attention struct {
	code int
	what string // in words, once
}

// attentionOf lists what needs attention in st, most pressing first (the order of the exit
// codes above). An empty list means all is well.
func attentionOf(st control.Status) []attention {
	var out []attention
	add := func(code int, format string, args ...any) {
		out = append(out, attention{code, fmt.Sprintf(format, args...)})
	}
	if st.NeedsSetup {
		add(ExitNotSetUp, "no portal is set up: run `worktray portal set --url … --username …` or open Settings → Portal")
	}
	if st.Owner == nil {
		add(ExitNotRunning, "worktray is not running, so nothing is scheduled: start it with `worktray` (desktop) or `worktray run --headless`")
	}
	if st.Stuck != "" {
		add(ExitStuck, "the scheduler is stuck and cannot plan the next scrape: %s", st.Stuck)
	}
	if problem := st.StorageProblem(); problem != "" {
		msg := "the store could not be written: " + problem
		if st.Unrecorded > 0 {
			msg += fmt.Sprintf(" (%d run%s not recorded)", st.Unrecorded, plural(st.Unrecorded))
		}
		add(ExitStorage, "%s", msg)
	}
	if st.ConsecutiveFailures > 0 && st.Running == nil {
		if st.ConsecutiveFailures == 1 {
			add(ExitFailing, "the last scrape failed")
		} else {
			add(ExitFailing, "the last %d scrapes failed", st.ConsecutiveFailures)
		}
	}
	if missedSinceSuccess(st) {
		add(ExitMissed, "scheduled scrapes were missed")
	}
	if st.Overdue() {
		add(ExitOverdue, "a scheduled scrape is overdue")
	}
	return out
}

// missedSinceSuccess reports whether slots were missed and no scrape succeeded since.
func missedSinceSuccess(st control.Status) bool {
	if len(st.MissedWhileStopped) > 0 {
		return true
	}
	if st.LastMissed == nil {
		return false
	}
	return st.LastSuccess == nil || st.LastSuccess.Started.Before(st.LastMissed.Finished) ||
		st.LastSuccess.Status != scheduler.StatusSucceeded
}

// statusExit returns the exit code of `worktray status` for st.
func statusExit(st control.Status, now time.Time) int {
	if a := attentionOf(st); len(a) > 0 {
		return a[0].code
	}
	return ExitOK
}
