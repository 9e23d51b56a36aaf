package owner

import (
	"context"

	"worktray/calendar"
	"worktray/scheduler"
)

// visitsCalendar keeps visits.ics beside the store current (issue 12): it writes the file at
// start and again after every run that finished with success (the only runs that apply
// orders), subscribed to the run-finished event as the alert wake-up is. Writing happens on
// this part's goroutine, never on the scheduler's. A failure to write is logged and tried
// again after the next run; it never stops the owner.
func (o *owner) visitsCalendar(sub *scheduler.Subscription) part {
	o.cleanup.add(sub.Close)
	path := calendar.Path(o.paths.DB)
	write := func(why string) {
		n, err := calendar.Update(o.db, path, calendar.Options{})
		if err != nil {
			o.log.Warn("visits calendar not written", "path", path, "err", err)
			return
		}
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
				if ev.Kind == scheduler.EventRunFinished && ev.Run != nil && ev.Run.Status == scheduler.StatusSucceeded {
					write(string(ev.Run.Trigger) + " run")
				}
			}
		}
	}}
}
