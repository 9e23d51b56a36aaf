package cli

import (
	"errors"
	"fmt"
	"time"

	"worktray/control"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/store"
)

// errNeverRan means there is no store yet: no owner ever ran with these paths.
var errNeverRan = errors.New("has never run with this data directory")

// openLocal opens the store read-only, for a read command with no owner running.
func (e *env) openLocal() (*store.DB, error) {
	db, err := store.Open(e.paths.DB, store.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	switch {
	case errors.Is(err, store.ErrLocked):
		return nil, fmt.Errorf("worktray is running (it holds %s) but its control socket %s does not answer; if it is starting, try again", e.paths.DB, e.paths.Socket)
	case errors.Is(err, store.ErrNotInitialized):
		return nil, exitWith(ExitNoOwner, fmt.Errorf("worktray is not running and %w (no store at %s); start it with `worktray` or `worktray run --headless`", errNeverRan, e.paths.DB))
	case err != nil:
		return nil, err
	}
	return db, nil
}

// openLocalWrite opens the store read-write for a command that changes it while no owner runs.
// It holds the single-instance lock until closed, so keep it short.
func (e *env) openLocalWrite() (*store.DB, error) {
	db, err := store.Open(e.paths.DB, store.Options{Timeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("worktray started while this command ran; run it again to go through the owner")
	}
	return db, err
}

// localStatus builds the status from the store, as the owner would show it, for when no owner
// runs. Slots that passed since the owner stopped are listed in MissedWhileStopped (the owner
// records them when it starts), and runs still marked running in StaleRuns.
func localStatus(db *store.DB, now time.Time) (control.Status, error) {
	now = now.UTC()
	sched, err := db.Schedule()
	if errors.Is(err, scheduler.ErrNotFound) {
		sched = scheduler.DefaultSchedule(scheduler.SystemZone())
		_ = sched.Validate()
	} else if err != nil {
		var ve scheduler.ValidationError
		if !errors.As(err, &ve) {
			return control.Status{}, err
		}
	}
	st, err := db.State()
	if err != nil {
		return control.Status{}, err
	}
	runs, err := db.LatestRuns(200)
	if err != nil {
		return control.Status{}, err
	}
	count, err := db.OrderCount()
	if err != nil {
		return control.Status{}, err
	}
	stale, err := db.RunningRuns()
	if err != nil {
		return control.Status{}, err
	}
	snap := scheduler.Snapshot{
		Now: now, Schedule: sched, Paused: st.Paused, Orders: count,
		ConsecutiveFailures: st.ConsecutiveFailures, FailingSince: st.FailingSince,
		LastError: st.LastError, LastErrorClass: st.LastErrorClass,
	}
	if !st.Paused {
		snap.NextRuns = sched.NextN(now, 5)
		if len(snap.NextRuns) > 0 {
			snap.Next = snap.NextRuns[0]
		}
	}
	for i := range runs {
		r := runs[i]
		switch {
		case r.Status == scheduler.StatusMissed:
			if snap.LastMissed == nil {
				snap.LastMissed = &r
			}
		case r.Status.Finished():
			if snap.LastRun == nil {
				snap.LastRun = &r
			}
			if r.Status == scheduler.StatusSucceeded && snap.LastSuccess == nil {
				snap.LastSuccess = &r
			}
		}
	}
	if snap.LastMissed != nil && snap.LastSuccess != nil && !snap.LastMissed.Finished.After(snap.LastSuccess.Finished) {
		snap.LastMissed = nil
	}
	out := control.Status{Snapshot: snap, StaleRuns: stale}
	if d, err := db.AlertDelivery(); err == nil && len(d.Problems()) > 0 {
		out.Alerts = &d
	}
	if !st.Paused && sched.Enabled && !st.Cursor.IsZero() && st.Cursor.Before(now) {
		due := sched.SlotsBetween(st.Cursor, now, 1000)
		grace := time.Duration(sched.GraceMinutes) * time.Minute
		if n := len(due); n > 0 && now.Sub(due[n-1]) <= grace {
			out.OverdueSlot, out.OverdueBy = due[n-1], now.Sub(due[n-1])
			due = due[:n-1]
		}
		out.MissedWhileStopped = due
	}
	var portal scraper.Settings
	if _, err := db.Setting(scraper.SettingsKey, &portal); err != nil {
		return control.Status{}, err
	}
	out.NeedsSetup = portal.URL == ""
	return out, nil
}
