package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/scheduler"
	"worktray/store"
)

// Revision is the version of a setting as the owner keeps it: every save increases it. A save
// names the revision the window loaded, and the owner refuses it (ErrStaleSettings) when the
// setting was saved elsewhere since. 0 means the owner keeps no revisions: the save is
// unconditional.
type Revision uint64

// ErrStaleSettings is the error (errors.Is) of a save based on a revision that is no longer the
// owner's: someone else saved that setting since the window loaded it. Nothing was saved.
var ErrStaleSettings = errors.New("these settings were changed elsewhere since the window loaded them")

// SettingsBackend is what the settings window asks of the owner. Each call blocks until the
// owner answered. Saves are validated by the owner as well; an invalid value returns a
// scheduler.ValidationError and saves nothing; a save at an old revision returns an error
// matching ErrStaleSettings and saves nothing. A save returns the setting's new revision.
type SettingsBackend interface {
	Schedule(ctx context.Context) (scheduler.Schedule, Revision, error)
	SaveSchedule(ctx context.Context, s scheduler.Schedule, rev Revision) (Revision, error)
	Portal(ctx context.Context) (Portal, error)
	// SavePortal saves the fields of p that are set (see PortalChange).
	SavePortal(ctx context.Context, p PortalChange, rev Revision) (Revision, error)
	// TestLogin logs into the saved portal and says how it went.
	TestLogin(ctx context.Context) (string, error)
	// TestProfile signs in and reads the first list page with the saved profile, storing
	// nothing, and says per field how many rows matched.
	TestProfile(ctx context.Context) (string, error)
	Alerts(ctx context.Context) (Alerts, error)
	// SaveAlerts saves the fields of a.Settings that differ from a.Base, and the keys that are set.
	SaveAlerts(ctx context.Context, a AlertsChange, rev Revision) (Revision, error)
	// SendTestAlert sends a test message to Pushover with the saved keys.
	SendTestAlert(ctx context.Context) (string, error)
	// Retention returns how much run history the owner keeps.
	Retention(ctx context.Context) (store.Retention, Revision, error)
	// SaveRetention saves the retention; the owner prunes the history to it at once.
	SaveRetention(ctx context.Context, r store.Retention, rev Revision) (Revision, error)
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

// Settings is the settings window's content: schedule, portal, alerts and general tabs, one
// type each (settings_schedule.go, settings_portal.go, settings_alerts.go, settings_general.go).
// Input that does not validate is shown next to its field, named, and never saved.
type Settings struct {
	be   SettingsBackend
	opts SettingsOptions
	tabs *container.AppTabs

	schedule *scheduleTab
	portal   *portalTab
	alerts   *alertsTab
	general  *generalTab

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
	s.schedule, s.portal, s.alerts, s.general = &scheduleTab{w: s}, &portalTab{w: s}, &alertsTab{w: s}, &generalTab{w: s}
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Schedule", s.schedule.content()),
		container.NewTabItem("Portal", s.portal.content()),
		container.NewTabItem("Alerts", s.alerts.content()),
		container.NewTabItem("General", s.general.content()),
	)
	return s
}

// Content returns the screen's root object.
func (s *Settings) Content() fyne.CanvasObject { return s.tabs }

// SelectTab shows the tab at index i (0 schedule, 1 portal, 2 alerts, 3 general).
func (s *Settings) SelectTab(i int) { s.tabs.SelectIndex(i) }

// Load fetches the settings in the background and fills the tabs.
func (s *Settings) Load() { s.load(false, nil) }

// Reload fetches the settings again after they changed elsewhere (the owner's event stream). A
// tab the user has not edited shows the new values; a tab with edits keeps them and says that
// saving them will be refused, since they are based on the old values.
func (s *Settings) Reload() { s.load(true, nil) }

// tabState is one tab's loading: its error, its message label, what it is called, whether the
// user edited it, and how to show what was loaded.
type tabState struct {
	err    error
	msg    *widget.Label
	what   string
	edited func() bool
	set    func()
}

// load fetches the settings and fills the tabs (on a reload, only those without edits), then
// runs after (if not nil) on Fyne's goroutine.
func (s *Settings) load(reload bool, after func()) {
	var (
		sc             scheduler.Schedule
		p              Portal
		a              Alerts
		r              store.Retention
		srev, rrev     Revision
		es, ep, ea, er error
	)
	s.opts.call(0, func(ctx context.Context) error {
		sc, srev, es = s.be.Schedule(ctx)
		p, ep = s.be.Portal(ctx)
		a, ea = s.be.Alerts(ctx)
		r, rrev, er = s.be.Retention(ctx)
		return nil
	}, func(error) {
		// Each tab shows what it could load, or why it could not.
		for _, tab := range []tabState{
			{es, s.schedule.schedMsg, "the schedule", s.schedule.scheduleEdited, func() { s.schedule.schedRev = srev; s.schedule.SetSchedule(sc) }},
			{ep, s.portal.portalMsg, "the portal settings", s.portal.portalEdited, func() { s.portal.portalRev = p.Revision; s.portal.SetPortal(p) }},
			{ea, s.alerts.alertMsg, "the alert settings", s.alerts.alertsEdited, func() { s.alerts.alertsRev = a.Revision; s.alerts.SetAlerts(a) }},
			{er, s.general.retentionMsg, "the history retention", s.general.retentionEdited, func() { s.general.retentionRev = rrev; s.general.SetRetention(r) }},
		} {
			switch {
			case tab.err != nil:
				setError(tab.msg, "Could not load "+tab.what+": "+ErrorText(tab.err))
			case reload && tab.edited():
				setError(tab.msg, "Someone changed "+tab.what+" elsewhere while you were editing: saving your edits will be refused, and the window then shows the new values.")
			default:
				tab.set()
			}
		}
		if after != nil {
			after()
		}
		s.relayout()
	})
}

// saved handles the owner's answer to a tab's save and reports whether the save went through.
// A save refused because the setting changed elsewhere loads the tab again and says so in msg
// (what names the setting); another error shows next to its fields (errs) or in msg.
func (s *Settings) saved(err error, errs map[string]*widget.Label, msg *widget.Label, what string) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrStaleSettings):
		s.load(false, func() {
			setError(msg, "Not saved: "+what+" were changed elsewhere since you opened this window. The window now shows them; make your change again and save.")
		})
	default:
		s.showErrors(errs, msg, err)
	}
	return false
}
