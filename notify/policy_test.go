package notify

import (
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
)

func failed(st *scheduler.State, at time.Time, msg string) *scheduler.Run {
	// What the scheduler does before calling RunFinished (see Policy).
	st.ConsecutiveFailures++
	if st.FailingSince.IsZero() {
		st.FailingSince = at
	}
	st.LastError, st.LastErrorClass = msg, scheduler.ClassLoginFailed
	return &scheduler.Run{ID: uint64(at.Unix()), Status: scheduler.StatusFailed, Finished: at, ErrorClass: scheduler.ClassLoginFailed, Message: msg}
}

func succeeded(st *scheduler.State, at time.Time, found int) *scheduler.Run {
	st.ConsecutiveFailures, st.FailingSince = 0, time.Time{}
	return &scheduler.Run{ID: uint64(at.Unix()), Status: scheduler.StatusSucceeded, Finished: at, Found: found}
}

func TestPolicyThresholdRenotifyRecovery(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	p := NewPolicy(DefaultSettings(), ny, nil)
	var st scheduler.State
	at := t0 // 05:00 in New York

	if a := p.RunFinished(failed(&st, at, "the portal said: invalid credentials"), scheduler.Diff{}, &st, at); len(a) != 0 {
		t.Fatalf("first failure raised %+v", a)
	}
	at = at.Add(time.Hour)
	a := p.RunFinished(failed(&st, at, "the portal said: invalid credentials"), scheduler.Diff{}, &st, at)
	if len(a) != 1 {
		t.Fatalf("second failure raised %d alerts, want 1", len(a))
	}
	f := a[0]
	if f.Kind != scheduler.AlertFailing || f.Priority != 1 || !f.Pushover || !f.Desktop {
		t.Errorf("failing alert = %+v", f)
	}
	for _, want := range []string{"last 2 scrapes", "since 05:00", "did not accept the login", "invalid credentials", "What to do", "Settings → Portal"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if !st.FailureAlerted || !st.LastFailureAlert.Equal(at) {
		t.Errorf("state after alert = %+v", st)
	}
	alertedAt := at

	// Still failing: no new alert on each failure, and none from Tick before 6 h.
	for i := 0; i < 5; i++ {
		at = at.Add(time.Hour)
		if a := p.RunFinished(failed(&st, at, "x"), scheduler.Diff{}, &st, at); len(a) != 0 {
			t.Fatalf("failure %d while alerted raised %+v", i+3, a)
		}
	}
	if a := p.Tick(alertedAt.Add(6*time.Hour-time.Second), &st); len(a) != 0 {
		t.Fatalf("Tick before 6 h raised %+v", a)
	}
	a = p.Tick(alertedAt.Add(6*time.Hour), &st)
	if len(a) != 1 || a[0].Title != "Scrapes are still failing" || a[0].Priority != 1 {
		t.Fatalf("Tick at 6 h = %+v", a)
	}
	if !st.LastFailureAlert.Equal(alertedAt.Add(6 * time.Hour)) {
		t.Errorf("LastFailureAlert = %v", st.LastFailureAlert)
	}
	if a := p.Tick(alertedAt.Add(7*time.Hour), &st); len(a) != 0 {
		t.Fatalf("Tick right after the reminder raised %+v", a)
	}
	paused := st
	paused.Paused = true
	if a := p.Tick(alertedAt.Add(13*time.Hour), &paused); len(a) != 0 {
		t.Errorf("Tick while paused raised %+v", a)
	}

	// A canceled run neither alerts nor recovers.
	at = at.Add(time.Hour)
	if a := p.RunFinished(&scheduler.Run{Status: scheduler.StatusCanceled}, scheduler.Diff{}, &st, at); len(a) != 0 || !st.FailureAlerted {
		t.Fatalf("canceled: %+v, alerted %v", a, st.FailureAlerted)
	}

	// Recovery after an alerted failure: one normal-priority alert, state cleared.
	at = at.Add(time.Hour)
	a = p.RunFinished(succeeded(&st, at, 52), scheduler.Diff{Found: 52}, &st, at)
	if len(a) != 1 || a[0].Kind != scheduler.AlertRecovered || a[0].Priority != 0 || !strings.Contains(a[0].Message, "52 work orders") {
		t.Fatalf("recovery = %+v", a)
	}
	// The scheduler cleared FailingSince before the policy saw the success; the recovery still
	// says how long scrapes failed: from the first failure (05:00) to 13:00.
	if !strings.Contains(a[0].Message, "scrapes had failed for 8 h (since 05:00)") {
		t.Errorf("recovery message %q does not say how long scrapes failed", a[0].Message)
	}
	if st.FailureAlerted || !st.LastFailureAlert.IsZero() || !st.AlertedFailingSince.IsZero() {
		t.Errorf("state after recovery = %+v", st)
	}
	// A success without an alerted failure raises nothing; one failure after recovery neither.
	if a := p.RunFinished(succeeded(&st, at, 52), scheduler.Diff{Found: 52}, &st, at); len(a) != 0 {
		t.Errorf("plain success raised %+v", a)
	}
	if a := p.RunFinished(failed(&st, at, "x"), scheduler.Diff{}, &st, at); len(a) != 0 {
		t.Errorf("single failure after recovery raised %+v", a)
	}
	if a := p.Tick(at.Add(48*time.Hour), &st); len(a) != 0 {
		t.Errorf("Tick without an alerted failure raised %+v", a)
	}
}

func TestPolicyThresholdSetting(t *testing.T) {
	s := DefaultSettings()
	s.FailureThreshold = 1
	s.RenotifyMinutes = 0
	p := NewPolicy(s, time.UTC, nil)
	var st scheduler.State
	if a := p.RunFinished(failed(&st, t0, "x"), scheduler.Diff{}, &st, t0); len(a) != 1 {
		t.Fatalf("threshold 1: first failure raised %d alerts", len(a))
	}
	if a := p.Tick(t0.Add(30*24*time.Hour), &st); len(a) != 0 {
		t.Errorf("re-notify 0 (never) raised %+v", a)
	}
}

// Twelve missed slots at once give one alert that names them, in the schedule's zone.
func TestPolicyMissedSlotsCoalesced(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	p := NewPolicy(DefaultSettings(), ny, nil)
	first := time.Date(2026, 3, 2, 7, 30, 0, 0, ny)
	var slots []time.Time
	for i := range 12 {
		slots = append(slots, first.Add(time.Duration(i)*time.Hour).UTC())
	}
	var st scheduler.State
	run := &scheduler.Run{ID: 9, Status: scheduler.StatusMissed, MissedSlots: slots, Slot: slots[11], CatchUp: true}
	a := p.RunFinished(run, scheduler.Diff{}, &st, slots[11].Add(2*time.Hour))
	if len(a) != 1 {
		t.Fatalf("12 missed slots raised %d alerts, want 1", len(a))
	}
	m := a[0]
	if m.Kind != scheduler.AlertMissed || m.Priority != 1 || !m.Pushover || m.RunID != 9 {
		t.Errorf("missed alert = %+v", m)
	}
	for _, want := range []string{"12 slots missed", "07:30–18:30", "07:30, 08:30, 09:30", "18:30)", "America/New_York", "A catch-up scrape runs now"} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("message %q lacks %q", m.Message, want)
		}
	}
	if st.FailureAlerted {
		t.Error("missed slots changed the failure state")
	}

	// Three slots as in DESIGN.md: "3 slots missed, 07:30–09:30".
	a = p.RunFinished(&scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: slots[:3]}, scheduler.Diff{}, &st, t0)
	if len(a) != 1 || !strings.Contains(a[0].Message, "3 slots missed, Mon 2 Mar 07:30–09:30") {
		t.Errorf("3 missed = %+v", a)
	}
	// Without a catch-up the alert does not promise one.
	if m := a[0].Message; strings.Contains(m, "catch-up scrape runs now") || !strings.Contains(m, "No catch-up scrape runs") {
		t.Errorf("missed without catch-up says %q", m)
	}
}

func TestPolicyNewOrdersAndLargeDrop(t *testing.T) {
	p := NewPolicy(DefaultSettings(), time.UTC, nil)
	var st scheduler.State
	run := &scheduler.Run{Status: scheduler.StatusSucceeded, Found: 12, LargeDrop: true}
	diff := scheduler.Diff{Found: 12, New: []string{"a", "b", "c", "d", "e"}, Removed: make([]string, 40), Previous: 47,
		NewNumbers: []string{"W-100001", "W-100002", "W-100003", "W-100004", "W-100005"}}
	a := p.RunFinished(run, diff, &st, t0)
	if len(a) != 2 {
		t.Fatalf("alerts = %+v, want large drop and new orders", a)
	}
	drop, news := a[0], a[1]
	if drop.Kind != scheduler.AlertLargeDrop || !drop.Pushover || !strings.Contains(drop.Message, "47 before (40 removed)") {
		t.Errorf("large drop = %+v", drop)
	}
	// A first complete read that lacks them marks them missing: the alert says they are kept.
	missing := scheduler.Diff{Found: 12, Missing: make([]string, 35), Previous: 47}
	if a := p.RunFinished(run, missing, &st, t0); len(a) != 1 || !strings.Contains(a[0].Message, "0 removed, 35 missing: kept, and removed only if the next scrape lacks them too") {
		t.Errorf("large drop of missing orders = %+v", a)
	}
	if news.Kind != scheduler.AlertNewOrders || news.Pushover || !news.Desktop || news.Title != "5 new work orders" {
		t.Errorf("new orders (default: desktop only) = %+v", news)
	}
	if !strings.HasPrefix(news.Message, "5 new work orders: W-100001, W-100002, W-100003 and 2 more (12 open in total)") {
		t.Errorf("new orders message %q does not name the first numbers", news.Message)
	}

	s := DefaultSettings()
	s.NewOrdersPushover, s.LargeDropAlert, s.DesktopEnabled = true, false, false
	p.SetSettings(s)
	a = p.RunFinished(run, diff, &st, t0)
	if len(a) != 1 || !a[0].Pushover || a[0].Desktop {
		t.Errorf("with pushover for new orders, no drop alert, no desktop: %+v", a)
	}
}

type upperRedactor struct{}

func (upperRedactor) Redact(s string) string { return strings.ReplaceAll(s, "hunter2", "[redacted]") }

func TestPolicyScrubsSecretsFromMessages(t *testing.T) {
	s := DefaultSettings()
	s.FailureThreshold = 1
	p := NewPolicy(s, time.UTC, upperRedactor{})
	var st scheduler.State
	a := p.RunFinished(failed(&st, t0, "login with password hunter2 refused"), scheduler.Diff{}, &st, t0)
	if len(a) != 1 || strings.Contains(a[0].Message, "hunter2") || !strings.Contains(a[0].Message, "[redacted]") {
		t.Errorf("alert = %+v", a)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Settings)
		field string // "" = valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"threshold 0", func(s *Settings) { s.FailureThreshold = 0 }, "failure_threshold"},
		{"renotify 5 min", func(s *Settings) { s.RenotifyMinutes = 5 }, "renotify_minutes"},
		{"renotify never", func(s *Settings) { s.RenotifyMinutes = 0 }, ""},
		{"quiet bad from", func(s *Settings) { s.QuietEnabled, s.QuietFrom = true, "25:00" }, "quiet_from"},
		{"quiet bad to", func(s *Settings) { s.QuietEnabled, s.QuietTo = true, "7am" }, "quiet_to"},
		{"quiet equal", func(s *Settings) { s.QuietEnabled, s.QuietFrom, s.QuietTo = true, "07:00", "07:00" }, "quiet_to"},
		{"quiet bad zone", func(s *Settings) { s.QuietZone = "Mars/Base" }, "quiet_zone"},
		{"quiet off ignores times", func(s *Settings) { s.QuietFrom = "nonsense" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			ve, ok := err.(scheduler.ValidationError)
			if !ok || ve.Field(tt.field) == nil {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

func TestQuietUntil(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	night := Settings{QuietEnabled: true, QuietFrom: "22:00", QuietTo: "07:00", QuietZone: "Europe/Berlin"}
	lunch := Settings{QuietEnabled: true, QuietFrom: "12:00", QuietTo: "13:30", QuietZone: "Europe/Berlin"}
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, berlin) }
	tests := []struct {
		s    Settings
		t    time.Time
		want time.Time
	}{
		{night, at(2, 21, 59), time.Time{}},
		{night, at(2, 22, 0), at(3, 7, 0)},
		{night, at(3, 3, 0), at(3, 7, 0)},
		{night, at(3, 7, 0), time.Time{}},
		{lunch, at(2, 12, 30), at(2, 13, 30)},
		{lunch, at(2, 13, 30), time.Time{}},
		{Settings{QuietFrom: "22:00", QuietTo: "07:00"}, at(3, 3, 0), time.Time{}}, // disabled
		// Spring forward in Berlin (29 March 2026, 02:00 → 03:00): quiet hours end at 07:00 CEST.
		{night, at(29, 1, 0), at(29, 7, 0)},
	}
	for _, tt := range tests {
		if got := tt.s.QuietUntil(tt.t); !got.Equal(tt.want) {
			t.Errorf("QuietUntil(%s %s–%s, %v) = %v, want %v", tt.s.QuietZone, tt.s.QuietFrom, tt.s.QuietTo, tt.t, got, tt.want)
		}
	}
}

func TestNewOrdersAlertNamesOrdersAndSites(t *testing.T) {
	p := NewPolicy(DefaultSettings(), time.UTC, nil)
	var st scheduler.State
	diff := scheduler.Diff{Found: 52, New: []string{"1", "2", "3", "4", "5"},
		NewNumbers: []string{"W-1", "W-2", "W-3", "W-4", "W-5"}, NewSites: []string{"Store 12", "", "Lake Tamsin", "x", "y"},
		Reappeared: []string{"9"}}
	a := p.RunFinished(succeeded(&st, t0, 52), diff, &st, t0)
	if len(a) != 1 || a[0].Kind != scheduler.AlertNewOrders || a[0].Title != "5 new work orders" {
		t.Fatalf("alerts %+v", a)
	}
	want := "5 new work orders: W-1 (Store 12), W-2, W-3 (Lake Tamsin) and 2 more (52 open in total)."
	if !strings.HasPrefix(a[0].Message, want) {
		t.Errorf("message %q, want it to start %q", a[0].Message, want)
	}
	// Reappeared orders are not new: no alert for them alone.
	if a := p.RunFinished(succeeded(&st, t0, 52), scheduler.Diff{Found: 52, Reappeared: []string{"9"}}, &st, t0); len(a) != 0 {
		t.Errorf("a reappearance raised %+v", a)
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "less than a minute", 45 * time.Minute: "45 min", 3*time.Hour + 20*time.Minute: "3 h 20 min",
		10 * time.Hour: "10 h", 52 * time.Hour: "2 days 4 h", 24 * time.Hour: "1 day",
	} {
		if got := Span(d); got != want {
			t.Errorf("Span(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestFailingAlertNotBlamedOnThePortal: a configuration error (no portal set up) or a store
// that cannot be written is not said to be the portal failing, and the alert does not promise
// that worktray keeps trying; the portal's own failures still are.
func TestFailingAlertNotBlamedOnThePortal(t *testing.T) {
	for _, tc := range []struct {
		class       scheduler.ErrorClass
		msg         string
		want        []string
		portalBlame bool
	}{
		{scheduler.ClassConfig, "no portal is configured: set one in Settings → Portal",
			[]string{"could not be done", "portal settings cannot be used", "worktray portal set"}, false},
		{scheduler.ClassStorageFailed, "the orders could not be saved: no space left on device",
			[]string{"could not be done", "could not save its data", "free space"}, false},
		{scheduler.ClassPortalError, "HTTP 500", []string{"of the work-order portal failed", "keeps trying"}, true},
	} {
		t.Run(string(tc.class), func(t *testing.T) {
			s := DefaultSettings()
			s.FailureThreshold = 1
			p := NewPolicy(s, time.UTC, nil)
			var st scheduler.State
			run := failed(&st, t0, tc.msg)
			st.LastErrorClass, run.ErrorClass = tc.class, tc.class
			a := p.RunFinished(run, scheduler.Diff{}, &st, t0)
			if len(a) != 1 {
				t.Fatalf("alerts %+v, want one", a)
			}
			for _, w := range tc.want {
				if !strings.Contains(a[0].Message, w) {
					t.Errorf("message %q lacks %q", a[0].Message, w)
				}
			}
			if !tc.portalBlame {
				for _, absent := range []string{"work-order portal failed", "keeps trying", "retries by itself", string(tc.class)} {
					if strings.Contains(a[0].Message, absent) {
						t.Errorf("message %q says %q", a[0].Message, absent)
					}
				}
			}
		})
	}
}
