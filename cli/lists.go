package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

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
	now := e.now()
	tw := tabwriter.NewWriter(e.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tTRIGGER\tSTATUS\tORDERS\tNEW\tDURATION\tDETAIL")
	for _, r := range runs {
		at := r.Started
		if r.Status == scheduler.StatusMissed && len(r.MissedSlots) > 0 {
			at = r.MissedSlots[0]
		}
		detail := r.Message
		if r.ErrorClass != "" {
			detail = string(r.ErrorClass) + ": " + r.Message
		}
		found, nw := strconv.Itoa(r.Found), strconv.Itoa(r.New)
		if r.Status != scheduler.StatusSucceeded {
			found, nw = "-", "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", r.ID, clock(at, now), r.Trigger, mark(r.Status), r.Status,
			found, nw, seconds(r.Duration), oneLine(detail, 90))
	}
	return tw.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: worktray backup FILE")
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "worktray-"+e.now().UTC().Format("20060102-150405")+".db")
	}
	res, err := e.owner().Backup(ctx, path)
	if errors.Is(err, control.ErrNoOwner) {
		var db *store.DB
		if db, err = e.openLocal(); err != nil {
			return err
		}
		defer db.Close()
		e.note("worktray is not running; copying the store directly")
		if err = db.Backup(ctx, path); err == nil {
			res = control.BackupResult{Path: path}
			if fi, serr := os.Stat(path); serr == nil {
				res.Bytes = fi.Size()
			}
		}
	}
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, res)
		return nil
	}
	fmt.Fprintf(e.io.Out, "backed up the store to %s (%s)\n", res.Path, bytesText(res.Bytes))
	return nil
}

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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
