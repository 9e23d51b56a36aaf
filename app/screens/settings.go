package screens

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/notify"
	"worktray/scheduler"
	"worktray/secret"
	"worktray/store"
)

// Portal is the portal configuration as the settings window shows it: never the password.
type Portal struct {
	URL         string
	Profile     string // a profile file, or "demo" for the built-in one
	Username    string
	PasswordSet bool
}

// PortalChange is a portal configuration to save. Password nil keeps the stored one.
type PortalChange struct {
	URL, Profile, Username string
	Password               *string
}

// Alerts is the alert configuration as the settings window shows it: never the keys.
type Alerts struct {
	Settings notify.Settings
	KeysSet  bool
}

// AlertsChange is an alert configuration to save. Nil keys keep the stored ones.
type AlertsChange struct {
	Settings       notify.Settings
	Token, UserKey *string
}

// SettingsBackend is what the settings window asks of the owner. Saves are validated by the
// owner as well; an invalid value returns a scheduler.ValidationError and saves nothing.
type SettingsBackend interface {
	Schedule(ctx context.Context) (scheduler.Schedule, error)
	SaveSchedule(ctx context.Context, s scheduler.Schedule) error
	Portal(ctx context.Context) (Portal, error)
	SavePortal(ctx context.Context, p PortalChange) error
	// TestLogin logs into the saved portal and says how it went.
	TestLogin(ctx context.Context) (string, error)
	Alerts(ctx context.Context) (Alerts, error)
	SaveAlerts(ctx context.Context, a AlertsChange) error
	// SendTestAlert sends a test message to Pushover with the saved keys.
	SendTestAlert(ctx context.Context) (string, error)
	// Retention returns how much run history the owner keeps.
	Retention(ctx context.Context) (store.Retention, error)
	// SaveRetention saves the retention; the owner prunes the history to it at once.
	SaveRetention(ctx context.Context, r store.Retention) error
}

// Toggle is a setting that is on or off, kept outside the owner (start at login).
type Toggle interface {
	Enabled() bool
	SetEnabled(on bool) error
}

// SettingsOptions are the settings window's links to the desktop.
type SettingsOptions struct {
	Options
	// StartAtLogin is the XDG autostart entry; nil hides the option.
	StartAtLogin Toggle
	// DataDir and LogDir are the folders the General tab opens with OpenFolder.
	DataDir, LogDir string
	OpenFolder      func(path string) error
}

// Settings is the settings window's content: schedule, portal, alerts and general tabs. Input
// that does not validate is shown next to its field, named, and never saved.
type Settings struct {
	be   SettingsBackend
	opts SettingsOptions
	tabs *container.AppTabs

	sched     scheduler.Schedule // as loaded; fields the window does not edit keep their value
	enabled   *widget.Check
	minute    *widget.Entry
	hour      *widget.Entry
	every     *widget.Select
	from, to  *widget.Select
	weekdays  [7]*widget.Check
	zone      *widget.SelectEntry
	grace     *widget.Entry
	retries   *widget.Entry
	catchUp   *widget.Check
	preview   *widget.Label
	schedErrs map[string]*widget.Label
	schedMsg  *widget.Label
	schedSave *widget.Button

	portalURL, portalProfile, portalUser, portalPass *widget.Entry
	portalErrs                                       map[string]*widget.Label
	portalMsg                                        *widget.Label

	alerts                                 notify.Settings
	pushEnabled, desktop, newDesk, newPush *widget.Check
	largeDrop, quiet                       *widget.Check
	token, userKey, threshold, renotify    *widget.Entry
	quietFrom, quietTo                     *widget.Entry
	alertErrs                              map[string]*widget.Label
	alertMsg                               *widget.Label

	keepRuns      *widget.Entry
	retentionErrs map[string]*widget.Label
	retentionMsg  *widget.Label
	retentionSave *widget.Button

	generalMsg *widget.Label
	loading    bool

	// pages are the tabs' scrolled contents; a message shown or hidden changes their layout.
	pages []*container.Scroll
}

// relayout lays the tabs out again after messages appeared or went.
func (s *Settings) relayout() {
	for _, p := range s.pages {
		if box, ok := p.Content.(*fyne.Container); ok {
			box.Refresh()
			for _, o := range box.Objects {
				if c, ok := o.(*fyne.Container); ok {
					c.Refresh()
				}
			}
		}
		p.Refresh()
	}
}

func (s *Settings) page(objs ...fyne.CanvasObject) fyne.CanvasObject {
	sc := container.NewVScroll(container.NewVBox(objs...))
	s.pages = append(s.pages, sc)
	return sc
}

// Names of the schedule fields the window edits, as scheduler.FieldError names them.
var scheduleFields = []string{"enabled", "minute", "hour", "every_hours", "active_from", "active_to", "weekdays", "zone", "grace_minutes", "retries", "retry_backoff_minutes"}

var portalFields = []string{"url", "profile", "username", "password"}

var alertFields = []string{"pushover_token", "pushover_user_key", "failure_threshold", "renotify_minutes", "quiet_from", "quiet_to", "quiet_zone"}

var retentionFields = []string{"keep_runs"}

// NewSettings returns the settings screen; call Load to fill it.
func NewSettings(be SettingsBackend, opts SettingsOptions) *Settings {
	opts.Options = opts.Options.withDefaults()
	s := &Settings{be: be, opts: opts}
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Schedule", s.scheduleTab()),
		container.NewTabItem("Portal", s.portalTab()),
		container.NewTabItem("Alerts", s.alertsTab()),
		container.NewTabItem("General", s.generalTab()),
	)
	return s
}

// Content returns the screen's root object.
func (s *Settings) Content() fyne.CanvasObject { return s.tabs }

// SelectTab shows the tab at index i (0 schedule, 1 portal, 2 alerts, 3 general).
func (s *Settings) SelectTab(i int) { s.tabs.SelectIndex(i) }

func errLabels(names []string) map[string]*widget.Label {
	m := make(map[string]*widget.Label, len(names))
	for _, n := range names {
		m[n] = errorLabel()
	}
	return m
}

// field is a form row's input with its error label under it.
func field(input fyne.CanvasObject, errs map[string]*widget.Label, names ...string) fyne.CanvasObject {
	objs := []fyne.CanvasObject{input}
	for _, n := range names {
		objs = append(objs, errs[n])
	}
	return container.NewVBox(objs...)
}

func hourOptions(from, to int) []string {
	var out []string
	for h := from; h <= to; h++ {
		out = append(out, fmt.Sprintf("%02d:00", h))
	}
	return out
}

var weekdayOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (s *Settings) scheduleTab() fyne.CanvasObject {
	s.schedErrs = errLabels(scheduleFields)
	changed := func() { s.onScheduleChanged() }
	s.enabled = widget.NewCheck("Run scrapes on a schedule", func(bool) { changed() })
	s.minute = widget.NewEntry()
	s.minute.OnChanged = func(string) { changed() }
	s.hour = widget.NewEntry()
	s.hour.OnChanged = func(string) { changed() }
	var every []string
	for _, n := range scheduler.AllowedEveryHours() {
		every = append(every, strconv.Itoa(n))
	}
	s.every = widget.NewSelect(every, func(string) { changed() })
	s.from = widget.NewSelect(hourOptions(0, 23), func(string) { changed() })
	s.to = widget.NewSelect(hourOptions(1, 24), func(string) { changed() })
	days := container.NewHBox()
	for i, d := range weekdayOrder {
		s.weekdays[i] = widget.NewCheck(d.String()[:3], func(bool) { changed() })
		days.Add(s.weekdays[i])
	}
	s.zone = widget.NewSelectEntry(commonZones())
	s.zone.OnChanged = func(string) { changed() }
	s.grace = widget.NewEntry()
	s.grace.OnChanged = func(string) { changed() }
	s.retries = widget.NewEntry()
	s.retries.OnChanged = func(string) { changed() }
	s.catchUp = widget.NewCheck("Run once to catch up after missed slots", func(bool) { changed() })
	s.preview = widget.NewLabel("")
	s.preview.Wrapping = fyne.TextWrapWord
	s.schedMsg = errorLabel()
	s.schedSave = widget.NewButton("Save schedule", s.saveSchedule)
	s.schedSave.Importance = widget.HighImportance

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(""), s.enabled,
		widget.NewLabel("Minute"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("past the hour (0–59)"), s.minute), s.schedErrs, "minute"),
		widget.NewLabel("Every"), field(container.NewHBox(s.every, widget.NewLabel("hours, counting from"), container.NewGridWrap(fyne.NewSize(60, s.hour.MinSize().Height), s.hour), widget.NewLabel(":00")), s.schedErrs, "every_hours", "hour"),
		widget.NewLabel("Active hours"), field(container.NewHBox(widget.NewLabel("from"), s.from, widget.NewLabel("to"), s.to), s.schedErrs, "active_from", "active_to"),
		widget.NewLabel("Days"), field(days, s.schedErrs, "weekdays"),
		widget.NewLabel("Time zone"), field(s.zone, s.schedErrs, "zone"),
		widget.NewLabel("Grace"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("minutes late before a slot counts as missed"), s.grace), s.schedErrs, "grace_minutes"),
		widget.NewLabel("Retries"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("after a failure (0–10)"), s.retries), s.schedErrs, "retries", "retry_backoff_minutes"),
		widget.NewLabel(""), s.catchUp,
		widget.NewLabel("Next runs"), s.preview,
	)
	return s.page(form, container.NewHBox(s.schedSave), s.schedMsg)
}

// commonZones lists zones for the zone picker: the system's first, then a few common ones. Any
// IANA name may be typed.
func commonZones() []string {
	z := []string{scheduler.SystemZone(), "UTC", "Europe/London", "Europe/Berlin", "America/New_York",
		"America/Chicago", "America/Denver", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"}
	out := z[:0]
	for _, v := range z {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Load fetches the settings in the background and fills the tabs.
func (s *Settings) Load() {
	var (
		sc             scheduler.Schedule
		p              Portal
		a              Alerts
		r              store.Retention
		es, ep, ea, er error
	)
	s.opts.call(0, func(ctx context.Context) error {
		sc, es = s.be.Schedule(ctx)
		p, ep = s.be.Portal(ctx)
		a, ea = s.be.Alerts(ctx)
		r, er = s.be.Retention(ctx)
		return nil
	}, func(error) {
		// Each tab shows what it could load, or why it could not.
		for _, tab := range []struct {
			err  error
			msg  *widget.Label
			what string
			set  func()
		}{
			{es, s.schedMsg, "the schedule", func() { s.SetSchedule(sc) }},
			{ep, s.portalMsg, "the portal settings", func() { s.SetPortal(p) }},
			{ea, s.alertMsg, "the alert settings", func() { s.SetAlerts(a) }},
			{er, s.retentionMsg, "the history retention", func() { s.SetRetention(r) }},
		} {
			if tab.err != nil {
				setMessage(tab.msg, "Could not load "+tab.what+": "+ErrorText(tab.err))
				continue
			}
			tab.set()
		}
		s.relayout()
	})
}

// SetSchedule fills the schedule tab. It must run on Fyne's goroutine.
func (s *Settings) SetSchedule(sc scheduler.Schedule) {
	s.loading = true
	s.sched = sc
	s.enabled.SetChecked(sc.Enabled)
	s.minute.SetText(strconv.Itoa(sc.Minute))
	s.hour.SetText(strconv.Itoa(sc.Hour))
	s.every.SetSelected(strconv.Itoa(sc.EveryHours))
	s.from.SetSelected(fmt.Sprintf("%02d:00", sc.ActiveFrom))
	s.to.SetSelected(fmt.Sprintf("%02d:00", sc.ActiveTo))
	if sc.ActiveTo == 0 {
		s.to.SetSelected("24:00")
	}
	for i, d := range weekdayOrder {
		s.weekdays[i].SetChecked(slices.Contains(sc.Weekdays, d))
	}
	s.zone.SetText(sc.Zone)
	s.grace.SetText(strconv.Itoa(sc.GraceMinutes))
	s.retries.SetText(strconv.Itoa(sc.Retries))
	s.catchUp.SetChecked(sc.CatchUp)
	s.loading = false
	s.onScheduleChanged()
}

// scheduleInput reads the schedule tab. Text that is not a number is a field error here; the
// rest is the core's Schedule.Validate.
func (s *Settings) scheduleInput() (scheduler.Schedule, error) {
	sc := s.sched
	sc.Weekdays = nil
	var errs scheduler.ValidationError
	num := func(name, text string) int { return wholeNumber(&errs, name, text) }
	sc.Enabled = s.enabled.Checked
	sc.Minute = num("minute", s.minute.Text)
	sc.Hour = num("hour", s.hour.Text)
	sc.EveryHours = num("every_hours", s.every.Selected)
	sc.ActiveFrom = num("active_from", strings.TrimSuffix(s.from.Selected, ":00"))
	sc.ActiveTo = num("active_to", strings.TrimSuffix(s.to.Selected, ":00"))
	for i, d := range weekdayOrder {
		if s.weekdays[i].Checked {
			sc.Weekdays = append(sc.Weekdays, d)
		}
	}
	slices.Sort(sc.Weekdays)
	sc.Zone = strings.TrimSpace(s.zone.Text)
	sc.GraceMinutes = num("grace_minutes", s.grace.Text)
	sc.Retries = num("retries", s.retries.Text)
	sc.CatchUp = s.catchUp.Checked
	if len(errs) > 0 {
		// Report what Validate says about the other fields too.
		if err := sc.Validate(); err != nil {
			var ve scheduler.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve {
					if errs.Field(fe.Field) == nil {
						errs = append(errs, fe)
					}
				}
			}
		}
		return sc, errs
	}
	return sc, sc.Validate()
}

// showFieldErrors puts each field error next to its field; an error for a field with no label
// goes to msg.
func showFieldErrors(labels map[string]*widget.Label, msg *widget.Label, err error) {
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) {
		for _, l := range labels {
			setMessage(l, "")
		}
		setMessage(msg, ErrorText(err))
		return
	}
	var other []string
	for name, l := range labels {
		if fe := ve.Field(name); fe != nil {
			setMessage(l, fe.Error())
		} else {
			setMessage(l, "")
		}
	}
	for _, fe := range ve {
		if _, ok := labels[fe.Field]; !ok {
			other = append(other, fe.Error())
		}
	}
	setMessage(msg, strings.Join(other, "\n"))
}

func (s *Settings) showErrors(labels map[string]*widget.Label, msg *widget.Label, err error) {
	showFieldErrors(labels, msg, err)
	s.relayout()
}

func (s *Settings) onScheduleChanged() {
	if s.loading {
		return
	}
	sc, err := s.scheduleInput()
	s.showErrors(s.schedErrs, s.schedMsg, err)
	if err != nil {
		s.preview.SetText("Correct the fields marked above to see the next runs.")
		return
	}
	if !sc.Enabled {
		s.preview.SetText("None: the schedule is off.")
		return
	}
	now := s.opts.Now()
	next := sc.NextN(now, 5)
	parts := make([]string, len(next))
	for i, t := range next {
		parts[i] = view.Clock(t, now, s.opts.Location)
	}
	s.preview.SetText(strings.Join(parts, ", "))
}

func (s *Settings) saveSchedule() {
	sc, err := s.scheduleInput()
	if err != nil {
		s.showErrors(s.schedErrs, s.schedMsg, err)
		return
	}
	s.schedSave.Disable()
	s.opts.call(0, func(ctx context.Context) error { return s.be.SaveSchedule(ctx, sc) }, func(err error) {
		s.schedSave.Enable()
		if err != nil {
			s.showErrors(s.schedErrs, s.schedMsg, err)
			return
		}
		s.sched = sc
		msg := "Saved. The new schedule applies now."
		if next := sc.NextN(s.opts.Now(), 1); len(next) > 0 && sc.Enabled {
			msg = "Saved. Next run " + view.Clock(next[0], s.opts.Now(), s.opts.Location) + "."
		}
		s.schedMsg.Importance = widget.SuccessImportance
		setMessage(s.schedMsg, msg)
		s.schedMsg.Importance = widget.DangerImportance
		s.relayout()
	})
}

func (s *Settings) portalTab() fyne.CanvasObject {
	s.portalErrs = errLabels(portalFields)
	s.portalURL = widget.NewEntry()
	s.portalURL.SetPlaceHolder("https://portal.example.com/login")
	s.portalProfile = widget.NewEntry()
	s.portalProfile.SetPlaceHolder("demo, or the path of a profile file (.toml or .json)")
	s.portalUser = widget.NewEntry()
	s.portalPass = widget.NewPasswordEntry()
	s.portalMsg = errorLabel()
	save := widget.NewButton("Save portal", s.savePortal)
	save.Importance = widget.HighImportance
	test, testResult := s.tryButton("Test login", "Logging in…", 2*time.Minute, s.be.TestLogin)
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Portal URL"), field(s.portalURL, s.portalErrs, "url"),
		widget.NewLabel("Profile"), field(s.portalProfile, s.portalErrs, "profile"),
		widget.NewLabel("Username"), field(s.portalUser, s.portalErrs, "username"),
		widget.NewLabel("Password"), field(s.portalPass, s.portalErrs, "password"),
	)
	return s.page(form, container.NewHBox(save, test), s.portalMsg,
		widget.NewLabel("Test login uses the saved settings."), testResult)
}

// SetPortal fills the portal tab. It must run on Fyne's goroutine.
func (s *Settings) SetPortal(p Portal) {
	s.portalURL.SetText(p.URL)
	s.portalProfile.SetText(p.Profile)
	s.portalUser.SetText(p.Username)
	s.portalPass.SetText("")
	if p.PasswordSet {
		s.portalPass.SetPlaceHolder("saved; type to replace it")
	} else {
		s.portalPass.SetPlaceHolder("not set")
	}
}

// ValidatePortal checks a portal change and names the invalid fields.
func ValidatePortal(p PortalChange) error {
	var errs scheduler.ValidationError
	u, err := url.Parse(strings.TrimSpace(p.URL))
	switch {
	case strings.TrimSpace(p.URL) == "":
		errs = append(errs, &scheduler.FieldError{Field: "url", Msg: "is empty; enter the address of the portal's login page"})
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, &scheduler.FieldError{Field: "url", Msg: "must be an http:// or https:// address"})
	}
	if p.Password != nil {
		if err := secret.Validate(secret.PortalPassword, *p.Password); err != nil {
			var fe *scheduler.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, &scheduler.FieldError{Field: "password", Msg: fe.Msg})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (s *Settings) savePortal() {
	p := PortalChange{URL: strings.TrimSpace(s.portalURL.Text), Profile: strings.TrimSpace(s.portalProfile.Text),
		Username: strings.TrimSpace(s.portalUser.Text)}
	if s.portalPass.Text != "" {
		pw := s.portalPass.Text
		p.Password = &pw
	}
	if err := ValidatePortal(p); err != nil {
		s.showErrors(s.portalErrs, s.portalMsg, err)
		return
	}
	s.showErrors(s.portalErrs, s.portalMsg, nil)
	s.opts.call(0, func(ctx context.Context) error { return s.be.SavePortal(ctx, p) }, func(err error) {
		if err != nil {
			s.showErrors(s.portalErrs, s.portalMsg, err)
			return
		}
		s.portalPass.SetText("")
		if p.Password != nil {
			s.portalPass.SetPlaceHolder("saved; type to replace it")
		}
		s.portalMsg.Importance = widget.SuccessImportance
		setMessage(s.portalMsg, "Saved. The next scrape uses these settings.")
		s.portalMsg.Importance = widget.DangerImportance
		s.relayout()
	})
}

func (s *Settings) alertsTab() fyne.CanvasObject {
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
	test, testResult := s.tryButton("Send test", "Sending…", time.Minute, s.be.SendTestAlert)
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
	return s.page(form, container.NewHBox(save, test), s.alertMsg, testResult)
}

// SetAlerts fills the alerts tab. It must run on Fyne's goroutine.
func (s *Settings) SetAlerts(a Alerts) {
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
func (s *Settings) alertsInput() (AlertsChange, error) {
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
	ch := AlertsChange{Settings: st}
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

func (s *Settings) saveAlerts() {
	ch, err := s.alertsInput()
	if err != nil {
		s.showErrors(s.alertErrs, s.alertMsg, err)
		return
	}
	s.showErrors(s.alertErrs, s.alertMsg, nil)
	s.opts.call(0, func(ctx context.Context) error { return s.be.SaveAlerts(ctx, ch) }, func(err error) {
		if err != nil {
			s.showErrors(s.alertErrs, s.alertMsg, err)
			return
		}
		s.alerts = ch.Settings
		s.token.SetText("")
		s.userKey.SetText("")
		s.alertMsg.Importance = widget.SuccessImportance
		setMessage(s.alertMsg, "Saved.")
		s.alertMsg.Importance = widget.DangerImportance
		s.relayout()
	})
}

// tryButton is a button that runs try with the saved settings ("Test login", "Send test") off the
// UI goroutine, and the label that shows how it went; the button is disabled meanwhile.
func (s *Settings) tryButton(label, busy string, timeout time.Duration, try func(context.Context) (string, error)) (*widget.Button, *widget.Label) {
	result := widget.NewLabel("")
	result.Wrapping = fyne.TextWrapWord
	var b *widget.Button
	b = widget.NewButton(label, func() {
		b.Disable()
		result.SetText(busy)
		var msg string
		s.opts.call(timeout, func(ctx context.Context) (err error) {
			msg, err = try(ctx)
			return err
		}, func(err error) {
			b.Enable()
			if err != nil {
				result.SetText("✗ " + ErrorText(err))
				return
			}
			result.SetText("✓ " + msg)
		})
	})
	return b, result
}

func (s *Settings) generalTab() fyne.CanvasObject {
	s.generalMsg = errorLabel()
	s.retentionErrs = errLabels(retentionFields)
	s.retentionMsg = errorLabel()
	s.keepRuns = widget.NewEntry()
	s.keepRuns.OnChanged = func(string) { s.onRetentionChanged() }
	s.keepRuns.OnSubmitted = func(string) { s.saveRetention() }
	s.retentionSave = widget.NewButton("Save", s.saveRetention)
	var objs []fyne.CanvasObject
	if t := s.opts.StartAtLogin; t != nil {
		login := widget.NewCheck("Start worktray when I log in", nil)
		login.SetChecked(t.Enabled())
		login.OnChanged = func(on bool) {
			if err := t.SetEnabled(on); err != nil {
				setMessage(s.generalMsg, err.Error())
				return
			}
			setMessage(s.generalMsg, "")
		}
		objs = append(objs, login)
	}
	open := func(label, dir string) fyne.CanvasObject {
		b := widget.NewButton(label, func() {
			if s.opts.OpenFolder == nil || dir == "" {
				return
			}
			if err := s.opts.OpenFolder(dir); err != nil {
				setMessage(s.generalMsg, "Could not open "+dir+": "+err.Error())
			}
		})
		l := widget.NewLabel(dir)
		l.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, b, nil, l)
	}
	objs = append(objs,
		heading("Folders"),
		open("Open data folder", s.opts.DataDir),
		open("Open log folder", s.opts.LogDir),
		heading("History"),
		field(container.NewHBox(widget.NewLabel("Keep the last"),
			container.NewGridWrap(fyne.NewSize(110, s.keepRuns.MinSize().Height), s.keepRuns),
			widget.NewLabel("runs"), s.retentionSave), s.retentionErrs, "keep_runs"),
		s.retentionMsg,
		widget.NewLabel("Older runs are pruned daily; logs are kept 14 days."),
		s.generalMsg,
	)
	return container.NewPadded(s.page(objs...))
}

// SetRetention fills the history retention of the general tab. It must run on Fyne's goroutine.
func (s *Settings) SetRetention(r store.Retention) {
	s.loading = true
	s.keepRuns.SetText(strconv.Itoa(r.KeepRuns))
	s.loading = false
	s.showErrors(s.retentionErrs, s.retentionMsg, nil)
}

// wholeNumber parses a field's text as a whole number; text that is not one adds a field error
// naming the field to errs.
func wholeNumber(errs *scheduler.ValidationError, field, text string) int {
	v, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		*errs = append(*errs, &scheduler.FieldError{Field: field, Msg: fmt.Sprintf("%q is not a whole number", text)})
	}
	return v
}

// retentionInput reads the history retention and validates it with the core's rules
// (store.Retention.Validate).
func (s *Settings) retentionInput() (store.Retention, error) {
	var errs scheduler.ValidationError
	r := store.Retention{KeepRuns: wholeNumber(&errs, "keep_runs", s.keepRuns.Text)}
	if len(errs) > 0 {
		return store.Retention{}, errs
	}
	return r, r.Validate()
}

func (s *Settings) onRetentionChanged() {
	if s.loading {
		return
	}
	_, err := s.retentionInput()
	s.showErrors(s.retentionErrs, s.retentionMsg, err)
}

func (s *Settings) saveRetention() {
	r, err := s.retentionInput()
	if err != nil {
		s.showErrors(s.retentionErrs, s.retentionMsg, err)
		return
	}
	s.showErrors(s.retentionErrs, s.retentionMsg, nil)
	s.retentionSave.Disable()
	s.opts.call(0, func(ctx context.Context) error { return s.be.SaveRetention(ctx, r) }, func(err error) {
		s.retentionSave.Enable()
		if err != nil {
			s.showErrors(s.retentionErrs, s.retentionMsg, err)
			return
		}
		s.retentionMsg.Importance = widget.SuccessImportance
		setMessage(s.retentionMsg, fmt.Sprintf("Saved. The last %d runs are kept; older ones are pruned now.", r.KeepRuns))
		s.retentionMsg.Importance = widget.DangerImportance
		s.relayout()
	})
}
