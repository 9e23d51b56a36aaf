package screens

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestSettingsRetention(t *testing.T) {
	s, f, _ := newSettingsWindow(t)
	if got := s.general.keepRuns.Text; got != "10000" {
		t.Errorf("keep runs = %q, want the default 10000", got)
	}
	s.SelectTab(3)
	// The error shows while typing, and a save with it reaches nobody.
	s.general.keepRuns.SetText("5")
	if l := s.general.retentionErrs["keep_runs"]; l.Hidden || !strings.HasPrefix(l.Text, "keep_runs:") {
		t.Errorf("error label while typing = %q (hidden %v), want one naming keep_runs", l.Text, l.Hidden)
	}
	test.Tap(s.general.retentionSave)
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("an invalid retention reached the owner: %v", calls)
	}
	s.general.keepRuns.SetText("2500")
	if l := s.general.retentionErrs["keep_runs"]; !l.Hidden {
		t.Errorf("error label after a valid value = %q", l.Text)
	}
	test.Tap(s.general.retentionSave)
	if got := f.Calls(); strings.Join(got, "|") != "save retention keep_runs=2500" {
		t.Errorf("calls = %v, want one save with 2500", got)
	}
	if want := "Saved. The last 2500 runs are kept; older ones are pruned now."; s.general.retentionMsg.Text != want || s.general.retentionMsg.Hidden {
		t.Errorf("message = %q, want %q", s.general.retentionMsg.Text, want)
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
