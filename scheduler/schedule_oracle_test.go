package scheduler

import (
	"math/rand/v2"
	"testing"
	"time"
)

// bruteNext finds the next slot minute by minute, straight from the rules in Schedule's doc
// comment, as an oracle for Next.
func bruteNext(s *Schedule, after time.Time) time.Time {
	loc := s.loc
	t := after.Truncate(time.Minute)
	wd := func(w time.Time) bool { return s.weekdayOn(w.Weekday()) }
	for k := 0; k < 9*1440; k++ {
		prev := t
		t = t.Add(time.Minute)
		l := t.In(loc)
		// gap: wall times skipped between prev and t
		_, o1 := prev.In(loc).Zone()
		_, o2 := l.Zone()
		if o2 > o1 && s.EveryHours > 1 {
			pw := prev.In(loc)
			wall := time.Date(pw.Year(), pw.Month(), pw.Day(), pw.Hour(), pw.Minute(), 0, 0, time.UTC).Add(time.Minute)
			end := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
			for w := wall; w.Before(end); w = w.Add(time.Minute) {
				if w.Minute() == s.Minute && s.hourIsSlot(w.Hour()) && wd(w) && t.After(after) {
					return t
				}
			}
		}
		if !t.After(after) {
			continue
		}
		if l.Minute() != s.Minute || !s.hourIsSlot(l.Hour()) || !wd(l) {
			continue
		}
		if s.EveryHours > 1 {
			dup := false
			for b := time.Minute; b <= 3*time.Hour; b += time.Minute {
				pl := t.Add(-b).In(loc)
				if pl.Year() == l.Year() && pl.YearDay() == l.YearDay() && pl.Hour() == l.Hour() && pl.Minute() == l.Minute() {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
		}
		return t
	}
	return time.Time{}
}

// TestNextMatchesBruteForce compares Next with a minute-by-minute search on random schedules in
// zones with odd offsets and transitions, near their transitions.
func TestNextMatchesBruteForce(t *testing.T) {
	zones := []string{"America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Asia/Kathmandu",
		"Pacific/Chatham", "America/Santiago", "America/Havana", "Africa/Casablanca", "America/St_Johns", "Antarctica/Troll",
		"Asia/Tehran", "Pacific/Apia", "America/Asuncion", "Europe/Dublin"}
	r := rand.New(rand.NewPCG(1, 2))
	hours := []int{1, 2, 3, 4, 6, 8, 12, 24}
	fails := 0
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n && fails < 15; i++ {
		z := zones[r.IntN(len(zones))]
		s := DefaultSchedule(z)
		s.Minute = r.IntN(60)
		if r.IntN(3) == 0 {
			s.Minute = []int{0, 30, 59, 15, 45}[r.IntN(5)]
		}
		s.EveryHours = hours[r.IntN(len(hours))]
		s.Hour = r.IntN(24)
		if r.IntN(3) == 0 {
			s.ActiveFrom, s.ActiveTo = r.IntN(24), r.IntN(25)
		}
		if r.IntN(3) == 0 {
			s.Weekdays = []time.Weekday{time.Weekday(r.IntN(7))}
		}
		if s.Validate() != nil {
			continue
		}
		loc := s.loc
		// pick a time near a transition
		base := time.Date(2024+r.IntN(3), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		_, end := base.In(loc).ZoneBounds()
		var after time.Time
		if !end.IsZero() && r.IntN(4) != 0 {
			after = end.Add(time.Duration(r.IntN(48*60)-24*60) * time.Minute)
		} else {
			after = base.Add(time.Duration(r.IntN(31*24*60)) * time.Minute)
		}
		if r.IntN(4) == 0 {
			after = after.Add(time.Duration(r.IntN(60)) * time.Second)
		}
		got := s.Next(after)
		want := bruteNext(&s, after)
		if !got.Equal(want) {
			fails++
			t.Errorf("%s min=%d every=%d hour=%d active=%d-%d wd=%v after=%s (%s): Next=%s (%s) brute=%s (%s)",
				z, s.Minute, s.EveryHours, s.Hour, s.ActiveFrom, s.ActiveTo, s.Weekdays, after.Format(time.RFC3339), after.In(loc).Format("Mon 15:04 MST"),
				got.Format(time.RFC3339), got.In(loc).Format("Mon 15:04 MST"), want.Format(time.RFC3339), want.In(loc).Format("Mon 15:04 MST"))
		}
	}
}
