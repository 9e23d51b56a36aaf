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

func (t *toggle) Enabled() bool            { return t.on }
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

func TestSettingsPreviewFollowsEdits(t *testing.T) {
	s, _, _ := newSettingsWindow(t)
	if got := s.preview.Text; got != "10:30, 11:30, 12:30, 13:30, 14:30" {
		t.Errorf("preview = %q", got)
	}
	s.minute.SetText("5")
	s.every.SetSelected("2")
	s.hour.SetText("1")
	if got := s.preview.Text; got != "11:05, 13:05, 15:05, 17:05, 19:05" {
		t.Errorf("preview after minute 5 every 2 h from 01:00 = %q", got)
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
		{"minute 60", 0, func(s *Settings) { s.minute.SetText("60") }, func(s *Settings) *widget.Label { s.saveSchedule(); return s.schedErrs["minute"] },
			"minute: must be between 0 and 59, got 60", "settings_invalid_minute.png"},
		{"minute not a number", 0, func(s *Settings) { s.minute.SetText("half past") }, func(s *Settings) *widget.Label { s.saveSchedule(); return s.schedErrs["minute"] },
			`minute: "half past" is not a whole number`, ""},
		{"no weekday", 0, func(s *Settings) {
			for _, c := range s.weekdays {
				c.SetChecked(false)
			}
		}, func(s *Settings) *widget.Label { s.saveSchedule(); return s.schedErrs["weekdays"] }, "weekdays: choose at least one day", ""},
		{"bad zone", 0, func(s *Settings) { s.zone.SetText("Mars/Olympus") }, func(s *Settings) *widget.Label { s.saveSchedule(); return s.schedErrs["zone"] },
			`zone: "Mars/Olympus" is not a known IANA time zone`, ""},
		{"empty URL", 1, func(s *Settings) { s.portalURL.SetText("") }, func(s *Settings) *widget.Label { s.savePortal(); return s.portalErrs["url"] },
			"url: is empty; enter the address of the portal's login page", "settings_invalid_url.png"},
		{"bad Pushover key", 2, func(s *Settings) { s.pushEnabled.SetChecked(true); s.token.SetText("tooshort") },
			func(s *Settings) *widget.Label { s.saveAlerts(); return s.alertErrs["pushover_token"] },
			"pushover_token: must be exactly 30 letters and digits (got 8 characters)", "settings_invalid_pushover.png"},
		{"bad quiet hours", 2, func(s *Settings) { s.quiet.SetChecked(true); s.quietFrom.SetText("25:00") },
			func(s *Settings) *widget.Label { s.saveAlerts(); return s.alertErrs["quiet_from"] }, "quiet_from:", ""},
		{"keep 5 runs", 3, func(s *Settings) { s.keepRuns.SetText("5") }, func(s *Settings) *widget.Label { s.saveRetention(); return s.retentionErrs["keep_runs"] },
			"keep_runs: must be between 100 and 1000000 runs, got 5", "settings_invalid_retention.png"},
		{"keep not a number", 3, func(s *Settings) { s.keepRuns.SetText("all") }, func(s *Settings) *widget.Label { s.saveRetention(); return s.retentionErrs["keep_runs"] },
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
	s.minute.SetText("15")
	s.saveSchedule()
	s.portalPass.SetText("hunter2")
	s.savePortal()
	s.token.SetText(strings.Repeat("a", 30))
	s.userKey.SetText(strings.Repeat("b", 30))
	s.saveAlerts()
	want := []string{"save schedule minute=15", `save portal url="" profile="" username="" password=true`, "save alerts token,user key"}
	if got := f.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if s.schedMsg.Text != "Saved. Next run 10:15." {
		t.Errorf("schedule message = %q", s.schedMsg.Text)
	}
}

func TestSettingsRetention(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	if got := s.keepRuns.Text; got != "10000" {
		t.Errorf("keep runs = %q, want the default 10000", got)
	}
	s.SelectTab(3)
	// The error shows while typing, and a save with it reaches nobody.
	s.keepRuns.SetText("5")
	if l := s.retentionErrs["keep_runs"]; l.Hidden || !strings.HasPrefix(l.Text, "keep_runs:") {
		t.Errorf("error label while typing = %q (hidden %v), want one naming keep_runs", l.Text, l.Hidden)
	}
	test.Tap(s.retentionSave)
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("an invalid retention reached the owner: %v", calls)
	}
	s.keepRuns.SetText("2500")
	if l := s.retentionErrs["keep_runs"]; !l.Hidden {
		t.Errorf("error label after a valid value = %q", l.Text)
	}
	test.Tap(s.retentionSave)
	if got := f.Calls(); strings.Join(got, "|") != "save retention keep_runs=2500" {
		t.Errorf("calls = %v, want one save with 2500", got)
	}
	if want := "Saved. The last 2500 runs are kept; older ones are pruned now."; s.retentionMsg.Text != want || s.retentionMsg.Hidden {
		t.Errorf("message = %q, want %q", s.retentionMsg.Text, want)
	}
}

func TestSettingsStartAtLogin(t *testing.T) {
	test.NewTempApp(t)
	tg := &toggle{}
	s := NewSettings(newFake(), SettingsOptions{Options: testOptions(), StartAtLogin: tg})
	_ = test.NewWindow(s.Content())
	s.SelectTab(3)
	var check *widget.Check
	for _, o := range test.LaidOutObjects(s.Content()) {
		if c, ok := o.(*widget.Check); ok && c.Text == "Start worktray when I log in" {
			check = c
		}
	}
	if check == nil {
		t.Fatal("no start-at-login check")
	}
	test.Tap(check)
	if !tg.on {
		t.Error("checking the box did not enable the autostart entry")
	}
}

// TestSettingsSavedIsNotRed: a success message keeps its colour after the tab lays out again;
// an error after it is red again.
func TestSettingsSavedIsNotRed(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.minute.SetText("15")
	s.saveSchedule()
	s.relayout()
	if s.schedMsg.Importance != widget.SuccessImportance || !strings.HasPrefix(s.schedMsg.Text, "Saved.") {
		t.Errorf("after a save: %q in importance %v, want Saved. in the success colour", s.schedMsg.Text, s.schedMsg.Importance)
	}
	f.err = errors.New("the disk is full")
	s.minute.SetText("20")
	s.saveSchedule()
	if s.schedMsg.Importance != widget.DangerImportance || !strings.Contains(s.schedMsg.Text, "disk is full") {
		t.Errorf("after a failed save: %q in importance %v", s.schedMsg.Text, s.schedMsg.Importance)
	}
}

// TestSettingsSavesOnlyWhatChanged: a save sends only the fields the user changed, never a
// value the window did not show (the quiet hours' zone), and nothing when nothing changed.
func TestSettingsSavesOnlyWhatChanged(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.threshold.SetText("4")
	s.saveAlerts()
	s.portalUser.SetText("someone@example.com")
	s.savePortal()
	s.savePortal() // nothing changed since
	want := []string{"save alerts FailureThreshold", `save portal url="" profile="" username="someone@example.com" password=false`}
	if got := f.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", got, want)
	}
	if s.portalMsg.Text != "Nothing to save: no field was changed." {
		t.Errorf("portal message %q", s.portalMsg.Text)
	}
}

// TestSettingsReloadAndStaleRevision: settings changed elsewhere show at once in a tab without
// edits; a tab with edits keeps them and says so; its save is refused (stale revision), and the
// tab then shows the new values and says why.
func TestSettingsReloadAndStaleRevision(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	s.keepRuns.SetText("2500") // an edit in the General tab

	// Elsewhere: a new schedule minute and retention, saved at a new revision.
	f.mu.Lock()
	f.sched.Minute, f.retention.KeepRuns = 45, 500
	f.mu.Unlock()
	f.bump("schedule")
	f.bump("retention")
	s.Reload()
	if s.minute.Text != "45" {
		t.Errorf("the schedule tab without edits shows minute %q after a reload, want 45", s.minute.Text)
	}
	if s.keepRuns.Text != "2500" || s.retentionMsg.Hidden || !strings.Contains(s.retentionMsg.Text, "changed the history retention elsewhere") {
		t.Errorf("the edited tab: keep %q, message %q (hidden %v)", s.keepRuns.Text, s.retentionMsg.Text, s.retentionMsg.Hidden)
	}

	s.saveRetention()
	if s.keepRuns.Text != "500" {
		t.Errorf("after the refused save the tab shows %q, want the value saved elsewhere (500)", s.keepRuns.Text)
	}
	if s.retentionMsg.Hidden || s.retentionMsg.Importance != widget.DangerImportance || !strings.HasPrefix(s.retentionMsg.Text, "Not saved: the history settings were changed elsewhere") {
		t.Errorf("message %q (hidden %v, importance %v)", s.retentionMsg.Text, s.retentionMsg.Hidden, s.retentionMsg.Importance)
	}
	// Saved again on the new revision, it goes through.
	s.keepRuns.SetText("2500")
	s.saveRetention()
	if calls := f.Calls(); len(calls) != 2 || calls[1] != "save retention keep_runs=2500" || !strings.HasPrefix(s.retentionMsg.Text, "Saved.") {
		t.Errorf("calls %q, message %q", calls, s.retentionMsg.Text)
	}
}
