package screens

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"worktray/notify"
	"worktray/scheduler"
	"worktray/secret"
)

// alertsTab is the settings window's alerts tab: Pushover, desktop notifications, thresholds and
// quiet hours. It owns its widgets, field errors and messages; it is used on Fyne's goroutine
// only.
type alertsTab struct {
	w *Settings // the window: backend, options, layout

	alerts                                 notify.Settings // as loaded
	alertsRev                              Revision        // as loaded; a save is based on it
	pushEnabled, desktop, newDesk, newPush *widget.Check
	largeDrop, quiet                       *widget.Check
	token, userKey, threshold, renotify    *widget.Entry
	quietFrom, quietTo                     *widget.Entry
	alertErrs                              map[string]*widget.Label
	alertMsg                               *widget.Label
}

// Alerts is the alert configuration as the settings window shows it: never the keys.
type Alerts struct {
	Settings notify.Settings
	KeysSet  bool
	Revision Revision
}

// AlertsChange is a change of the alert configuration: the fields of Settings that differ from
// Base (the settings as loaded) are saved, the others keep their stored value, so that a value
// the window does not show (the quiet hours' zone) is never written back. Nil keys keep the
// stored ones.
type AlertsChange struct {
	Settings, Base notify.Settings
	Token, UserKey *string
}

func (s *alertsTab) content() fyne.CanvasObject {
	s.alertErrs = errLabels(alertFields)
	s.pushEnabled = widget.NewCheck("Send alerts to Pushover", nil)
	s.token = widget.NewPasswordEntry()
	s.userKey = widget.NewPasswordEntry()
	s.desktop = widget.NewCheck("Show desktop notifications", nil)
	s.newDesk = widget.NewCheck("New work orders on the desktop", nil)
	s.newPush = widget.NewCheck("New work orders on Pushover", nil)
	s.largeDrop = widget.NewCheck("Alert when more than half of the orders disappear", nil)
	s.threshold = widget.NewEntry()
	s.renotify = widget.NewEntry()
	s.quiet = widget.NewCheck("Hold Pushover alerts during quiet hours", nil)
	s.quietFrom = widget.NewEntry()
	s.quietFrom.SetPlaceHolder("22:00")
	s.quietTo = widget.NewEntry()
	s.quietTo.SetPlaceHolder("07:00")
	s.alertMsg = errorLabel()
	save := widget.NewButton("Save alerts", s.saveAlerts)
	save.Importance = widget.HighImportance
	test, testResult := s.w.tryButton("Send test", "Sending…", time.Minute, s.w.be.SendTestAlert)
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(""), s.pushEnabled,
		widget.NewLabel("Application token"), field(s.token, s.alertErrs, "pushover_token"),
		widget.NewLabel("User key"), field(s.userKey, s.alertErrs, "pushover_user_key"),
		widget.NewLabel("Failing after"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("failed runs in a row"), s.threshold), s.alertErrs, "failure_threshold"),
		widget.NewLabel("Re-notify every"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("minutes while failing (0 = never)"), s.renotify), s.alertErrs, "renotify_minutes"),
		widget.NewLabel("Quiet hours"), field(container.NewVBox(s.quiet, container.NewHBox(widget.NewLabel("from"),
			container.NewGridWrap(fyne.NewSize(80, s.quietFrom.MinSize().Height), s.quietFrom), widget.NewLabel("to"),
			container.NewGridWrap(fyne.NewSize(80, s.quietTo.MinSize().Height), s.quietTo))), s.alertErrs, "quiet_from", "quiet_to", "quiet_zone"),
		widget.NewLabel("Desktop"), container.NewVBox(s.desktop, s.newDesk, s.newPush, s.largeDrop),
	)
	return s.w.page(form, container.NewHBox(save, test), s.alertMsg, testResult)
}

// SetAlerts fills the alerts tab. It must run on Fyne's goroutine.
func (s *alertsTab) SetAlerts(a Alerts) {
	st := a.Settings
	s.alerts = st
	s.pushEnabled.SetChecked(st.PushoverEnabled)
	s.desktop.SetChecked(st.DesktopEnabled)
	s.newDesk.SetChecked(st.NewOrdersDesktop)
	s.newPush.SetChecked(st.NewOrdersPushover)
	s.largeDrop.SetChecked(st.LargeDropAlert)
	s.threshold.SetText(strconv.Itoa(st.FailureThreshold))
	s.renotify.SetText(strconv.Itoa(st.RenotifyMinutes))
	s.quiet.SetChecked(st.QuietEnabled)
	s.quietFrom.SetText(st.QuietFrom)
	s.quietTo.SetText(st.QuietTo)
	s.token.SetText("")
	s.userKey.SetText("")
	ph := "not set: from pushover.net, 30 letters and digits"
	if a.KeysSet {
		ph = "saved; type to replace it"
	}
	s.token.SetPlaceHolder(ph)
	s.userKey.SetPlaceHolder(ph)
}

// alertsInput reads the alerts tab and validates it with the core's rules (notify.Settings and
// secret.Validate).
func (s *alertsTab) alertsInput() (AlertsChange, error) {
	st := s.alerts
	var errs scheduler.ValidationError
	num := func(name, text string) int { return wholeNumber(&errs, name, text) }
	st.PushoverEnabled = s.pushEnabled.Checked
	st.DesktopEnabled = s.desktop.Checked
	st.NewOrdersDesktop = s.newDesk.Checked
	st.NewOrdersPushover = s.newPush.Checked
	st.LargeDropAlert = s.largeDrop.Checked
	st.FailureThreshold = num("failure_threshold", s.threshold.Text)
	st.RenotifyMinutes = num("renotify_minutes", s.renotify.Text)
	st.QuietEnabled = s.quiet.Checked
	st.QuietFrom = strings.TrimSpace(s.quietFrom.Text)
	st.QuietTo = strings.TrimSpace(s.quietTo.Text)
	ch := AlertsChange{Settings: st, Base: s.alerts}
	for _, k := range []struct {
		name string
		e    *widget.Entry
		dst  **string
	}{{secret.PushoverToken, s.token, &ch.Token}, {secret.PushoverUserKey, s.userKey, &ch.UserKey}} {
		v := strings.TrimSpace(k.e.Text)
		if v == "" {
			continue
		}
		if err := secret.Validate(k.name, v); err != nil {
			var fe *scheduler.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, fe)
			}
			continue
		}
		*k.dst = &v
	}
	if err := st.Validate(); err != nil {
		var ve scheduler.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve {
				if errs.Field(fe.Field) == nil {
					errs = append(errs, fe)
				}
			}
		}
	}
	if len(errs) > 0 {
		return ch, errs
	}
	return ch, nil
}

func (s *alertsTab) saveAlerts() {
	ch, err := s.alertsInput()
	if err != nil {
		s.w.showErrors(s.alertErrs, s.alertMsg, err)
		return
	}
	s.w.showErrors(s.alertErrs, s.alertMsg, nil)
	if ch.Settings == ch.Base && ch.Token == nil && ch.UserKey == nil {
		setSuccess(s.alertMsg, "Nothing to save: no field was changed.")
		s.w.relayout()
		return
	}
	var rev Revision
	s.w.opts.call(0, func(ctx context.Context) (err error) {
		rev, err = s.w.be.SaveAlerts(ctx, ch, s.alertsRev)
		return err
	}, func(err error) {
		if !s.w.saved(err, s.alertErrs, s.alertMsg, "the alert settings") {
			return
		}
		s.alerts, s.alertsRev = ch.Settings, rev
		s.token.SetText("")
		s.userKey.SetText("")
		setSuccess(s.alertMsg, "Saved.")
		s.w.relayout()
	})
}

// alertsEdited reports whether the user changed an alert field since it was loaded (input
// that does not validate counts as an edit).
func (s *alertsTab) alertsEdited() bool {
	ch, err := s.alertsInput()
	return err != nil || ch.Settings != ch.Base || ch.Token != nil || ch.UserKey != nil
}
