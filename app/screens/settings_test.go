package screens

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

type toggle struct{ on bool }

func (t *toggle) Enabled() bool { return t.on }

func (t *toggle) SetEnabled(on bool) error { t.on = on; return nil }

func newSettingsWindow(t *testing.T) (*Settings, *fake, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	f := newFake()
	s := NewSettings(f, SettingsOptions{Options: testOptions(), StartAtLogin: &toggle{},
		DataDir: "/home/tech/.local/share/worktray", LogDir: "/home/tech/.local/state/worktray/logs"})
	w := test.NewWindow(s.Content())
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(720, 700))
	s.Load()
	return s, f, w
}

func TestSettingsTabs(t *testing.T) {
	s, _, w := newSettingsWindow(t)
	for i, name := range []string{"schedule", "portal", "alerts", "general"} {
		s.SelectTab(i)
		test.AssertImageMatches(t, "settings_"+name+".png", w.Canvas().Capture())
	}
}

func TestSettingsInvalidNeverSaves(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tab    int
		edit   func(s *Settings)
		save   func(s *Settings) *widget.Label
		field  string
		golden string
	}{
		{"minute 60", 0, func(s *Settings) { s.schedule.minute.SetText("60") }, func(s *Settings) *widget.Label { s.schedule.saveSchedule(); return s.schedule.schedErrs["minute"] },
			"minute: must be between 0 and 59, got 60", "settings_invalid_minute.png"},
		{"minute not a number", 0, func(s *Settings) { s.schedule.minute.SetText("half past") }, func(s *Settings) *widget.Label { s.schedule.saveSchedule(); return s.schedule.schedErrs["minute"] },
			`minute: "half past" is not a whole number`, ""},
		{"no weekday", 0, func(s *Settings) {
			for _, c := range s.schedule.weekdays {
				c.SetChecked(false)
			}
		}, func(s *Settings) *widget.Label { s.schedule.saveSchedule(); return s.schedule.schedErrs["weekdays"] }, "weekdays: choose at least one day", ""},
		{"bad zone", 0, func(s *Settings) { s.schedule.zone.SetText("Mars/Olympus") }, func(s *Settings) *widget.Label { s.schedule.saveSchedule(); return s.schedule.schedErrs["zone"] },
			`zone: "Mars/Olympus" is not a known IANA time zone`, ""},
		{"empty URL", 1, func(s *Settings) { s.portal.portalURL.SetText("") }, func(s *Settings) *widget.Label { s.portal.savePortal(); return s.portal.portalErrs["url"] },
			"url: is empty; enter the address of the portal's login page", "settings_invalid_url.png"},
		{"bad Pushover key", 2, func(s *Settings) { s.alerts.pushEnabled.SetChecked(true); s.alerts.token.SetText("tooshort") },
			func(s *Settings) *widget.Label { s.alerts.saveAlerts(); return s.alerts.alertErrs["pushover_token"] },
			"pushover_token: must be exactly 30 letters and digits (got 8 characters)", "settings_invalid_pushover.png"},
		{"bad quiet hours", 2, func(s *Settings) { s.alerts.quiet.SetChecked(true); s.alerts.quietFrom.SetText("25:00") },
			func(s *Settings) *widget.Label { s.alerts.saveAlerts(); return s.alerts.alertErrs["quiet_from"] }, "quiet_from:", ""},
		{"keep 5 runs", 3, func(s *Settings) { s.general.keepRuns.SetText("5") }, func(s *Settings) *widget.Label {
			s.general.saveRetention()
			return s.general.retentionErrs["keep_runs"]
		},
			"keep_runs: must be between 100 and 1000000 runs, got 5", "settings_invalid_retention.png"},
		{"keep not a number", 3, func(s *Settings) { s.general.keepRuns.SetText("all") }, func(s *Settings) *widget.Label {
			s.general.saveRetention()
			return s.general.retentionErrs["keep_runs"]
		},
			`keep_runs: "all" is not a whole number`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, f, w := newSettingsWindow(t)
			s.SelectTab(tt.tab)
			tt.edit(s)
			l := tt.save(s)
			if l.Hidden || !strings.HasPrefix(l.Text, tt.field) {
				t.Errorf("error label = %q (hidden %v), want %q", l.Text, l.Hidden, tt.field)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("invalid input reached the owner: %v", calls)
			}
			if tt.golden != "" {
				test.AssertImageMatches(t, tt.golden, w.Canvas().Capture())
			}
		})
	}
}

func TestSettingsValidSaves(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.schedule.minute.SetText("15")
	s.schedule.saveSchedule()
	s.portal.portalPass.SetText("hunter2")
	s.portal.savePortal()
	s.alerts.token.SetText(strings.Repeat("a", 30))
	s.alerts.userKey.SetText(strings.Repeat("b", 30))
	s.alerts.saveAlerts()
	want := []string{"save schedule minute=15", `save portal url="" profile="" username="" password=true`, "save alerts token,user key"}
	if got := f.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if s.schedule.schedMsg.Text != "Saved. Next run 10:15." {
		t.Errorf("schedule message = %q", s.schedule.schedMsg.Text)
	}
}

// TestSettingsSavedIsNotRed: a success message keeps its colour after the tab lays out again;
// an error after it is red again.
func TestSettingsSavedIsNotRed(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.schedule.minute.SetText("15")
	s.schedule.saveSchedule()
	s.relayout()
	if s.schedule.schedMsg.Importance != widget.SuccessImportance || !strings.HasPrefix(s.schedule.schedMsg.Text, "Saved.") {
		t.Errorf("after a save: %q in importance %v, want Saved. in the success colour", s.schedule.schedMsg.Text, s.schedule.schedMsg.Importance)
	}
	f.err = errors.New("the disk is full")
	s.schedule.minute.SetText("20")
	s.schedule.saveSchedule()
	if s.schedule.schedMsg.Importance != widget.DangerImportance || !strings.Contains(s.schedule.schedMsg.Text, "disk is full") {
		t.Errorf("after a failed save: %q in importance %v", s.schedule.schedMsg.Text, s.schedule.schedMsg.Importance)
	}
}

// TestSettingsSavesOnlyWhatChanged: a save sends only the fields the user changed, never a
// value the window did not show (the quiet hours' zone), and nothing when nothing changed.
func TestSettingsSavesOnlyWhatChanged(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.alerts.threshold.SetText("4")
	s.alerts.saveAlerts()
	s.portal.portalUser.SetText("someone@example.com")
	s.portal.savePortal()
	s.portal.savePortal() // nothing changed since
	want := []string{"save alerts FailureThreshold", `save portal url="" profile="" username="someone@example.com" password=false`}
	if got := f.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", got, want)
	}
	if s.portal.portalMsg.Text != "Nothing to save: no field was changed." {
		t.Errorf("portal message %q", s.portal.portalMsg.Text)
	}
}

// TestSettingsReloadAndStaleRevision: settings changed elsewhere show at once in a tab without
// edits; a tab with edits keeps them and says so; its save is refused (stale revision), and the
// tab then shows the new values and says why.
func TestSettingsReloadAndStaleRevision(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.general.keepRuns.SetText("2500") // an edit in the General tab

	// Elsewhere: a new schedule minute and retention, saved at a new revision.
	f.mu.Lock()
	f.sched.Minute, f.retention.KeepRuns = 45, 500
	f.mu.Unlock()
	f.bump("schedule")
	f.bump("retention")
	s.Reload()
	if s.schedule.minute.Text != "45" {
		t.Errorf("the schedule tab without edits shows minute %q after a reload, want 45", s.schedule.minute.Text)
	}
	if s.general.keepRuns.Text != "2500" || s.general.retentionMsg.Hidden || !strings.Contains(s.general.retentionMsg.Text, "changed the history retention elsewhere") {
		t.Errorf("the edited tab: keep %q, message %q (hidden %v)", s.general.keepRuns.Text, s.general.retentionMsg.Text, s.general.retentionMsg.Hidden)
	}

	s.general.saveRetention()
	if s.general.keepRuns.Text != "500" {
		t.Errorf("after the refused save the tab shows %q, want the value saved elsewhere (500)", s.general.keepRuns.Text)
	}
	if s.general.retentionMsg.Hidden || s.general.retentionMsg.Importance != widget.DangerImportance || !strings.HasPrefix(s.general.retentionMsg.Text, "Not saved: the history settings were changed elsewhere") {
		t.Errorf("message %q (hidden %v, importance %v)", s.general.retentionMsg.Text, s.general.retentionMsg.Hidden, s.general.retentionMsg.Importance)
	}
	// Saved again on the new revision, it goes through.
	s.general.keepRuns.SetText("2500")
	s.general.saveRetention()
	if calls := f.Calls(); len(calls) != 2 || calls[1] != "save retention keep_runs=2500" || !strings.HasPrefix(s.general.retentionMsg.Text, "Saved.") {
		t.Errorf("calls %q, message %q", calls, s.general.retentionMsg.Text)
	}
}
