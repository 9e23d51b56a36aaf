package owner

import (
	"context"
	"fmt"
	"time"

	"worktray/notify"
	"worktray/scheduler"
)

// alerts builds the alert policy (the scheduler consults it inside each outcome's transaction)
// and returns the notifier that delivers the outbox to Pushover and the desktop.
func (o *owner) alerts() (part, error) {
	settings := notify.DefaultSettings()
	if _, err := o.db.Setting(notify.SettingsKey, &settings); err != nil {
		return part{}, fmt.Errorf("reading the alert settings: %w", err)
	}
	o.policy = notify.NewPolicy(settings, time.Local, o.secrets.Redactor())
	var desktop notify.Desktop
	if !o.opts.Headless {
		d := &notify.DBusDesktop{AppName: "worktray", OnAction: o.openFromNotification}
		o.cleanup.add(func() { _ = d.Close() })
		desktop = d
	}
	n, err := notify.New(notify.Config{Outbox: o.db, Settings: o.db, State: o.db, Policy: o.policy,
		Credentials: o.secrets, Desktop: desktop, Delivery: o.db, Logger: o.log, Redactor: o.secrets.Redactor(),
		PushoverEndpoint: o.opts.PushoverEndpoint})
	if err != nil {
		return part{}, err
	}
	o.notifier = n
	return part{"notifier", n.Run}, nil
}

// alertWakeUp wakes the notifier on every EventAlertsQueued and keeps the policy in the
// schedule's zone.
func (o *owner) alertWakeUp(sub *scheduler.Subscription) part {
	o.cleanup.add(sub.Close)
	return part{"alert wake-up", func(ctx context.Context) error {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev := <-sub.C:
				switch ev.Kind {
				case scheduler.EventAlertsQueued:
					o.notifier.Kick()
				case scheduler.EventRunFinished:
					if ev.Run != nil && ev.Run.Status == scheduler.StatusSucceeded {
						o.notifier.ScrapesWork() // withdraws the failing and missed notifications
					}
				case scheduler.EventScheduleChanged:
					sc := o.svc.Schedule()
					o.policy.SetLocation(sc.Location())
				}
			}
		}
	}}
}

// openFromNotification opens the window a clicked notification or its button names, through
// the control API's window hook (the windows process). It is called on the desktop
// notifications' bus reader and does not wait for the window.
func (o *owner) openFromNotification(window string) {
	show := o.windowHook()
	if show == nil {
		return
	}
	go func() {
		if err := show(window); err != nil {
			o.log.Warn("opening a window from a notification", "window", window, "err", err)
		}
	}()
}
