package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"worktray/control"
	"worktray/scheduler"
	"worktray/store"
)

func cmdRetention(ctx context.Context, e *env, args []string) error {
	sub := "show"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "show":
		return retentionShow(ctx, e, args)
	case "set":
		return retentionSet(ctx, e, args)
	}
	return usagef("unknown subcommand %q; use `retention show` or `retention set --keep N`", sub)
}

// currentRetention returns the retention and its revision from the owner, or from the store
// (read-only) when none runs. A stored value that no longer validates is shown as it is.
func (e *env) currentRetention(ctx context.Context) (control.RetentionInfo, bool, error) {
	r, err := e.owner().RetentionInfo(ctx)
	if !errors.Is(err, control.ErrNoOwner) {
		return r, false, err
	}
	db, err := e.openLocal()
	if errors.Is(err, errNeverRan) {
		return control.RetentionInfo{Retention: store.DefaultRetention()}, true, nil
	}
	if err != nil {
		return r, true, err
	}
	defer db.Close()
	r.Retention, err = db.Retention()
	var ve scheduler.ValidationError
	if errors.As(err, &ve) {
		err = nil
	}
	if err != nil {
		return r, true, err
	}
	r.Revision, err = db.Revision(store.RetentionKey)
	return r, true, err
}

func retentionShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	r, local, err := e.currentRetention(ctx)
	if err != nil {
		return err
	}
	show(e, r, local, func(v control.RetentionInfo) { printRetention(e, v.Retention) })
	return nil
}

func printRetention(e *env, r store.Retention) {
	fmt.Fprintf(e.io.Out, "History:   the last %s runs are kept; older ones are pruned daily\n", thousands(r.KeepRuns))
	fmt.Fprintln(e.io.Out, "           (a running run and the newest run are always kept)")
}

func retentionSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	keep := fs.String("keep", "", fmt.Sprintf("how many runs to keep, %d–%d", store.MinKeepRuns, store.MaxKeepRuns))
	var rev revisionFlag
	rev.register(fs, "retention settings")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "keep" })
	if !set {
		return usagef("nothing to set; give --keep N")
	}
	v := strings.ReplaceAll(strings.TrimSpace(*keep), ",", "")
	n, err := strconv.Atoi(v)
	if err != nil {
		return scheduler.ValidationError{{Field: "keep_runs", Msg: fmt.Sprintf("%q is not a whole number", *keep)}}
	}
	r := store.Retention{KeepRuns: n}
	// The whole setting is replaced, so a plain write loses nothing; with --revision it is
	// saved only if the retention is still at that revision.
	var saved store.Retention
	if rev.set {
		var info control.RetentionInfo
		info, err = e.owner().SetRetentionAt(ctx, r, rev.n)
		saved = info.Retention
	} else {
		saved, err = e.owner().SetRetention(ctx, r)
	}
	local := errors.Is(err, control.ErrNoOwner)
	switch {
	case err == nil:
		r = saved
	case !local:
		return unsure(err, "retention show")
	default:
		// No owner runs: write the store directly, with the same validation the owner applies
		// (store.SaveRetention validates). The owner prunes to it when it starts.
		if err := r.Validate(); err != nil {
			return err
		}
		db, err := e.openLocalWrite()
		if err != nil {
			return err
		}
		if rev.set {
			_, err = db.SaveRetentionAt(rev.n, r)
		} else {
			err = db.SaveRetention(r)
		}
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if e.json {
		writeJSON(e.io.Out, r)
		return nil
	}
	if local {
		fmt.Fprintln(e.io.Out, "worktray is not running; the retention was saved to the store and applies when worktray starts")
	} else {
		fmt.Fprintln(e.io.Out, "retention saved; older runs are pruned now")
	}
	printRetention(e, r)
	return nil
}

// thousands formats n with commas between groups of three digits: 10000 is "10,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
