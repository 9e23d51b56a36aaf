package scheduler

import (
	"fmt"
	"os"
	"slices"
	"strings"
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
// It also loads the time zone, which Next needs. A schedule with no slot in the 366 days from
// the system clock's now is refused (see ValidateAt). It does not block; it is not safe to call
// on one Schedule value from several goroutines at once (it sets the loaded zone).
func (s *Schedule) Validate() error { return s.ValidateAt(time.Now()) }

// occursWithin is how far ahead ValidateAt looks for a slot.
const occursWithin = 366 * 24 * time.Hour

// ValidateAt is Validate with now given (the scheduler passes its injected clock): besides the
// fields, it refuses a schedule that has no slot in the 366 days from now, with an error on
// active_from that names the active hours, the weekdays and the zone ("active hours 02–03 on
// Sundays never occur in America/New_York in the 366 days from 2026-03-07").
func (s *Schedule) ValidateAt(now time.Time) error {
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
	if len(errs) == 0 {
		if fe := s.neverOccurs(now); fe != nil {
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// neverOccurs returns the error for a schedule (with its zone loaded) that has no slot in the
// 366 days from now, or nil. A disabled schedule is checked as if it were enabled, so that
// enabling it later cannot stop the scheduler.
func (s *Schedule) neverOccurs(now time.Time) *FieldError {
	probe := *s
	probe.Enabled = true
	if !probe.nextBefore(now, now.Add(occursWithin)).IsZero() {
		return nil
	}
	return &FieldError{Field: "active_from", Msg: fmt.Sprintf(
		"%s %s never occur in %s in the 366 days from %s; change the active hours, the weekdays or the time zone",
		s.describeHours(), s.describeWeekdays(), s.Zone, now.In(s.Location()).Format("2006-01-02"))}
}

// describeHours names the slots' hours for a message: "active hours 02–03" or "slots at :30
// every hour".
func (s *Schedule) describeHours() string {
	every := "every hour"
	if s.EveryHours > 1 {
		every = fmt.Sprintf("every %d hours from %02d:%02d", s.EveryHours, s.Hour, s.Minute)
	}
	if s.ActiveFrom == s.ActiveTo || (s.ActiveFrom == 0 && s.ActiveTo == 24) {
		return fmt.Sprintf("slots at :%02d %s", s.Minute, every)
	}
	return fmt.Sprintf("active hours %02d–%02d", s.ActiveFrom, s.ActiveTo)
}

// describeWeekdays names the weekdays for a message: "on Sundays", "on Mondays and Fridays",
// "every day".
func (s *Schedule) describeWeekdays() string {
	var days []string
	for _, d := range allWeekdays {
		if s.weekdayOn(d) {
			days = append(days, d.String()+"s")
		}
	}
	switch len(days) {
	case 7:
		return "every day"
	case 1:
		return "on " + days[0]
	default:
		return "on " + strings.Join(days[:len(days)-1], ", ") + " and " + days[len(days)-1]
	}
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

// Next returns the first slot strictly after after, in UTC, however far away it is (a weekly
// schedule whose only slot falls in a daylight-saving gap has its next slot a week or a year
// later). It is a pure function of the schedule; it needs a validated schedule (Validate loads
// the zone) and returns the zero time only for a disabled or invalid one, or for a schedule that
// has no slot at all (Validate refuses one with no slot in the next 366 days). Safe for
// concurrent use; it does not block and allocates nothing.
//
// Next walks the zone's offset segments (ZoneBounds): inside a segment of constant offset the
// first slot wall time after after's wall time is the next slot, unless the segment ends first;
// then the rules of the transition at its end apply (see Schedule) and the walk goes on.
func (s *Schedule) Next(after time.Time) time.Time { return s.nextBefore(after, time.Time{}) }

// maxSegments bounds the walk of Next over offset segments. A zone has at most a few hundred
// listed transitions, then follows a yearly rule or a fixed offset, under which every valid
// schedule has a slot within a year; the bound only guards against a corrupt zone.
const maxSegments = 100_000

// nextBefore is Next, giving up (zero) at limit when limit is not zero.
func (s *Schedule) nextBefore(after, limit time.Time) time.Time {
	if !s.Enabled || s.loc == nil || s.EveryHours == 0 || len(s.Weekdays) == 0 {
		return time.Time{}
	}
	l := after.In(s.loc)
	_, off := l.Zone()
	start, end := l.ZoneBounds()
	from, strict := wallOf(after, off), true
	for range maxSegments {
		w := s.nextWall(from, strict)
		if w.IsZero() {
			return time.Time{}
		}
		if s.EveryHours > 1 && !start.IsZero() {
			// After a fall-back the wall times up to the old offset come a second time: an
			// every-N-hours slot runs at the first of the two instants only.
			if _, prev := start.Add(-time.Second).In(s.loc).Zone(); prev > off {
				if repeatEnd := wallOf(start, prev); w.Before(repeatEnd) {
					w = s.nextWall(repeatEnd, false)
				}
			}
		}
		at := w.Add(-time.Duration(off) * time.Second)
		if end.IsZero() || at.Before(end) {
			if !limit.IsZero() && !at.Before(limit) {
				return time.Time{}
			}
			return at
		}
		// The segment ends before its next slot: go on at the transition.
		if !limit.IsZero() && !end.Before(limit) {
			return time.Time{}
		}
		l = end.In(s.loc)
		_, newOff := l.Zone()
		if newOff > off && s.EveryHours > 1 {
			// A spring-forward skips the wall times [end+off, end+newOff): an every-N-hours
			// slot among them runs once, at the first instant after the gap.
			if g := s.nextWall(wallOf(end, off), false); !g.IsZero() && g.Before(wallOf(end, newOff)) {
				return end.UTC()
			}
		}
		// Go may report a segment boundary where nothing changes (the end of the listed
		// transitions, 2038-01-19), and then a start before it: go on from the boundary.
		off, from, strict = newOff, wallOf(end, newOff), false
		start, end = l.ZoneBounds()
	}
	return time.Time{}
}

// wallOf returns the wall-clock reading of instant t at offset off (seconds east of UTC), as a
// UTC time carrying the wall-clock fields.
func wallOf(t time.Time, off int) time.Time {
	return t.UTC().Add(time.Duration(off) * time.Second)
}

// nextWall returns the first slot wall time (a UTC carrier of wall-clock fields) after from, or
// at from when strict is false. Every enabled weekday has a slot hour (Validate checks), so it
// looks at most a week ahead; it returns zero for a schedule without one.
func (s *Schedule) nextWall(from time.Time, strict bool) time.Time {
	y, mo, d := from.Date()
	for day := 0; day <= 7; day++ {
		date := time.Date(y, mo, d+day, 0, 0, 0, 0, time.UTC)
		if !s.weekdayOn(date.Weekday()) {
			continue
		}
		h0 := 0
		if day == 0 {
			h0 = from.Hour()
		}
		for h := h0; h < 24; h++ {
			if !s.hourIsSlot(h) {
				continue
			}
			w := date.Add(time.Duration(h)*time.Hour + time.Duration(s.Minute)*time.Minute)
			if w.After(from) || (!strict && w.Equal(from)) {
				return w
			}
		}
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
