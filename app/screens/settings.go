package screens

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/notify"
	"worktray/scheduler"
	"worktray/store"
)

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
