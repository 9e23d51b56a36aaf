package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"worktray/app/screens"
	"worktray/app/view"
	"worktray/control"
	"worktray/notify"
	"worktray/scheduler"
	"worktray/store"
)

// ControlBackend is the Backend of the windows: the owner's control API.
type ControlBackend struct {
	C *control.Client
}

var _ Backend = ControlBackend{}

// State implements Backend: the owner's status, which says whether a portal is set up.
func (b ControlBackend) State(ctx context.Context) (view.Situation, *screens.Owner, error) {
	st, err := b.C.Status(ctx)
	if err != nil {
		return view.Situation{}, nil, err
	}
	var owner *screens.Owner
	if st.Owner != nil {
		owner = &screens.Owner{PID: st.Owner.PID, Started: st.Owner.Started}
	}
	return view.Situation{Snapshot: st.Snapshot, NoPortal: st.NeedsSetup}, owner, nil
}

// Follow implements Backend.
func (b ControlBackend) Follow(ctx context.Context, fn func(scheduler.Event)) error {
	s, err := b.C.Events(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		ev, err := s.Next()
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("worktray stopped")
			}
			return err
		}
		fn(ev.Event)
	}
}

// ScrapeNow implements screens.StatusActions.
func (b ControlBackend) ScrapeNow(ctx context.Context) error { _, err := b.C.Scrape(ctx); return err }

// Cancel implements screens.StatusActions.
func (b ControlBackend) Cancel(ctx context.Context) error { return b.C.Cancel(ctx) }

// Pause implements screens.StatusActions.
func (b ControlBackend) Pause(ctx context.Context) error { _, err := b.C.Pause(ctx); return err }

// Resume implements screens.StatusActions.
func (b ControlBackend) Resume(ctx context.Context) error { _, err := b.C.Resume(ctx); return err }

// History implements screens.HistorySource.
func (b ControlBackend) History(ctx context.Context, n int, failed bool) ([]scheduler.Run, error) {
	return b.C.History(ctx, n, failed)
}

// Orders implements screens.OrdersSource.
func (b ControlBackend) Orders(ctx context.Context, removed bool) ([]scheduler.Order, error) {
	return b.C.Orders(ctx, removed)
}

// OrderHistory implements screens.OrdersSource.
func (b ControlBackend) OrderHistory(ctx context.Context, portalID string) ([]scheduler.OrderChange, error) {
	return b.C.OrderHistory(ctx, portalID)
}

// MarkSeen implements screens.OrdersSource.
func (b ControlBackend) MarkSeen(ctx context.Context, portalIDs ...string) error {
	_, err := b.C.MarkSeen(ctx, portalIDs...)
	return err
}

// MarkAllSeen implements screens.OrdersSource.
func (b ControlBackend) MarkAllSeen(ctx context.Context) error {
	_, err := b.C.MarkAllSeen(ctx)
	return err
}

// stale turns the control API's refusal of a write at an old revision into the settings
// window's ErrStaleSettings (both stay visible to errors.Is).
func stale(err error) error {
	if errors.Is(err, store.ErrStaleRevision) {
		return fmt.Errorf("%w (%w)", screens.ErrStaleSettings, err)
	}
	return err
}

// Schedule implements screens.SettingsBackend.
func (b ControlBackend) Schedule(ctx context.Context) (scheduler.Schedule, screens.Revision, error) {
	info, err := b.C.Schedule(ctx)
	return info.Schedule, screens.Revision(info.Revision), err
}

// SaveSchedule implements screens.SettingsBackend: the owner refuses it if the schedule was
// saved elsewhere since revision rev.
func (b ControlBackend) SaveSchedule(ctx context.Context, s scheduler.Schedule, rev screens.Revision) (screens.Revision, error) {
	info, err := b.C.SetScheduleAt(ctx, s, uint64(rev))
	return screens.Revision(info.Revision), stale(err)
}

// Portal implements screens.SettingsBackend.
func (b ControlBackend) Portal(ctx context.Context) (screens.Portal, error) {
	p, err := b.C.Portal(ctx)
	return screens.Portal{URL: p.URL, Profile: p.Profile, Username: p.Username, PasswordSet: p.PasswordSet,
		Revision: screens.Revision(p.Revision)}, err
}

// SavePortal implements screens.SettingsBackend: PortalInput leaves empty fields as they are,
// and the owner refuses the write if the portal settings were saved elsewhere since rev.
func (b ControlBackend) SavePortal(ctx context.Context, p screens.PortalChange, rev screens.Revision) (screens.Revision, error) {
	info, err := b.C.SetPortalAt(ctx, control.PortalInput{URL: p.URL, Profile: p.Profile, Username: p.Username, Password: p.Password}, uint64(rev))
	return screens.Revision(info.Revision), stale(err)
}

// TestLogin implements screens.SettingsBackend.
func (b ControlBackend) TestLogin(ctx context.Context) (string, error) {
	if err := b.C.TestLogin(ctx); err != nil {
		var re *scheduler.RunError
		if errors.As(err, &re) {
			// Words, not the class's code.
			return "", fmt.Errorf("the login failed: %s: %s", view.ClassText(re.Class), re.Msg)
		}
		return "", err
	}
	return "Logged in to the portal.", nil
}

// Alerts implements screens.SettingsBackend.
func (b ControlBackend) Alerts(ctx context.Context) (screens.Alerts, error) {
	info, err := b.C.Alerts(ctx)
	if err != nil {
		return screens.Alerts{}, err
	}
	s := notify.DefaultSettings()
	if len(info.Settings) > 0 {
		if err := json.Unmarshal(info.Settings, &s); err != nil {
			return screens.Alerts{}, fmt.Errorf("reading the alert settings: %w", err)
		}
	}
	return screens.Alerts{Settings: s, KeysSet: info.PushoverKeysSet, Revision: screens.Revision(info.Revision)}, nil
}

// SaveAlerts implements screens.SettingsBackend: only the fields that differ from the settings
// as loaded go to the owner (AlertsInput leaves nil fields as they are).
func (b ControlBackend) SaveAlerts(ctx context.Context, a screens.AlertsChange, rev screens.Revision) (screens.Revision, error) {
	info, err := b.C.SetAlertsAt(ctx, AlertsInput(a), uint64(rev))
	return screens.Revision(info.Revision), stale(err)
}

// AlertsInput is the partial update of an alerts change: a pointer for each field that differs
// from the base, and the keys that are set.
func AlertsInput(a screens.AlertsChange) control.AlertsInput {
	s, old := a.Settings, a.Base
	in := control.AlertsInput{PushoverToken: a.Token, PushoverUserKey: a.UserKey}
	if s.PushoverEnabled != old.PushoverEnabled {
		in.PushoverEnabled = &s.PushoverEnabled
	}
	if s.DesktopEnabled != old.DesktopEnabled {
		in.DesktopEnabled = &s.DesktopEnabled
	}
	if s.FailureThreshold != old.FailureThreshold {
		in.FailureThreshold = &s.FailureThreshold
	}
	if s.RenotifyMinutes != old.RenotifyMinutes {
		in.RenotifyMinutes = &s.RenotifyMinutes
	}
	if s.QuietEnabled != old.QuietEnabled {
		in.QuietEnabled = &s.QuietEnabled
	}
	if s.QuietFrom != old.QuietFrom {
		in.QuietFrom = &s.QuietFrom
	}
	if s.QuietTo != old.QuietTo {
		in.QuietTo = &s.QuietTo
	}
	if s.QuietZone != old.QuietZone {
		in.QuietZone = &s.QuietZone
	}
	if s.NewOrdersDesktop != old.NewOrdersDesktop {
		in.NewOrdersDesktop = &s.NewOrdersDesktop
	}
	if s.NewOrdersPushover != old.NewOrdersPushover {
		in.NewOrdersPushover = &s.NewOrdersPushover
	}
	if s.LargeDropAlert != old.LargeDropAlert {
		in.LargeDropAlert = &s.LargeDropAlert
	}
	return in
}

// SendTestAlert implements screens.SettingsBackend.
func (b ControlBackend) SendTestAlert(ctx context.Context) (string, error) {
	if err := b.C.SendTestAlert(ctx); err != nil {
		return "", err
	}
	return "Test alert sent.", nil
}

// Retention implements screens.SettingsBackend.
func (b ControlBackend) Retention(ctx context.Context) (store.Retention, screens.Revision, error) {
	info, err := b.C.RetentionInfo(ctx)
	return info.Retention, screens.Revision(info.Revision), err
}

// SaveRetention implements screens.SettingsBackend.
func (b ControlBackend) SaveRetention(ctx context.Context, r store.Retention, rev screens.Revision) (screens.Revision, error) {
	info, err := b.C.SetRetentionAt(ctx, r, uint64(rev))
	return screens.Revision(info.Revision), stale(err)
}
