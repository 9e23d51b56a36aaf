package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"worktray/control"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/secret"
)

// AlertsView is what `worktray alerts show` prints (and --json writes): the alert settings and
// the outbox with the delivery state.
type AlertsView struct {
	control.AlertsInfo
	Outbox control.OutboxResponse `json:"outbox"`
}

// alertsShow is `worktray alerts show`: the alert settings, then whether alerts reach Pushover
// (a refused key, held alerts), then the outbox: the alerts waiting and the last delivered.
// With no owner running it reads the store read-only.
func alertsShow(ctx context.Context, e *env) error {
	c := e.owner()
	var v AlertsView
	info, err := c.Alerts(ctx)
	local := false
	if err == nil {
		v.AlertsInfo = info
		v.Outbox, err = c.AlertsOutbox(ctx)
	} else if errors.Is(err, control.ErrNoOwner) {
		local = true
		v, err = e.localAlerts()
	}
	if err != nil {
		return err
	}
	show(e, v, local, func(v AlertsView) { printAlertsView(e, v, e.now()) })
	return nil
}

// localAlerts reads the alert settings, the delivery state and the outbox from the store.
func (e *env) localAlerts() (AlertsView, error) {
	var v AlertsView
	db, err := e.openLocal()
	if err != nil {
		return v, err
	}
	defer db.Close()
	s := notify.DefaultSettings()
	if _, err := db.Setting(notify.SettingsKey, &s); err != nil {
		return v, err
	}
	if v.Settings, err = json.Marshal(s); err != nil {
		return v, err
	}
	if v.Outbox.Pending, err = db.PendingAlerts(0); err != nil {
		return v, err
	}
	if v.Outbox.Sent, err = db.SentAlerts(control.OutboxSent); err != nil {
		return v, err
	}
	if v.Outbox.Delivery, err = db.AlertDelivery(); err != nil {
		return v, err
	}
	d := v.Outbox.Delivery
	v.Delivery = &d
	// Whether the keys are set, without moving or changing any secret (as diagnose does).
	if secrets, err := secret.Inspect(e.paths.ConfigDir, e.paths == paths.Resolve("")); err == nil {
		token, user, _ := secrets.PushoverCredentials()
		v.PushoverKeysSet = token != "" && user != ""
	}
	return v, nil
}

func printAlertsView(e *env, v AlertsView, now time.Time) {
	w := e.io.Out
	fmt.Fprintln(w, "Alert settings:")
	printAlerts(e, v.AlertsInfo)
	d := v.Outbox.Delivery
	fmt.Fprintln(w, "\nDelivery to Pushover:")
	s := notify.DefaultSettings()
	if len(v.Settings) > 0 && json.Unmarshal(v.Settings, &s) == nil && !s.PushoverEnabled {
		fmt.Fprintln(w, "  Pushover is off: alerts go to the desktop only (`worktray alerts set --pushover true --keys`)")
	} else {
		printDelivery(w, d, now)
	}
	fmt.Fprintf(w, "\nOutbox: %d waiting\n", len(v.Outbox.Pending))
	for _, a := range v.Outbox.Pending {
		fmt.Fprintf(w, "  %s\n", alertLine(a, a.Created, now))
		if a.Attempts > 1 || a.LastError != "" {
			detail := fmt.Sprintf("%d attempt%s", a.Attempts, plural(a.Attempts))
			if !a.NextTry.IsZero() {
				detail += ", next try " + clock(a.NextTry, now)
			}
			if a.LastError != "" {
				detail += ": " + oneLine(a.LastError, 100)
			}
			fmt.Fprintf(w, "      %s\n", detail)
		}
	}
	if len(v.Outbox.Sent) > 0 {
		fmt.Fprintf(w, "\nLast delivered (newest first, up to %d):\n", control.OutboxSent)
		for _, a := range v.Outbox.Sent {
			fmt.Fprintf(w, "  %s\n", alertLine(a.Alert, a.Sent, now))
		}
	}
}

// printDelivery prints the delivery state: what needs the user or holds alerts, or that alerts
// flow; then the last delivery.
func printDelivery(w io.Writer, d scheduler.AlertDelivery, now time.Time) {
	problems := d.Problems()
	for i, p := range problems {
		sign := "!"
		if i == 0 && d.NeedsUser != nil {
			sign = "✗"
		}
		fmt.Fprintf(w, "  %s %s\n", sign, p)
	}
	if len(problems) == 0 {
		fmt.Fprintln(w, "  ✓ nothing held")
	}
	if !d.LastSent.IsZero() {
		last := "  last sent " + clock(d.LastSent, now)
		if d.Remaining >= 0 {
			last += fmt.Sprintf(" · %d messages left this month", d.Remaining)
		}
		fmt.Fprintln(w, last)
	}
}

// alertLine is one alert of the outbox: "#12 09:31 failing  Scrapes are failing [pushover, desktop]".
func alertLine(a scheduler.Alert, at, now time.Time) string {
	var to []string
	if a.Pushover {
		to = append(to, "pushover")
	}
	if a.Desktop {
		to = append(to, "desktop")
	}
	return fmt.Sprintf("#%d  %s  %-11s %s %v", a.ID, clock(at, now), a.Kind, oneLine(a.Title, 60), to)
}
