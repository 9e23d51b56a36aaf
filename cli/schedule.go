package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"worktray/control"
	"worktray/scheduler"
	"worktray/store"
)

func cmdSchedule(ctx context.Context, e *env, args []string) error {
	sub := "show"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "show":
		return scheduleShow(ctx, e, args)
	case "set":
		return scheduleSet(ctx, e, args)
	}
	return usagef("unknown subcommand %q; use `schedule show` or `schedule set`", sub)
}

// currentSchedule returns the schedule from the owner, or from the store when none runs.
func (e *env) currentSchedule(ctx context.Context) (control.ScheduleInfo, bool, error) {
	si, err := e.owner().Schedule(ctx)
	if !errors.Is(err, control.ErrNoOwner) {
		return si, false, err
	}
	db, err := e.openLocal()
	if errors.Is(err, errNeverRan) {
		sc := scheduler.DefaultSchedule(scheduler.SystemZone())
		_ = sc.Validate()
		return control.ScheduleInfo{Schedule: sc, NextRuns: sc.NextN(e.now(), 5)}, true, nil
	}
	if err != nil {
		return si, true, err
	}
	defer db.Close()
	sc, err := db.Schedule()
	if errors.Is(err, scheduler.ErrNotFound) {
		sc, err = scheduler.DefaultSchedule(scheduler.SystemZone()), nil
		_ = sc.Validate()
	}
	if err != nil {
		return si, true, err
	}
	rev, err := db.Revision(store.ScheduleKey)
	if err != nil {
		return si, true, err
	}
	return control.ScheduleInfo{Schedule: sc, NextRuns: sc.NextN(e.now(), 5), Revision: rev}, true, nil
}

func scheduleShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	si, local, err := e.currentSchedule(ctx)
	if err != nil {
		return err
	}
	show(e, si, local, func(v control.ScheduleInfo) { printSchedule(e, v) })
	return nil
}

func printSchedule(e *env, si control.ScheduleInfo) {
	s := si.Schedule
	fmt.Fprintf(e.io.Out, "Schedule:  %s\n", describeSchedule(s))
	fmt.Fprintf(e.io.Out, "Policy:    %s\n", describePolicy(s))
	if len(si.NextRuns) == 0 {
		fmt.Fprintln(e.io.Out, "Next runs: none")
		return
	}
	fmt.Fprintln(e.io.Out, "Next runs:")
	now := e.now()
	loc := s.Location()
	for _, t := range si.NextRuns {
		zoned := ""
		if _, off1 := t.In(loc).Zone(); off1 != func() int { _, o := t.Local().Zone(); return o }() {
			zoned = fmt.Sprintf("  (%s %s)", t.In(loc).Format("15:04"), s.Zone)
		}
		fmt.Fprintf(e.io.Out, "  %s  %s%s\n", t.Local().Format("Mon 2006-01-02 15:04"), relative(t, now), zoned)
	}
}

// scheduleFlags are the flags of `schedule set`, kept as text so that a bad value can be reported
// with the field it belongs to.
var scheduleFlags = []struct{ name, field, help string }{
	{"minute", "minute", "minute past the hour, 0–59"},
	{"hour", "hour", "the hour the every-N-hours cycle starts from, 0–23"},
	{"every", "every_hours", "every N hours: 1, 2, 3, 4, 6, 8, 12 or 24"},
	{"active-from", "active_from", "start of the active hours, 0–23 (or HH:00)"},
	{"active-to", "active_to", "end of the active hours, 0–24 (or HH:00); equal to --active-from means all day"},
	{"weekdays", "weekdays", "days to run: mon,tue,… or all, weekdays, weekend"},
	{"zone", "zone", "IANA time zone, e.g. Europe/London, or local"},
	{"grace", "grace_minutes", "misfire grace: minutes, or a duration such as 1h30m"},
	{"retries", "retries", "retries after a failed scheduled run, 0–10"},
	{"backoff", "retry_backoff_minutes", "first retry delay in minutes (doubles each retry)"},
	{"catch-up", "catch_up", "run once after missed slots: true or false"},
	{"enabled", "enabled", "scheduled runs on or off: true or false"},
}

func scheduleSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	vals := map[string]*string{}
	for _, f := range scheduleFlags {
		vals[f.name] = fs.String(f.name, "", f.help)
	}
	dry := fs.Bool("dry-run", false, "validate and show the next five runs without saving")
	var rev revisionFlag
	rev.register(fs, "schedule settings")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	changed := false
	for _, f := range scheduleFlags {
		changed = changed || set[f.name]
	}
	if !changed && !*dry {
		return usagef("nothing to set; give at least one of --minute --hour --every --active-from --active-to --weekdays --zone --grace --retries --backoff --catch-up --enabled")
	}
	cur, local, err := e.currentSchedule(ctx)
	if err != nil {
		return err
	}
	sc := cur.Schedule
	if err := applyScheduleFlags(&sc, set, vals); err != nil {
		return err
	}
	var si control.ScheduleInfo
	switch {
	case *dry && !local:
		next, err := e.owner().Preview(ctx, sc, 5)
		if err != nil {
			return err
		}
		si = control.ScheduleInfo{Schedule: sc, NextRuns: next}
	case *dry:
		if err := sc.Validate(); err != nil {
			return err
		}
		si = control.ScheduleInfo{Schedule: sc, NextRuns: sc.NextN(e.now(), 5)}
	case !local:
		// Saved only if nobody saved the schedule since it was read: a concurrent change is
		// refused (ExitStale), never silently overwritten.
		if si, err = e.owner().SetScheduleAt(ctx, sc, rev.based(cur.Revision)); err != nil {
			return unsure(err, "schedule show")
		}
	default:
		// No owner runs: write the store directly, with the same validation and revision check
		// the owner applies (store.SaveScheduleRev). The owner uses it when it starts.
		if err := sc.Validate(); err != nil {
			return err
		}
		db, err := e.openLocalWrite()
		if err != nil {
			return err
		}
		n, err := db.SaveScheduleRev(rev.based(cur.Revision), sc)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		si = control.ScheduleInfo{Schedule: sc, NextRuns: sc.NextN(e.now(), 5), Revision: n}
	}
	if e.json {
		writeJSON(e.io.Out, si)
		return nil
	}
	switch {
	case *dry:
		fmt.Fprintln(e.io.Out, "dry run: the schedule is valid and was not saved")
	case local:
		fmt.Fprintln(e.io.Out, "worktray is not running; the schedule was saved to the store and applies when worktray starts")
	default:
		fmt.Fprintln(e.io.Out, "schedule saved; it applies now")
	}
	printSchedule(e, si)
	return nil
}

// applyScheduleFlags sets the fields whose flags were given. A value that does not parse is
// reported as a scheduler.ValidationError naming its field.
func applyScheduleFlags(sc *scheduler.Schedule, set map[string]bool, vals map[string]*string) error {
	var errs scheduler.ValidationError
	bad := func(field, format string, args ...any) {
		errs = append(errs, &scheduler.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	integer := func(name, field string, dst *int) {
		if !set[name] {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(*vals[name]))
		if err != nil {
			bad(field, "%q is not a whole number", *vals[name])
			return
		}
		*dst = n
	}
	hour := func(name, field string, dst *int) {
		if !set[name] {
			return
		}
		v := strings.TrimSpace(*vals[name])
		if h, m, ok := strings.Cut(v, ":"); ok {
			if m != "00" {
				bad(field, "active hours are whole hours; %q has minutes", v)
				return
			}
			v = h
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(field, "%q is not an hour", *vals[name])
			return
		}
		*dst = n
	}
	boolean := func(name, field string, dst *bool) {
		if !set[name] {
			return
		}
		switch strings.ToLower(strings.TrimSpace(*vals[name])) {
		case "true", "on", "yes", "1":
			*dst = true
		case "false", "off", "no", "0":
			*dst = false
		default:
			bad(field, "%q is not true or false", *vals[name])
		}
	}
	integer("minute", "minute", &sc.Minute)
	integer("hour", "hour", &sc.Hour)
	if set["every"] {
		v := strings.TrimSuffix(strings.TrimSpace(*vals["every"]), "h")
		if n, err := strconv.Atoi(v); err != nil {
			bad("every_hours", "%q is not a number of hours", *vals["every"])
		} else {
			sc.EveryHours = n
		}
	}
	hour("active-from", "active_from", &sc.ActiveFrom)
	hour("active-to", "active_to", &sc.ActiveTo)
	if set["weekdays"] {
		if days, err := parseWeekdays(*vals["weekdays"]); err != nil {
			bad("weekdays", "%v", err)
		} else {
			sc.Weekdays = days
		}
	}
	if set["zone"] {
		z := strings.TrimSpace(*vals["zone"])
		if strings.EqualFold(z, "local") {
			z = scheduler.SystemZone()
		}
		sc.Zone = z
	}
	if set["grace"] {
		v := strings.TrimSpace(*vals["grace"])
		if n, err := strconv.Atoi(v); err == nil {
			sc.GraceMinutes = n
		} else if d, err := time.ParseDuration(v); err == nil && d%time.Minute == 0 {
			sc.GraceMinutes = int(d / time.Minute)
		} else {
			bad("grace_minutes", "%q is not a number of minutes or a duration such as 1h30m", v)
		}
	}
	integer("retries", "retries", &sc.Retries)
	integer("backoff", "retry_backoff_minutes", &sc.RetryBackoff)
	boolean("catch-up", "catch_up", &sc.CatchUp)
	boolean("enabled", "enabled", &sc.Enabled)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// parseWeekdays reads "mon,tue", "monday", "all", "weekdays", "weekend" or "mon-fri".
func parseWeekdays(v string) ([]time.Weekday, error) {
	names := map[string]time.Weekday{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		names[full] = d
		names[full[:3]] = d
	}
	var out []time.Weekday
	add := func(d time.Weekday) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, part := range strings.Split(strings.ToLower(v), ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "":
			continue
		case "all", "daily", "every":
			for d := time.Sunday; d <= time.Saturday; d++ {
				add(d)
			}
			continue
		case "weekdays", "workdays":
			for d := time.Monday; d <= time.Friday; d++ {
				add(d)
			}
			continue
		case "weekend", "weekends":
			add(time.Saturday)
			add(time.Sunday)
			continue
		}
		if a, b, ok := strings.Cut(part, "-"); ok {
			from, ok1 := names[a]
			to, ok2 := names[b]
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%q is not a range of days such as mon-fri", part)
			}
			for d := from; ; d = (d + 1) % 7 {
				add(d)
				if d == to {
					break
				}
			}
			continue
		}
		d, ok := names[part]
		if !ok {
			return nil, fmt.Errorf("%q is not a day; use mon, tue, wed, thu, fri, sat, sun", part)
		}
		add(d)
	}
	if len(out) == 0 {
		return nil, errors.New("choose at least one day")
	}
	slices.Sort(out)
	return out, nil
}
