package screens

import (
	"testing"
)

func TestSettingsPreviewFollowsEdits(t *testing.T) {
	s, _, _ := newSettingsWindow(t)
	if got := s.schedule.preview.Text; got != "10:30, 11:30, 12:30, 13:30, 14:30" {
		t.Errorf("preview = %q", got)
	}
	s.schedule.minute.SetText("5")
	s.schedule.every.SetSelected("2")
	s.schedule.hour.SetText("1")
	if got := s.schedule.preview.Text; got != "11:05, 13:05, 15:05, 17:05, 19:05" {
		t.Errorf("preview after minute 5 every 2 h from 01:00 = %q", got)
	}
}
