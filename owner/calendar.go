package owner

import (
	"context"
	"time"

	"worktray/calendar"
	"worktray/scheduler"
)

// visitsRewrite is how old visits.ics may get while no run changes any order: cancelled visits
// leave the file calendar.Options.KeepCancelled after their removal, so it is rewritten at
// least daily.
const visitsRewrite = 24 * time.Hour

// visitsCalendar keeps visits.ics beside the store current (issue 12): it writes the file at
// start, after every successful run that changed the stored orders (new, changed, missing,
// removed or reappeared ones) and after any successful run once the file is a day old,
// subscribed to the run-finished event as the alert wake-up is. Writing happens on this part's
// goroutine, never on the scheduler's. A failure to write is logged and tried again after the
// next run; it never stops the owner.
func (o *owner) visitsCalendar(sub *scheduler.Subscription) part {
	o.cleanup.add(sub.Close)
	path := calendar.Path(o.paths.DB)
	var written time.Time
	write := func(why string) {
		n, err := calendar.Update(o.db, path, calendar.Options{})
		if err != nil {
			o.log.Warn("visits calendar not written", "path", path, "err", err)
			return
		}
		written = time.Now()
		o.log.Debug("visits calendar written", "path", path, "events", n, "after", why)
	}
	return part{"visits calendar", func(ctx context.Context) error {
		defer sub.Close()
		write("start")
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev := <-sub.C:
				if ev.Kind != scheduler.EventRunFinished || ev.Run == nil || ev.Run.Status != scheduler.StatusSucceeded {
					continue
				}
				if ordersChanged(ev.Diff) || time.Since(written) >= visitsRewrite {
					write(string(ev.Run.Trigger) + " run")
				}
			}
		}
	}}
}

// ordersChanged reports whether a run's diff changed anything the calendar shows; a missing
// diff counts as a change.
func ordersChanged(d *scheduler.Diff) bool {
	return d == nil || len(d.New)+len(d.Changed)+len(d.Missing)+len(d.Removed)+len(d.Reappeared) > 0
}
