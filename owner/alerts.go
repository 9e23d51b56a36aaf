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
		desktop = &notify.DBusDesktop{AppName: "worktray"}
	}
	n, err := notify.New(notify.Config{Outbox: o.db, Settings: o.db, State: o.db, Policy: o.policy,
		Credentials: o.secrets, Desktop: desktop, Logger: o.log, Redactor: o.secrets.Redactor(),
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
				case scheduler.EventScheduleChanged:
					sc := o.svc.Schedule()
					o.policy.SetLocation(sc.Location())
				}
			}
		}
	}}
}
