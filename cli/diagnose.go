package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"worktray/app/view"
	"worktray/control"
	"worktray/notify"
	"worktray/scheduler"
	"worktray/store"
)

// diagnosis is the report of `diagnose`.
type diagnosis struct {
	Owner   *control.OwnerInfo `json:"owner"`
	Checks  []control.Check    `json:"checks"`
	Fixed   []string           `json:"fixed,omitempty"`
	Healthy bool               `json:"healthy"` // no check failed
}

func (d *diagnosis) add(name string, status control.CheckStatus, fix, format string, args ...any) {
	d.Checks = append(d.Checks, control.Check{Name: name, Status: status, Detail: fmt.Sprintf(format, args...), Fix: fix})
}

func cmdDiagnose(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	fix := fs.Bool("fix", false, "repair what can be repaired safely (stale run records, an overdue slot, a stale socket) and say what was done")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	now := e.now()
	var (
		d       diagnosis
		damaged *store.CorruptError
	)
	st, local, err := e.status(ctx)
	silent := errors.Is(err, control.ErrNotResponding)
	switch {
	case silent:
		// The owner holds the store and the socket but does not answer: nothing more can be
		// read; say so, with the paths.
		d.add("owner", control.CheckFail, "", "%s", notRespondingMessage(err))
	case errors.Is(err, errNeverRan):
		d.add("owner", control.CheckFail, "start it with `worktray` or `worktray run --headless`", "worktray is not running")
		d.add("store", control.CheckWarn, "", "no store at %s yet: worktray has never run with this data directory", e.paths.DB)
	case errors.As(err, &damaged):
		d.add("owner", control.CheckFail, "restore a backup first (see the store check)", "worktray is not running (it refuses to start on this store)")
		fix := "stop worktray, then `worktray backup restore FILE` (see `worktray backup list`)"
		if damaged.Backup != "" {
			fix = "`worktray backup restore " + damaged.Backup + "` (the damaged file is kept aside)"
		}
		d.add("store integrity", control.CheckFail, fix, "%v", damaged)
	case err != nil:
		return err
	default:
		if local {
			d.add("owner", control.CheckFail, "start it with `worktray` (desktop) or `worktray run --headless` (servers)",
				"worktray is not running, so no scheduled run happens; the state below is read from the store")
		} else {
			d.Owner = st.Owner
			mode := "with tray"
			if st.Owner.Headless {
				mode = "headless"
			}
			d.add("owner", control.CheckOK, "", "running: pid %d, %s, up %s", st.Owner.PID, mode, span(now.Sub(st.Owner.Started)))
		}
		statusChecks(&d, st, now, e.failureThreshold(ctx, local))
		e.recentErrors(ctx, &d, local)
		if local {
			e.localChecks(ctx, &d, st, *fix)
		} else {
			od, err := e.owner().Diagnose(ctx, *fix)
			if err != nil {
				d.add("owner checks", control.CheckFail, "", "the owner could not run its checks: %v", err)
			} else {
				d.Checks = append(d.Checks, od.Checks...)
				d.Fixed = append(d.Fixed, od.Fixed...)
			}
		}
	}
	e.backupCheck(&d)
	if !silent {
		e.socketCheck(&d, local, *fix)
	}
	e.pathChecks(&d)
	d.Healthy = true
	for _, c := range d.Checks {
		if c.Status == control.CheckFail {
			d.Healthy = false
		}
	}
	if e.json {
		writeJSON(e.io.Out, d)
	} else {
		printDiagnosis(e, d, *fix)
	}
	switch {
	case silent:
		return exitWith(ExitNotResponding, nil)
	case !d.Healthy:
		return exitWith(ExitUnhealthy, nil)
	}
	return nil
}

func printDiagnosis(e *env, d diagnosis, fix bool) {
	icon := map[control.CheckStatus]string{control.CheckOK: "✓", control.CheckInfo: "·", control.CheckWarn: "!", control.CheckFail: "✗"}
	for _, c := range d.Checks {
		fmt.Fprintf(e.io.Out, "%s %-18s %s\n", icon[c.Status], c.Name, c.Detail)
		if c.Fix != "" && c.Status != control.CheckOK {
			fmt.Fprintf(e.io.Out, "  %-18s → %s\n", "", c.Fix)
		}
	}
	if fix {
		if len(d.Fixed) == 0 {
			fmt.Fprintln(e.io.Out, "\n--fix: nothing was repaired")
		} else {
			fmt.Fprintln(e.io.Out, "\n--fix repaired:")
			for _, f := range d.Fixed {
				fmt.Fprintf(e.io.Out, "  - %s\n", f)
			}
		}
	}
	if d.Healthy {
		fmt.Fprintln(e.io.Out, "\nno failing checks")
	} else {
		fmt.Fprintln(e.io.Out, "\nsome checks failed (✗)")
	}
}

// failureThreshold returns how many consecutive failed runs count as failing: the owner's (from
// its health answer), or with no owner the stored alert settings' (read-only). It falls back to
// the default threshold when neither answers.
func (e *env) failureThreshold(ctx context.Context, local bool) int {
	n := 0
	if local {
		if db, err := e.openLocal(); err == nil {
			s := notify.DefaultSettings()
			if _, err := db.Setting(notify.SettingsKey, &s); err == nil {
				n = s.FailureThreshold
			}
			db.Close()
		}
	} else if h, err := e.owner().Health(ctx); err == nil {
		n = h.FailureThreshold
	}
	if n < 1 {
		n = notify.DefaultSettings().FailureThreshold
	}
	return n
}

// statusChecks judges the schedule and the run state; threshold consecutive failed runs (or
// more) fail the check.
func statusChecks(d *diagnosis, st control.Status, now time.Time, threshold int) {
	sc := st.Schedule
	if err := sc.Validate(); err != nil {
		d.add("schedule", control.CheckFail, "fix it with `worktray schedule set`", "invalid: %v", err)
	} else {
		d.add("schedule", control.CheckOK, "", "%s · %s", describeSchedule(sc), describePolicy(sc))
	}
	switch {
	case st.Paused:
		d.add("next run", control.CheckWarn, "`worktray resume`", "paused: no scheduled runs")
	case !sc.Enabled:
		d.add("next run", control.CheckWarn, "`worktray schedule set --enabled true`", "the schedule is disabled")
	case st.Next.IsZero():
		d.add("next run", control.CheckWarn, "", "no slot ahead")
	default:
		d.add("next run", control.CheckOK, "", "%s (%s)", clock(st.Next, now), relative(st.Next, now))
	}
	switch {
	case st.LastRun == nil:
		d.add("last run", control.CheckInfo, "", "no run yet")
	case st.LastRun.Status == scheduler.StatusSucceeded:
		d.add("last run", control.CheckOK, "", "%s", runSummary(*st.LastRun, now))
	default:
		d.add("last run", control.CheckWarn, "", "%s", runSummary(*st.LastRun, now))
	}
	if st.Running != nil {
		d.add("running", control.CheckInfo, "", "run %d since %s", st.Running.ID, clock(st.Running.Started, now))
	}
	if st.Stuck != "" {
		since := ""
		if !st.StuckSince.IsZero() {
			since = " since " + clock(st.StuckSince, now)
		}
		d.add("scheduler", control.CheckFail, "see the log; `worktray schedule show` and `worktray schedule set` check the schedule",
			"stuck%s: it cannot arm its next run: %s", since, st.Stuck)
	}
	if problem := st.StorageProblem(); problem != "" {
		lost := ""
		if st.Unrecorded > 0 {
			lost = fmt.Sprintf("; %d run%s could not be recorded", st.Unrecorded, plural(st.Unrecorded))
		}
		d.add("store writes", control.CheckFail, "free space on the disk that holds the data directory (or fix its permissions); worktray goes on trying",
			"the store cannot be written: %s%s", problem, lost)
	}
	if st.Overdue() {
		d.add("overdue", control.CheckWarn, "`worktray diagnose --fix` starts it now (with worktray running)",
			"the %s slot has not started (%s late)", clock(st.OverdueSlot, now), span(st.OverdueBy))
	} else {
		d.add("overdue", control.CheckOK, "", "no slot is overdue")
	}
	switch {
	case st.LastMissed != nil:
		d.add("missed", control.CheckFail, "check that worktray runs all the time (start at login, or a service)", "%s", st.LastMissed.Message)
	case len(st.MissedWhileStopped) > 0:
		d.add("missed", control.CheckFail, "start worktray: it records them and runs one catch-up",
			"%s while worktray was not running", scheduler.MissedMessage(st.MissedWhileStopped, time.Local))
	default:
		d.add("missed", control.CheckOK, "", "no missed slots since the last success")
	}
	if st.ConsecutiveFailures > 0 {
		status := control.CheckWarn
		if st.ConsecutiveFailures >= threshold {
			status = control.CheckFail
		}
		d.add("failing", status, "see `worktray history --failed` and the logs", "%d consecutive failed run%s: %s: %s",
			st.ConsecutiveFailures, plural(st.ConsecutiveFailures), view.ClassText(st.LastErrorClass), st.LastError)
	} else {
		d.add("failing", control.CheckOK, "", "the last run did not fail")
	}
}

// recentErrors lists the latest failed runs.
func (e *env) recentErrors(ctx context.Context, d *diagnosis, local bool) {
	var (
		runs []scheduler.Run
		err  error
	)
	if local {
		var db *store.DB
		if db, err = e.openLocal(); err == nil {
			runs, err = db.Runs(store.RunQuery{Limit: 5, OnlyFailed: true})
			db.Close()
		}
	} else {
		runs, err = e.owner().History(ctx, 5, true)
	}
	if err != nil {
		d.add("recent errors", control.CheckWarn, "", "could not read the history: %v", err)
		return
	}
	if len(runs) == 0 {
		d.add("recent errors", control.CheckOK, "", "no failed runs")
		return
	}
	now := e.now()
	for _, r := range runs {
		d.add("recent errors", control.CheckInfo, "", "run %d %s: %s: %s", r.ID, clock(r.Started, now), view.ClassText(r.ErrorClass), oneLine(r.Message, 100))
	}
}

// localChecks makes the owner's checks on the store itself when no owner runs, and with fix
// marks runs left "running" as interrupted.
func (e *env) localChecks(ctx context.Context, d *diagnosis, st control.Status, fix bool) {
	db, err := e.openLocal()
	if err != nil {
		d.add("store integrity", control.CheckFail, "", "%v", err)
		return
	}
	if err := db.Check(); err != nil {
		d.add("store integrity", control.CheckFail, "restore a backup: `worktray backup list`, `worktray backup restore FILE`", "%v", err)
	} else {
		d.add("store integrity", control.CheckOK, "", "consistent")
	}
	db.Close()
	if len(st.StaleRuns) == 0 {
		d.add("running records", control.CheckOK, "", "none left running")
	} else if !fix {
		d.add("running records", control.CheckWarn, "`worktray diagnose --fix` marks them interrupted (so does starting worktray)",
			"%d run(s) left running by a process that stopped", len(st.StaleRuns))
	} else {
		e.fixStale(d, st.StaleRuns)
	}
	if e.io.LocalDiagnostics != nil {
		d.Checks = append(d.Checks, e.io.LocalDiagnostics(ctx, e.paths)...)
	} else {
		d.add("browser and portal", control.CheckInfo, "", "not checked while worktray is not running")
	}
}

// fixStale marks stale running records interrupted, as the owner does when it starts. It opens
// the store read-write, so it holds the single-instance lock for a moment.
func (e *env) fixStale(d *diagnosis, stale []scheduler.Run) {
	db, err := e.openLocalWrite()
	if err != nil {
		d.add("running records", control.CheckFail, "", "could not repair: %v", err)
		return
	}
	defer db.Close()
	now := e.now().UTC()
	for _, r := range stale {
		r.Status = scheduler.StatusInterrupted
		r.Finished = now
		if !r.Started.IsZero() {
			r.Duration = now.Sub(r.Started)
		}
		r.Message = fmt.Sprintf("the worktray process that ran it (pid %d) stopped before it finished", r.PID)
		if err := db.UpdateRun(r); err != nil {
			d.add("running records", control.CheckFail, "", "could not mark run %d interrupted: %v", r.ID, err)
			return
		}
		d.Fixed = append(d.Fixed, fmt.Sprintf("marked run %d (left running by pid %d) interrupted", r.ID, r.PID))
	}
	d.add("running records", control.CheckOK, "", "none left running")
}

// socketCheck checks the control socket's directory and file permissions.
func (e *env) socketCheck(d *diagnosis, local, fix bool) {
	dir := e.paths.RuntimeDir
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.add("socket", control.CheckInfo, "", "%s does not exist yet (worktray creates it)", dir)
		return
	case err != nil:
		d.add("socket", control.CheckFail, "", "%v", err)
		return
	case fi.Mode().Perm() != 0o700:
		d.add("socket", control.CheckFail, "restart worktray: it sets 0700", "%s has mode %04o, want 0700", dir, fi.Mode().Perm())
		return
	}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Getuid() {
		d.add("socket", control.CheckFail, "", "%s belongs to user id %d, not to you", dir, s.Uid)
		return
	}
	sfi, err := os.Lstat(e.paths.Socket)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if local {
			d.add("socket", control.CheckOK, "", "%s (0700); no socket while worktray is not running", dir)
		} else {
			d.add("socket", control.CheckFail, "", "the owner answers but %s is missing", e.paths.Socket)
		}
	case err != nil:
		d.add("socket", control.CheckFail, "", "%v", err)
	case local:
		if fix && e.removeStaleSocket() {
			d.Fixed = append(d.Fixed, "removed the stale socket "+e.paths.Socket)
			d.add("socket", control.CheckOK, "", "%s (0700); stale socket removed", dir)
		} else {
			d.add("socket", control.CheckInfo, "the next owner removes it", "%s is left over from an owner that stopped without cleaning up", e.paths.Socket)
		}
	case sfi.Mode().Perm() != 0o600:
		d.add("socket", control.CheckFail, "restart worktray", "%s has mode %04o, want 0600", e.paths.Socket, sfi.Mode().Perm())
	default:
		d.add("socket", control.CheckOK, "", "%s: directory 0700, socket 0600, other users refused", e.paths.Socket)
	}
}

// removeStaleSocket removes a socket nobody answers on, holding the store's lock so that no owner
// can be starting meanwhile.
func (e *env) removeStaleSocket() bool {
	db, err := e.openLocalWrite()
	if err != nil {
		return false
	}
	defer db.Close()
	if c, err := net.DialTimeout("unix", e.paths.Socket, 200*time.Millisecond); err == nil {
		c.Close()
		return false
	}
	return os.Remove(e.paths.Socket) == nil
}

// pathChecks says where the data and the logs are.
func (e *env) pathChecks(d *diagnosis) {
	if fi, err := os.Stat(e.paths.DB); err == nil {
		d.add("data", control.CheckInfo, "", "%s (%s)", e.paths.DB, bytesText(fi.Size()))
	} else {
		d.add("data", control.CheckInfo, "", "%s (not created yet)", e.paths.DB)
	}
	d.add("logs", control.CheckInfo, "", "%s", e.paths.LogDir)
}
