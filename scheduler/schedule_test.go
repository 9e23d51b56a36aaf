package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustSchedule(t testing.TB, sc Schedule) Schedule {
	t.Helper()
	if err := sc.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return sc
}

func hourly(zone string, minute int) Schedule {
	sc := DefaultSchedule(zone)
	sc.Minute = minute
	return sc
}

func daily(zone string, hour, minute int) Schedule {
	sc := DefaultSchedule(zone)
	sc.EveryHours, sc.Hour, sc.Minute = 24, hour, minute
	return sc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestNextAcrossDST walks slots across daylight-saving transitions and checks every instant.
func TestNextAcrossDST(t *testing.T) {
	tests := []struct {
		name  string
		sched Schedule
		after string
		want  []string
	}{
		{"New York hourly, fall-back hour runs twice", hourly("America/New_York", 30), "2026-11-01T04:00:00Z",
			[]string{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"}},
		{"New York hourly, spring-forward slot absent", hourly("America/New_York", 30), "2026-03-08T05:00:00Z",
			[]string{"2026-03-08T05:30:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z", "2026-03-08T08:30:00Z"}},
		{"New York daily 02:30, gap runs at 03:00", daily("America/New_York", 2, 30), "2026-03-07T00:00:00Z",
			[]string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"New York daily 01:30, repeated hour runs once", daily("America/New_York", 1, 30), "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"London hourly, spring-forward", hourly("Europe/London", 30), "2026-03-29T00:00:00Z",
			[]string{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"}},
		{"London hourly, fall-back", hourly("Europe/London", 30), "2026-10-24T23:00:00Z",
			[]string{"2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"}},
		{"Kolkata +05:30 hourly at :00 is UTC :30", hourly("Asia/Kolkata", 0), "2026-06-01T00:00:00Z",
			[]string{"2026-06-01T00:30:00Z", "2026-06-01T01:30:00Z"}},
		{"Kolkata hourly at :30 is UTC :00, never truncated", hourly("Asia/Kolkata", 30), "2026-06-01T00:00:00Z",
			[]string{"2026-06-01T01:00:00Z", "2026-06-01T02:00:00Z"}},
		{"Lord Howe hourly :45, 30-minute fall-back repeats 01:45", hourly("Australia/Lord_Howe", 45), "2026-04-04T14:00:00Z",
			[]string{"2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z", "2026-04-04T16:15:00Z"}},
		{"Lord Howe hourly :15, fall-back does not repeat 01:15", hourly("Australia/Lord_Howe", 15), "2026-04-04T13:00:00Z",
			[]string{"2026-04-04T13:15:00Z", "2026-04-04T14:15:00Z", "2026-04-04T15:45:00Z"}},
		{"Lord Howe hourly :15, 02:15 is in the 30-minute gap", hourly("Australia/Lord_Howe", 15), "2026-10-03T14:00:00Z",
			[]string{"2026-10-03T14:45:00Z", "2026-10-03T16:15:00Z"}},
		{"Lord Howe daily 02:15 in the gap runs at 02:30", daily("Australia/Lord_Howe", 2, 15), "2026-10-03T00:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
		{"Chatham +12:45 hourly :00, fall-back repeats 03:00", hourly("Pacific/Chatham", 0), "2026-04-04T13:00:00Z",
			[]string{"2026-04-04T13:15:00Z", "2026-04-04T14:15:00Z", "2026-04-04T15:15:00Z"}},
		{"Chatham +12:45 hourly :00, spring-forward 03:00 absent", hourly("Pacific/Chatham", 0), "2026-09-26T13:00:00Z",
			[]string{"2026-09-26T13:15:00Z", "2026-09-26T14:15:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := mustSchedule(t, tt.sched)
			after := utc(tt.after)
			for i, w := range tt.want {
				got := sc.Next(after)
				if !got.Equal(utc(w)) {
					t.Fatalf("slot %d after %s: got %s (%s), want %s (%s)", i, after.Format(time.RFC3339),
						got.Format(time.RFC3339), got.In(sc.Location()).Format("15:04 MST"),
						w, utc(w).In(sc.Location()).Format("15:04 MST"))
				}
				if got.Location() != time.UTC {
					t.Fatalf("Next returned a non-UTC instant %v", got)
				}
				after = got
			}
		})
	}
}

// TestNextActiveHours checks that slots outside the active hours never fire.
func TestNextActiveHours(t *testing.T) {
	sc := hourly("America/New_York", 30)
	sc.ActiveFrom, sc.ActiveTo = 8, 17
	sc = mustSchedule(t, sc)
	after := utc("2026-06-01T00:00:00Z")
	var hours []int
	for range 40 {
		next := sc.Next(after)
		l := next.In(sc.Location())
		if l.Hour() < 8 || l.Hour() >= 17 {
			t.Fatalf("slot at %s is outside 08–17", l.Format(time.RFC3339))
		}
		if l.Minute() != 30 {
			t.Fatalf("slot at %s is not at :30", l)
		}
		if l.Hour() == 4 {
			t.Fatalf("fired at 04:30 local")
		}
		if len(hours) < 10 {
			hours = append(hours, l.Hour())
		}
		after = next
	}
	want := []int{8, 9, 10, 11, 12, 13, 14, 15, 16, 8}
	for i := range want {
		if hours[i] != want[i] {
			t.Fatalf("hours %v, want %v", hours, want)
		}
	}
}

// TestNextActiveHoursWrapMidnight checks that 18–07 is the evening and the night.
func TestNextActiveHoursWrapMidnight(t *testing.T) {
	sc := hourly("Europe/London", 0)
	sc.ActiveFrom, sc.ActiveTo = 18, 7
	sc = mustSchedule(t, sc)
	got := map[int]bool{}
	after := utc("2026-06-01T12:00:00Z")
	for range 26 {
		after = sc.Next(after)
		got[after.In(sc.Location()).Hour()] = true
	}
	for h := range 24 {
		want := h >= 18 || h < 7
		if got[h] != want {
			t.Errorf("hour %02d: slot=%v, want %v", h, got[h], want)
		}
	}
}

func TestNextWeekdaysAndEveryN(t *testing.T) {
	sc := DefaultSchedule("America/New_York")
	sc.EveryHours, sc.Hour, sc.Minute = 3, 1, 15
	sc.Weekdays = []time.Weekday{time.Monday, time.Friday}
	sc = mustSchedule(t, sc)
	after := utc("2026-06-06T12:00:00Z") // a Saturday
	var got []string
	for range 10 {
		after = sc.Next(after)
		got = append(got, after.In(sc.Location()).Format("Mon 15:04"))
	}
	want := []string{"Mon 01:15", "Mon 04:15", "Mon 07:15", "Mon 10:15", "Mon 13:15", "Mon 16:15", "Mon 19:15", "Mon 22:15", "Fri 01:15", "Fri 04:15"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestNextDisabled(t *testing.T) {
	sc := mustSchedule(t, DefaultSchedule("UTC"))
	sc.Enabled = false
	if got := sc.Next(time.Now()); !got.IsZero() {
		t.Fatalf("disabled schedule has next %v", got)
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Schedule)
		fields []string
	}{
		{"minute 60", func(s *Schedule) { s.Minute = 60 }, []string{"minute"}},
		{"minute -1", func(s *Schedule) { s.Minute = -1 }, []string{"minute"}},
		{"every 5 hours", func(s *Schedule) { s.EveryHours = 5 }, []string{"every_hours"}},
		{"zone Mars/Base", func(s *Schedule) { s.Zone = "Mars/Base" }, []string{"zone"}},
		{"empty zone", func(s *Schedule) { s.Zone = "" }, []string{"zone"}},
		{"hour 24", func(s *Schedule) { s.Hour = 24 }, []string{"hour"}},
		{"active_to 25", func(s *Schedule) { s.ActiveTo = 25 }, []string{"active_to"}},
		{"no weekdays", func(s *Schedule) { s.Weekdays = nil }, []string{"weekdays"}},
		{"grace 0", func(s *Schedule) { s.GraceMinutes = 0 }, []string{"grace_minutes"}},
		{"retries 11", func(s *Schedule) { s.Retries = 11 }, []string{"retries"}},
		{"several at once", func(s *Schedule) { s.Minute, s.EveryHours, s.Zone = 60, 5, "Mars/Base" },
			[]string{"minute", "every_hours", "zone"}},
		{"daily at 03 outside active 08–17", func(s *Schedule) { s.EveryHours, s.Hour, s.ActiveFrom, s.ActiveTo = 24, 3, 8, 17 },
			[]string{"active_from"}},
		{"active 18 to 07 wraps midnight: valid", func(s *Schedule) { s.ActiveFrom, s.ActiveTo = 18, 7 }, nil},
		{"default is valid", func(*Schedule) {}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := DefaultSchedule("Europe/London")
			tt.edit(&sc)
			err := sc.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var verr ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			if len(verr) != len(tt.fields) {
				t.Fatalf("got %d errors (%v), want fields %v", len(verr), verr, tt.fields)
			}
			for _, f := range tt.fields {
				if verr.Field(f) == nil {
					t.Errorf("no error names %q: %v", f, verr)
				}
			}
		})
	}
}

func TestMissedMessage(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/London")
	slots := []time.Time{utc("2026-06-01T06:30:00Z"), utc("2026-06-01T07:30:00Z"), utc("2026-06-01T08:30:00Z")}
	if got, want := MissedMessage(slots, loc), "3 slots missed, 07:30–09:30"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// sundayGapZone builds a zone (TZif data) whose clocks jump from 02:00 to 03:00 every Sunday
// and back at 12:00, from the first Sunday of 2026 to the last of 2028, then stay at UTC: a zone
// in which "02:00–03:00 on Sundays" never occurs for three years.
func sundayGapZone(t testing.TB) *time.Location {
	t.Helper()
	var times []int64
	var types []byte
	for d := utc("2026-01-04T00:00:00Z"); d.Year() < 2029; d = d.AddDate(0, 0, 7) {
		times = append(times, d.Add(2*time.Hour).Unix(), d.Add(11*time.Hour).Unix())
		types = append(types, 1, 0)
	}
	be32 := func(b []byte, v uint32) []byte { return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v)) }
	data := []byte("TZif")
	data = append(data, make([]byte, 16)...)
	for _, n := range []int{0, 0, 0, len(times), 2, 8} {
		data = be32(data, uint32(n))
	}
	for _, tt := range times {
		data = be32(data, uint32(int32(tt)))
	}
	data = append(data, types...)
	data = be32(data, 0)
	data = append(data, 0, 0) // STD, offset 0
	data = be32(data, 3600)
	data = append(data, 1, 4) // DST, offset +1 h
	data = append(data, "STD\x00DST\x00"...)
	loc, err := time.LoadLocationFromTZData("Test/SundayGap", data)
	if err != nil {
		t.Fatalf("building the test zone: %v", err)
	}
	return loc
}

// TestScheduleThatNeverOccursIsRefused: a schedule with no slot in the next 366 days is refused
// with an error naming the fields, and Next still finds its slot years later.
func TestScheduleThatNeverOccursIsRefused(t *testing.T) {
	sc := DefaultSchedule("UTC")
	sc.Weekdays, sc.ActiveFrom, sc.ActiveTo, sc.Minute = []time.Weekday{time.Sunday}, 2, 3, 30
	sc = mustSchedule(t, sc)
	sc.loc = sundayGapZone(t)
	sc.Zone = "Test/SundayGap"
	now := utc("2026-03-01T00:00:00Z")
	fe := sc.neverOccurs(now)
	if fe == nil || fe.Field != "active_from" {
		t.Fatalf("neverOccurs = %v, want an error on active_from", fe)
	}
	if want := "active hours 02–03 on Sundays never occur in Test/SundayGap in the 366 days from 2026-03-01"; !strings.Contains(fe.Msg, want) {
		t.Fatalf("message %q does not say %q", fe.Msg, want)
	}
	// No search horizon: the first slot is the first Sunday after the zone's gaps end.
	if got, want := sc.Next(now), utc("2029-01-07T02:30:00Z"); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	// A disabled schedule is checked too: enabling it later must not stop the scheduler.
	sc.Enabled = false
	if sc.neverOccurs(now) == nil {
		t.Fatal("a disabled schedule that never occurs passed")
	}
	// From 2028-02 on, the 2029 slot is within 366 days: the schedule is accepted then.
	if fe := sc.neverOccurs(utc("2028-02-01T00:00:00Z")); fe != nil {
		t.Fatalf("refused although a slot comes within 366 days: %v", fe)
	}
}

// TestValidateAtUsesGivenTime: Validate and ValidateAt accept every ordinary schedule (each has
// a slot within a week), so the 366-day rule never refuses a real one by mistake.
func TestValidateAtUsesGivenTime(t *testing.T) {
	sc := DefaultSchedule("America/New_York")
	sc.Weekdays, sc.ActiveFrom, sc.ActiveTo, sc.Minute = []time.Weekday{time.Sunday}, 2, 3, 30
	for _, at := range []string{"2026-03-07T12:00:00Z", "2026-03-08T06:59:00Z", "1971-04-25T06:00:00Z", "2037-03-08T06:00:00Z"} {
		if err := sc.ValidateAt(utc(at)); err != nil {
			t.Fatalf("ValidateAt(%s): %v", at, err)
		}
	}
}

// BenchmarkNext measures Next for hourly schedules (the common case, ≤ 10 µs) and for the
// worst weekly-in-a-gap schedule, whose next slot is a week away (≤ 1 ms).
func BenchmarkNext(b *testing.B) {
	weekly := func(zone string, wd time.Weekday, from, minute int) Schedule {
		sc := DefaultSchedule(zone)
		sc.Weekdays, sc.ActiveFrom, sc.ActiveTo, sc.Minute = []time.Weekday{wd}, from, from+1, minute
		return sc
	}
	cases := []struct {
		name  string
		sc    Schedule
		after string
		reset bool // start every call from after (a fixed worst case) instead of walking on
	}{
		{"hourly/America/New_York", hourly("America/New_York", 30), "2026-03-08T05:00:00Z", false},
		{"hourly/Australia/Lord_Howe", hourly("Australia/Lord_Howe", 15), "2026-10-03T12:00:00Z", false},
		{"daily/Australia/Lord_Howe", daily("Australia/Lord_Howe", 2, 15), "2026-10-03T00:00:00Z", false},
		{"weekly-in-gap/America/New_York", weekly("America/New_York", time.Sunday, 2, 30), "2026-03-08T06:00:00Z", true},
		{"weekly-in-gap/Pacific/Apia", weekly("Pacific/Apia", time.Friday, 9, 0), "2011-12-29T12:00:00Z", true},
	}
	for _, c := range cases {
		sc := mustSchedule(b, c.sc)
		b.Run(c.name, func(b *testing.B) {
			start := utc(c.after)
			after := start
			for b.Loop() {
				next := sc.Next(after)
				if !c.reset {
					after = next
				}
			}
		})
	}
	b.Run("weekly-in-gap/synthetic-3-years", func(b *testing.B) {
		sc := DefaultSchedule("UTC")
		sc.Weekdays, sc.ActiveFrom, sc.ActiveTo, sc.Minute = []time.Weekday{time.Sunday}, 2, 3, 30
		sc = mustSchedule(b, sc)
		sc.loc = sundayGapZone(b)
		after := utc("2026-01-01T00:00:00Z")
		for b.Loop() {
			sc.Next(after)
		}
	})
}
