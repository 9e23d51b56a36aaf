package owner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"worktray/control"
	"worktray/notify"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/secret"
)

// This file implements what the control API asks of the owner's parts: the portal and alert
// settings (validated by the core, in one place), "Test login", "Send test" and the checks of
// `worktray diagnose`.

// hooks returns the control API's hooks over the owner's store, secrets, policy and notifier.
func (o *owner) hooks() control.Hooks {
	h := control.Hooks{
		Portal:        o.portalInfo,
		SetPortal:     o.setPortal,
		TestLogin:     o.testLogin,
		TestProfile:   o.testProfile,
		Alerts:        func(context.Context) (control.AlertsInfo, error) { return o.alertsInfo(o.alertSettings()) },
		SetAlerts:     o.setAlerts,
		SendTestAlert: o.sendTestAlert,
		Diagnostics: func(ctx context.Context) []control.Check {
			return diagnostics(ctx, o.db, o.secrets)
		},
		FailureThreshold: func() int { return o.alertSettings().FailureThreshold },
		RetentionChanged: o.retentionChanged,
	}
	h.ShowWindow = o.windowHook()
	return h
}

// settingsChanged tells the tray and the windows (the event stream) that a setting was saved.
func (o *owner) settingsChanged(setting string) {
	if o.svc != nil {
		o.svc.SettingsChanged(setting)
	}
}

func (o *owner) portalSettings() (scraper.Settings, error) {
	var ps scraper.Settings
	if _, err := o.db.Setting(scraper.SettingsKey, &ps); err != nil {
		return ps, fmt.Errorf("reading the portal settings: %w", err)
	}
	return ps, nil
}

func (o *owner) portalInfo(context.Context) (control.PortalInfo, error) {
	ps, err := o.portalSettings()
	if err != nil {
		return control.PortalInfo{}, err
	}
	rev, err := o.db.Revision(scraper.SettingsKey)
	if err != nil {
		return control.PortalInfo{}, err
	}
	_, perr := o.secrets.Get(secret.PortalPassword)
	return control.PortalInfo{URL: ps.URL, Profile: ps.Profile, Username: ps.Username, PasswordSet: perr == nil,
		Revision: rev}, nil
}

// setPortal merges in over the stored portal settings, validates the result and the password,
// and saves them; an invalid value changes nothing, and when the settings cannot be saved the
// password is put back as it was. The control server runs it under its settings lock, after
// the revision check.
func (o *owner) setPortal(ctx context.Context, in control.PortalInput) (control.PortalInfo, error) {
	ps, err := o.portalSettings()
	if err != nil {
		return control.PortalInfo{}, err
	}
	if in.URL != "" {
		ps.URL = strings.TrimSpace(in.URL)
	}
	if in.Profile != "" {
		ps.Profile = in.Profile
	}
	if in.Username != "" {
		ps.Username = strings.TrimSpace(in.Username)
	}
	var errs scheduler.ValidationError
	if err := ps.Validate(); err != nil {
		errors.As(err, &errs)
		if errs == nil {
			return control.PortalInfo{}, err
		}
	}
	if in.Password != nil && *in.Password == "" {
		errs = append(errs, &scheduler.FieldError{Field: "password", Msg: "is empty"})
	}
	if len(errs) > 0 {
		return control.PortalInfo{}, errs
	}
	// The secret first: if it cannot be stored, the settings stay as they were; if the settings
	// cannot be, the secret goes back.
	var undo secretUndo
	if in.Password != nil {
		if err := undo.replace(o, secret.PortalPassword, *in.Password); err != nil {
			return control.PortalInfo{}, err
		}
	}
	if err := o.db.PutSetting(scraper.SettingsKey, ps); err != nil {
		undo.run(o)
		return control.PortalInfo{}, err
	}
	o.log.Info("portal settings changed", "url", ps.URL, "profile", ps.Profile, "username", ps.Username,
		"password_changed", in.Password != nil)
	o.settingsChanged("portal") // the tray may leave its "Set up your portal…" state
	return o.portalInfo(ctx)
}

// testLogin signs in with the saved settings in a browser of its own (not the scheduler's: a
// login test is not a scrape and reads no orders).
func (o *owner) testLogin(ctx context.Context) error {
	p := &portalScraper{db: o.db, secrets: o.secrets, artifacts: o.paths.ArtifactDir, log: o.log, dataDir: o.paths.DataDir}
	s, err := p.build(false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return s.TestLogin(ctx)
}

func (o *owner) alertSettings() notify.Settings {
	s := notify.DefaultSettings()
	if _, err := o.db.Setting(notify.SettingsKey, &s); err != nil {
		o.log.Error("reading the alert settings", "err", err)
	}
	return s
}

// setAlerts applies a partial update of the alert settings and the Pushover keys: everything is
// validated first, then saved; an invalid value changes nothing.
func (o *owner) setAlerts(_ context.Context, in control.AlertsInput) (control.AlertsInfo, error) {
	s := o.alertSettings()
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.PushoverEnabled, in.PushoverEnabled)
	set(&s.DesktopEnabled, in.DesktopEnabled)
	set(&s.QuietEnabled, in.QuietEnabled)
	set(&s.NewOrdersDesktop, in.NewOrdersDesktop)
	set(&s.NewOrdersPushover, in.NewOrdersPushover)
	set(&s.LargeDropAlert, in.LargeDropAlert)
	if in.FailureThreshold != nil {
		s.FailureThreshold = *in.FailureThreshold
	}
	if in.RenotifyMinutes != nil {
		s.RenotifyMinutes = *in.RenotifyMinutes
	}
	for dst, v := range map[*string]*string{&s.QuietFrom: in.QuietFrom, &s.QuietTo: in.QuietTo, &s.QuietZone: in.QuietZone} {
		if v != nil {
			*dst = *v
		}
	}
	var errs scheduler.ValidationError
	if err := s.Validate(); err != nil {
		if !errors.As(err, &errs) {
			return control.AlertsInfo{}, err
		}
	}
	keys := map[string]*string{secret.PushoverToken: in.PushoverToken, secret.PushoverUserKey: in.PushoverUserKey}
	for name, v := range keys {
		if v == nil {
			continue
		}
		if err := secret.Validate(name, *v); err != nil {
			var fe *scheduler.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, fe)
			} else {
				return control.AlertsInfo{}, err
			}
		}
	}
	token, user, _ := o.secrets.PushoverCredentials()
	if s.PushoverEnabled && (token == "" && in.PushoverToken == nil || user == "" && in.PushoverUserKey == nil) {
		errs = append(errs, &scheduler.FieldError{Field: "pushover_enabled",
			Msg: "Pushover needs the application token and your user key; set both"})
	}
	if len(errs) > 0 {
		return control.AlertsInfo{}, errs
	}
	var undo secretUndo
	for name, v := range keys {
		if v != nil {
			if err := undo.replace(o, name, *v); err != nil {
				undo.run(o)
				return control.AlertsInfo{}, err
			}
		}
	}
	if err := o.db.PutSetting(notify.SettingsKey, s); err != nil {
		undo.run(o)
		return control.AlertsInfo{}, err
	}
	o.policy.SetSettings(s)
	o.notifier.Kick()
	o.settingsChanged("alerts")
	o.log.Info("alert settings changed", "pushover", s.PushoverEnabled, "desktop", s.DesktopEnabled,
		"failure_threshold", s.FailureThreshold, "renotify_minutes", s.RenotifyMinutes, "quiet", s.QuietEnabled)
	return o.alertsInfo(s)
}

func (o *owner) alertsInfo(s notify.Settings) (control.AlertsInfo, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return control.AlertsInfo{}, err
	}
	rev, err := o.db.Revision(notify.SettingsKey)
	if err != nil {
		return control.AlertsInfo{}, err
	}
	token, user, _ := o.secrets.PushoverCredentials()
	d, err := o.db.AlertDelivery()
	if err != nil {
		return control.AlertsInfo{}, err
	}
	return control.AlertsInfo{Settings: b, PushoverKeysSet: token != "" && user != "", Revision: rev, Delivery: &d}, nil
}

// secretUndo remembers the secrets a settings change replaced, so that a change whose settings
// could not be saved leaves the secrets as they were. Not safe for concurrent use.
type secretUndo []func() error

// replace stores value as secret name, remembering how to put the previous value back (or
// remove the secret when there was none).
func (u *secretUndo) replace(o *owner, name, value string) error {
	old, err := o.secrets.Get(name)
	existed := err == nil
	if err != nil && !errors.Is(err, secret.ErrNotFound) {
		return err
	}
	if err := o.secrets.Set(name, value); err != nil {
		return err
	}
	*u = append(*u, func() error {
		if existed {
			return o.secrets.Set(name, old)
		}
		return o.secrets.Delete(name)
	})
	return nil
}

// run puts back every replaced secret, the latest first; a failure is logged.
func (u secretUndo) run(o *owner) {
	for i := len(u) - 1; i >= 0; i-- {
		if err := u[i](); err != nil {
			o.log.Error("putting a secret back after a failed settings change", "err", err)
		}
	}
}

func (o *owner) sendTestAlert(ctx context.Context) error {
	msg, err := o.notifier.SendTest(ctx)
	if err != nil {
		return err
	}
	o.log.Info("test alert sent", "result", msg)
	return nil
}
