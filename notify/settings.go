package notify

import (
	"fmt"
	"time"

	"worktray/scheduler"
)

// SettingsKey is the key under which the alert Settings are stored (store.PutSetting).
const SettingsKey = "alerts"

// Settings are the user's alert settings. The control layer validates them with Validate and
// stores them under SettingsKey; the Notifier reads them before every delivery pass, so a change
// applies without restart. Load them by filling DefaultSettings() and unmarshalling over it, so
// a field missing from an older stored value keeps its default.
type Settings struct {
	// PushoverEnabled turns delivery to Pushover on. The token and user key are secrets and live
	// in the secret store, never here.
	PushoverEnabled bool `json:"pushover_enabled"`
	// DesktopEnabled turns desktop notifications on (default on).
	DesktopEnabled bool `json:"desktop_enabled"`
	// FailureThreshold is how many consecutive failed runs raise a "failing" alert (default 2).
	FailureThreshold int `json:"failure_threshold"`
	// RenotifyMinutes is how often a still-failing scraper is alerted again (default 360, 6 h);
	// 0 never repeats the alert.
	RenotifyMinutes int `json:"renotify_minutes"`
	// Quiet hours hold Pushover alerts from QuietFrom to QuietTo ("HH:MM", wall clock in
	// QuietZone, empty zone = the system's); they are sent when the quiet hours end. From after
	// To wraps midnight (22:00–07:00). Desktop notifications are not held.
	QuietEnabled bool   `json:"quiet_enabled"`
	QuietFrom    string `json:"quiet_from,omitempty"`
	QuietTo      string `json:"quiet_to,omitempty"`
	QuietZone    string `json:"quiet_zone,omitempty"`
	// NewOrdersDesktop shows a desktop notification for new work orders (default on).
	NewOrdersDesktop bool `json:"new_orders_desktop"`
	// NewOrdersPushover also sends new work orders to Pushover (default off).
	NewOrdersPushover bool `json:"new_orders_pushover"`
	// LargeDropAlert alerts when more than half of the stored orders disappear (default on).
	LargeDropAlert bool `json:"large_drop_alert"`
}

// DefaultSettings returns the settings of a new installation: Pushover off (no keys yet),
// desktop on, threshold 2, re-notify every 6 hours, no quiet hours, new orders on the desktop
// only, large-drop alerts on.
func DefaultSettings() Settings {
	return Settings{
		DesktopEnabled:   true,
		FailureThreshold: 2,
		RenotifyMinutes:  360,
		QuietFrom:        "22:00",
		QuietTo:          "07:00",
		NewOrdersDesktop: true,
		LargeDropAlert:   true,
	}
}

// Validate checks every field and returns a scheduler.ValidationError naming each invalid one
// (failure_threshold, renotify_minutes, quiet_from, quiet_to, quiet_zone), or nil.
func (s Settings) Validate() error {
	var errs scheduler.ValidationError
	add := func(field, format string, args ...any) {
		errs = append(errs, &scheduler.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if s.FailureThreshold < 1 || s.FailureThreshold > 100 {
		add("failure_threshold", "must be between 1 and 100 failed runs, got %d", s.FailureThreshold)
	}
	if s.RenotifyMinutes != 0 && (s.RenotifyMinutes < 15 || s.RenotifyMinutes > 7*24*60) {
		add("renotify_minutes", "must be 0 (never) or between 15 minutes and 7 days, got %d", s.RenotifyMinutes)
	}
	if s.QuietEnabled {
		from, errFrom := parseClock(s.QuietFrom)
		if errFrom != nil {
			add("quiet_from", "%v", errFrom)
		}
		to, errTo := parseClock(s.QuietTo)
		if errTo != nil {
			add("quiet_to", "%v", errTo)
		}
		if errFrom == nil && errTo == nil && from == to {
			add("quiet_to", "must differ from quiet_from (%s)", s.QuietFrom)
		}
	}
	if s.QuietZone != "" {
		if _, err := time.LoadLocation(s.QuietZone); err != nil {
			add("quiet_zone", "unknown time zone %q", s.QuietZone)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// renotify returns the re-notify interval, 0 for never.
func (s Settings) renotify() time.Duration { return time.Duration(s.RenotifyMinutes) * time.Minute }

// QuietUntil reports whether t is inside the quiet hours and, if so, the instant they end. It
// returns the zero time when quiet hours are off, t is outside them or the settings are invalid.
func (s Settings) QuietUntil(t time.Time) time.Time {
	if !s.QuietEnabled {
		return time.Time{}
	}
	from, err1 := parseClock(s.QuietFrom)
	to, err2 := parseClock(s.QuietTo)
	if err1 != nil || err2 != nil || from == to {
		return time.Time{}
	}
	loc := time.Local
	if s.QuietZone != "" {
		l, err := time.LoadLocation(s.QuietZone)
		if err != nil {
			return time.Time{}
		}
		loc = l
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	var quiet bool
	if from < to {
		quiet = m >= from && m < to
	} else {
		quiet = m >= from || m < to
	}
	if !quiet {
		return time.Time{}
	}
	// The end is the next wall-clock To after t (today or tomorrow); time.Date moves a To inside
	// a spring-forward gap to the first instant after it.
	y, mo, d := lt.Date()
	end := time.Date(y, mo, d, to/60, to%60, 0, 0, loc)
	if !end.After(t) {
		end = time.Date(y, mo, d+1, to/60, to%60, 0, 0, loc)
	}
	return end.UTC()
}

// parseClock parses "HH:MM" into minutes after midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("must be a time of day as HH:MM, got %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}
