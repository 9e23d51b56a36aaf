package scheduler

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"time"
)

// Schedule says when scheduled runs happen. It is defined in an IANA time zone; every instant it
// produces is UTC.
//
// Slots are at Minute past every hour h of the zone's wall clock with (h-Hour) mod EveryHours == 0,
// on the enabled Weekdays, inside the active hours. The active hours are the half-open wall-clock
// interval [ActiveFrom:00, ActiveTo:00): a slot at 16:30 is inside 08–17, one at 17:30 is not.
// ActiveFrom greater than ActiveTo wraps midnight (18–07 is the evening and the night);
// ActiveFrom equal to ActiveTo, or 0–24, is the whole day.
//
// Daylight saving: an hourly slot in the repeated fall-back hour is two real instants and both
// run; an hourly slot inside the spring-forward gap does not exist. For every-N-hours schedules
// (N > 1) a slot in the repeated hour runs once (its first instant), and a slot in the gap runs
// once at the first instant after the gap.
type Schedule struct {
	Enabled      bool           `json:"enabled"`
	Minute       int            `json:"minute"`      // 0–59
	Hour         int            `json:"hour"`        // 0–23: the hour the every-N-hours cycle starts from
	EveryHours   int            `json:"every_hours"` // one of 1, 2, 3, 4, 6, 8, 12, 24
	ActiveFrom   int            `json:"active_from"` // 0–23
	ActiveTo     int            `json:"active_to"`   // 0–24
	Weekdays     []time.Weekday `json:"weekdays"`    // at least one
	Zone         string         `json:"zone"`        // IANA name, e.g. "Europe/London"
	GraceMinutes int            `json:"grace_minutes"`
	CatchUp      bool           `json:"catch_up"`
	Retries      int            `json:"retries"`               // 0–10 attempts after the first
	RetryBackoff int            `json:"retry_backoff_minutes"` // first retry delay in minutes; doubles each attempt

	loc *time.Location
}

// AllWeekdays is every day of the week.
var allWeekdays = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

// DefaultSchedule is the schedule of a new installation: enabled, hourly at :30 all day every day
// in zone, 60 minutes of grace, catch-up on, two retries from 2 minutes.
func DefaultSchedule(zone string) Schedule {
	return Schedule{
		Enabled: true, Minute: 30, EveryHours: 1, ActiveFrom: 0, ActiveTo: 24,
		Weekdays: slices.Clone(allWeekdays), Zone: zone, GraceMinutes: 60, CatchUp: true,
		Retries: 2, RetryBackoff: 2,
	}
}

// AllowedEveryHours lists the valid values of EveryHours.
var allowedEveryHours = []int{1, 2, 3, 4, 6, 8, 12, 24}

// AllowedEveryHours returns the valid values of Schedule.EveryHours.
func AllowedEveryHours() []int { return slices.Clone(allowedEveryHours) }

// Validate checks every field and returns a ValidationError naming each invalid one, or nil.
// It also loads the time zone, which Next needs.
func (s *Schedule) Validate() error {
	var errs ValidationError
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Minute < 0 || s.Minute > 59 {
		add("minute", "must be between 0 and 59, got %d", s.Minute)
	}
	if s.Hour < 0 || s.Hour > 23 {
		add("hour", "must be between 0 and 23, got %d", s.Hour)
	}
	if !slices.Contains(allowedEveryHours, s.EveryHours) {
		add("every_hours", "must be one of 1, 2, 3, 4, 6, 8, 12 or 24, got %d", s.EveryHours)
	}
	if s.ActiveFrom < 0 || s.ActiveFrom > 23 {
		add("active_from", "must be an hour between 0 and 23, got %d", s.ActiveFrom)
	}
	if s.ActiveTo < 0 || s.ActiveTo > 24 {
		add("active_to", "must be an hour between 0 and 24, got %d", s.ActiveTo)
	}
	if len(s.Weekdays) == 0 {
		add("weekdays", "choose at least one day")
	}
	for _, d := range s.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			add("weekdays", "%d is not a day of the week", d)
			break
		}
	}
	if s.Zone == "" {
		add("zone", "is empty; use an IANA time zone such as Europe/London")
	} else if loc, err := time.LoadLocation(s.Zone); err != nil {
		add("zone", "%q is not a known IANA time zone", s.Zone)
	} else {
		s.loc = loc
	}
	if s.GraceMinutes < 1 || s.GraceMinutes > 24*60 {
		add("grace_minutes", "must be between 1 and 1440 minutes, got %d", s.GraceMinutes)
	}
	if s.Retries < 0 || s.Retries > 10 {
		add("retries", "must be between 0 and 10, got %d", s.Retries)
	}
	if s.RetryBackoff < 1 || s.RetryBackoff > 60 {
		add("retry_backoff_minutes", "must be between 1 and 60 minutes, got %d", s.RetryBackoff)
	}
	if len(errs) == 0 && !s.hasSlot() {
		add("active_from", "no slot falls inside the active hours %02d–%02d at minute %d every %d hours from %02d:00",
			s.ActiveFrom, s.ActiveTo, s.Minute, s.EveryHours, s.Hour)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Location returns the schedule's zone (UTC before Validate succeeded).
func (s *Schedule) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// hasSlot reports whether any hour of a day is a slot.
func (s *Schedule) hasSlot() bool {
	for h := range 24 {
		if s.hourIsSlot(h) {
			return true
		}
	}
	return false
}

// hourIsSlot reports whether wall-clock hour h (at Minute) is a slot, ignoring the weekday.
func (s *Schedule) hourIsSlot(h int) bool {
	if ((h-s.Hour)%s.EveryHours+s.EveryHours)%s.EveryHours != 0 {
		return false
	}
	return s.active(h*60 + s.Minute)
}

// active reports whether the wall-clock minute of the day m lies inside the active hours.
func (s *Schedule) active(m int) bool {
	from, to := s.ActiveFrom*60, s.ActiveTo*60
	switch {
	case from == to || (from == 0 && to == 24*60):
		return true
	case from < to:
		return m >= from && m < to
	default: // wraps midnight
		return m >= from || m < to
	}
}

func (s *Schedule) weekdayOn(d time.Weekday) bool { return slices.Contains(s.Weekdays, d) }

// Next returns the first slot strictly after after, in UTC. It is a pure function of the
// schedule; it needs a validated schedule (Validate loads the zone) and returns the zero time for
// a disabled or invalid one. Safe for concurrent use.
func (s *Schedule) Next(after time.Time) time.Time {
	if !s.Enabled || s.loc == nil || s.EveryHours == 0 || len(s.Weekdays) == 0 {
		return time.Time{}
	}
	local := after.In(s.loc)
	y, mo, d := local.Date()
	// Start one hour before the wall-clock hour of after: in a fall-back hour the wall clock
	// runs behind, so the next instant can belong to an earlier wall hour.
	startHour := local.Hour() - 1
	// Eight days and a bit cover a weekly schedule with a single weekday.
	for day := 0; day <= 8; day++ {
		dayStart := time.Date(y, mo, d+day, 12, 0, 0, 0, time.UTC) // noon: a safe date carrier
		wd := dayStart.Weekday()
		if !s.weekdayOn(wd) {
			startHour = 0
			continue
		}
		best := time.Time{}
		for h := max(startHour, 0); h < 24; h++ {
			if !s.hourIsSlot(h) {
				continue
			}
			for _, t := range s.instants(dayStart.Year(), dayStart.Month(), dayStart.Day(), h, s.Minute) {
				if t.After(after) && (best.IsZero() || t.Before(best)) {
					best = t
				}
			}
			// Candidates of later wall hours on the same day come later in real time, except
			// around a fall-back where one hour later can be earlier; check one more hour.
			if !best.IsZero() && h > best.In(s.loc).Hour()+1 {
				break
			}
		}
		if !best.IsZero() {
			return best.UTC()
		}
		startHour = 0
	}
	return time.Time{}
}

// NextN returns the next n slots after after.
func (s *Schedule) NextN(after time.Time, n int) []time.Time {
	var out []time.Time
	for range n {
		t := s.Next(after)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

// SlotsBetween returns the slots in (from, to], at most limit of them (the latest are kept when
// there are more).
func (s *Schedule) SlotsBetween(from, to time.Time, limit int) []time.Time {
	var out []time.Time
	for t := s.Next(from); !t.IsZero() && !t.After(to); t = s.Next(t) {
		out = append(out, t)
		if len(out) > limit {
			out = out[1:]
		}
	}
	return out
}

// instants returns the real instants of the wall-clock time y-mo-d h:m in the schedule's zone:
// two in a repeated hour (hourly: both; every N hours: the first), none in a gap (hourly), or
// the end of the gap (every N hours).
func (s *Schedule) instants(y int, mo time.Month, d, h, m int) []time.Time {
	wall := time.Date(y, mo, d, h, m, 0, 0, time.UTC)
	// The offsets in force half a day either side cover any transition on this day.
	_, off1 := wall.Add(-14 * time.Hour).In(s.loc).Zone()
	_, off2 := wall.Add(14 * time.Hour).In(s.loc).Zone()
	var out []time.Time
	for _, off := range []int{off1, off2} {
		c := wall.Add(-time.Duration(off) * time.Second)
		l := c.In(s.loc)
		if l.Hour() == h && l.Minute() == m && l.Day() == d && !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	if len(out) == 0 && off1 == off2 {
		// A transition not visible at ±14 h (rare zones with two in a day): probe each hour.
		for k := -14; k <= 14; k++ {
			_, off := wall.Add(time.Duration(k) * time.Hour).In(s.loc).Zone()
			c := wall.Add(-time.Duration(off) * time.Second)
			l := c.In(s.loc)
			if l.Hour() == h && l.Minute() == m && l.Day() == d && !slices.ContainsFunc(out, c.Equal) {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	switch {
	case len(out) == 0 && s.EveryHours > 1:
		// In the spring-forward gap: the first instant after the gap is where the zone that
		// begins inside it starts.
		c := wall.Add(-time.Duration(min(off1, off2)) * time.Second)
		start, _ := c.In(s.loc).ZoneBounds()
		if !start.IsZero() {
			return []time.Time{start}
		}
	case len(out) > 1 && s.EveryHours > 1:
		return out[:1]
	}
	return out
}

// SystemZone returns the IANA name of the system's time zone, or "UTC" when it cannot tell.
func SystemZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		for i := 0; i+len("zoneinfo/") <= len(target); i++ {
			if target[i:i+len("zoneinfo/")] == "zoneinfo/" {
				name := target[i+len("zoneinfo/"):]
				if _, err := time.LoadLocation(name); err == nil {
					return name
				}
			}
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		name := string(b)
		for len(name) > 0 && (name[len(name)-1] == '\n' || name[len(name)-1] == ' ') {
			name = name[:len(name)-1]
		}
		if _, err := time.LoadLocation(name); err == nil && name != "" {
			return name
		}
	}
	return "UTC"
}
