package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"worktray/app/view"
	"worktray/control"
	"worktray/scheduler"
	"worktray/store"
)

func cmdHistory(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	n := fs.Int("n", 20, "how many runs")
	failed := fs.Bool("failed", false, "only failed runs")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return usagef("-n must be at least 1, got %d", *n)
	}
	runs, err := e.owner().History(ctx, *n, *failed)
	if errors.Is(err, control.ErrNoOwner) {
		var db *store.DB
		if db, err = e.openLocal(); err != nil {
			return err
		}
		defer db.Close()
		e.note(notRunningNote)
		runs, err = db.Runs(store.RunQuery{Limit: *n, OnlyFailed: *failed})
	}
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, control.RunsResponse{Runs: nonNil(runs)})
		return nil
	}
	if len(runs) == 0 {
		fmt.Fprintln(e.io.Out, "no runs yet")
		return nil
	}
	return printHistory(e.io.Out, runs, e.now())
}

// printHistory writes runs as a table that fits the terminal, then the files kept for each
// failed run (its screenshot and page HTML), so that the user can open them.
func printHistory(w io.Writer, runs []scheduler.Run, now time.Time) error {
	t := newTable(w, "RUN", "STARTED", "TRIGGER", "STATUS", "ORDERS", "NEW", "DURATION", "DETAIL")
	var kept []scheduler.Run
	for _, r := range runs {
		at := r.Started
		if r.Status == scheduler.StatusMissed && len(r.MissedSlots) > 0 {
			at = r.MissedSlots[0]
		}
		detail := r.Message
		if r.ErrorClass != "" {
			detail = view.ClassText(r.ErrorClass)
			if r.Message != "" {
				detail += ": " + r.Message
			}
		}
		found, nw := strconv.Itoa(r.Found), strconv.Itoa(r.New)
		if r.Status != scheduler.StatusSucceeded {
			found, nw = "-", "-"
		}
		t.row(strconv.FormatUint(r.ID, 10), clock(at, now), string(r.Trigger),
			markColoured(w, mark(r.Status))+" "+string(r.Status), found, nw, view.RunDuration(&r),
			strings.Join(strings.Fields(detail), " "))
		if len(r.Artifacts) > 0 {
			kept = append(kept, r)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(kept) > 0 {
		fmt.Fprintln(w, "\nFiles kept of failed runs (screenshot and page HTML):")
		for _, r := range kept {
			fmt.Fprintf(w, "  run %d: %s\n", r.ID, strings.Join(r.Artifacts, ", "))
		}
	}
	return nil
}
