package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"worktray/app/view"
	"worktray/control"
	"worktray/scheduler"
)

// status returns the owner's status, or the stored state when no owner runs (local is then true).
func (e *env) status(ctx context.Context) (st control.Status, local bool, err error) {
	st, err = e.owner().Status(ctx)
	if !errors.Is(err, control.ErrNoOwner) {
		return st, false, err
	}
	db, err := e.openLocal()
	if err != nil {
		return st, true, err
	}
	defer db.Close()
	st, err = localStatus(db, e.now())
	return st, true, err
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	st, local, err := e.status(ctx)
	if errors.Is(err, errNeverRan) {
		// Nothing here yet: not set up is the first thing that needs attention (see attention.go).
		var xe *exitError
		if errors.As(err, &xe) {
			err = xe.err
		}
		return exitWith(ExitNotSetUp, err)
	}
	if err != nil {
		return err
	}
	now := e.now()
	if e.json {
		if local {
			e.note(notRunningNote) // on stderr, so that the JSON stays clean
		}
		writeJSON(e.io.Out, st)
	} else {
		printStatus(e.io.Out, st, now)
	}
	if code := statusExit(st, now); code != ExitOK {
		return exitWith(code, nil) // said in the output; the code tells scripts
	}
	return nil
}

// printStatus renders a status for people.
func printStatus(w io.Writer, st control.Status, now time.Time) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-10s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	if o := st.Owner; o != nil {
		mode := "with tray"
		if o.Headless {
			mode = "headless"
		}
		line("Owner", "running (pid %d, %s, up %s)", o.PID, mode, span(now.Sub(o.Started)))
	} else {
		line("Owner", "not running (showing the stored state)")
	}
	switch {
	case st.Owner == nil:
		line("Next run", "none")
	case st.Paused:
		line("Next run", "paused (worktray resume)")
	case st.NeedsSetup:
		line("Next run", "none until a portal is set up")
	case !st.Schedule.Enabled:
		line("Next run", "none: the schedule is disabled")
	case st.Next.IsZero():
		line("Next run", "none")
	default:
		line("Next run", "%s (%s)", clock(st.Next, now), relative(st.Next, now))
	}
	if st.LastRun != nil {
		line("Last run", "%s", runSummary(*st.LastRun, now))
	} else {
		line("Last run", "never")
	}
	if st.LastSuccess != nil && (st.LastRun == nil || st.LastSuccess.ID != st.LastRun.ID) {
		line("Last OK", "%s", runSummary(*st.LastSuccess, now))
	}
	line("Schedule", "%s", describeSchedule(st.Schedule))
	line("Orders", "%d", st.Orders)
	if st.Running != nil {
		r := st.Running
		p := scheduler.Progress{Stage: scheduler.StageStarting}
		if st.Progress != nil {
			p = *st.Progress
		}
		line("Running", "run %d (%s, started %s) %s %d%% · %s", r.ID, r.Trigger, relative(r.Started, now),
			bar(p.Percent, 20), p.Percent, progressLine(p))
	}
	for _, r := range st.StaleRuns {
		line("Stale", "run %d was left running by pid %d; it is marked interrupted when worktray starts", r.ID, r.PID)
	}
	if !st.RetryAt.IsZero() && st.Owner != nil {
		line("Retry", "%s (%s)", clock(st.RetryAt, now), relative(st.RetryAt, now))
	}
	if o := st.Owner; o != nil && o.VisitsFile != "" {
		line("Visits", "%s (iCalendar; calendar apps can subscribe to it)", o.VisitsFile)
	}
	if d := st.Alerts; d != nil {
		for i, p := range d.Problems() {
			if i == 0 {
				line("Alerts", "%s", p)
			} else {
				fmt.Fprintf(w, "%-10s %s\n", "", p)
			}
		}
	}
	problems := attentionOf(st)
	if len(problems) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNeeds attention:")
	for _, a := range problems {
		detail := ""
		switch a.code {
		case ExitFailing:
			detail = failureDetail(st, now)
		case ExitMissed:
			detail = missedDetail(st)
		case ExitOverdue:
			detail = fmt.Sprintf("due at %s, not started yet", clock(st.OverdueSlot, now))
		}
		if detail != "" {
			fmt.Fprintf(w, "  ✗ %s: %s\n", a.what, detail)
		} else {
			fmt.Fprintf(w, "  ✗ %s\n", a.what)
		}
	}
}

// failureDetail says why the scrapes fail, in words, and since when.
func failureDetail(st control.Status, now time.Time) string {
	d := view.ClassText(st.LastErrorClass)
	if st.LastError != "" {
		d += " (" + st.LastError + ")"
	}
	if !st.FailingSince.IsZero() {
		d += ", failing since " + clock(st.FailingSince, now)
	}
	return d
}

// missedDetail names the missed slots.
func missedDetail(st control.Status) string {
	var parts []string
	if st.LastMissed != nil && st.LastMissed.Message != "" {
		parts = append(parts, st.LastMissed.Message)
	}
	if len(st.MissedWhileStopped) > 0 {
		parts = append(parts, scheduler.MissedMessage(st.MissedWhileStopped, time.Local)+" while worktray was not running")
	}
	return strings.Join(parts, "; ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func cmdPause(ctx context.Context, e *env, args []string) error {
	return e.simple(args, func() (control.Status, error) { return e.owner().Pause(ctx) },
		func(st control.Status) string { return "scheduled runs are paused; `worktray resume` resumes them" })
}

func cmdResume(ctx context.Context, e *env, args []string) error {
	return e.simple(args, func() (control.Status, error) { return e.owner().Resume(ctx) },
		func(st control.Status) string {
			if st.Next.IsZero() {
				return "scheduled runs resumed"
			}
			return fmt.Sprintf("scheduled runs resumed; next run %s (%s)", clock(st.Next, e.now()), relative(st.Next, e.now()))
		})
}

// simple runs a command with no arguments that goes to the owner and prints a sentence.
func (e *env) simple(args []string, do func() (control.Status, error), say func(control.Status) string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	st, err := do()
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, st)
	} else {
		fmt.Fprintln(e.io.Out, say(st))
	}
	return nil
}

func cmdCancel(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	c := e.owner()
	before, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if err := c.Cancel(ctx); err != nil {
		return err
	}
	if e.json {
		out := map[string]any{"canceled": true}
		if before.Running != nil {
			out["run"] = before.Running
		}
		writeJSON(e.io.Out, out)
		return nil
	}
	if before.Running != nil {
		fmt.Fprintf(e.io.Out, "canceling run %d (%s, started %s)\n", before.Running.ID, before.Running.Trigger,
			relative(before.Running.Started, e.now()))
	} else {
		fmt.Fprintln(e.io.Out, "canceling the running scrape")
	}
	return nil
}
