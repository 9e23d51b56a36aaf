package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
)

// Pushover is down for 30 minutes while 5 alerts are raised, and worktray restarts in the
// middle: after Pushover comes back all 5 arrive, once each, in the order they were raised.
func TestOutageAndRestartDeliverEachAlertOnceInOrder(t *testing.T) {
	h := newHarness(t, pushoverOn())
	upAt := t0.Add(30 * time.Minute)
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		if r.At.Before(upAt) {
			return down(r)
		}
		// Up again, but without limit headers: the ambiguous reply counts as sent.
		return http.StatusOK, nil, map[string]any{"status": 1, "request": "r"}
	})
	h.start()
	for i, title := range titles(5) {
		h.runUntil(t0.Add(time.Duration(i) * 6 * time.Minute)) // 0, 6, 12, 18, 24 min
		h.raise(alert(title, 1))
		if i == 2 {
			h.restart() // restarted in the middle of the outage, over the same bbolt file
		}
	}
	if got := h.push.delivered(); len(got) != 0 {
		t.Fatalf("delivered during the outage: %v", got)
	}
	if got := len(h.desk.titles()); got != 5 {
		t.Errorf("desktop notifications during the outage = %d, want 5 (desktop does not wait for Pushover)", got)
	}
	if p := h.pending(); len(p) != 5 {
		t.Fatalf("pending during the outage = %d, want 5", len(p))
	}
	if d := storedDelivery(t, h); d.Held == nil || d.Held.Reason != scheduler.HoldOutage || d.Pending != 5 || d.Held.Until.IsZero() {
		t.Errorf("stored delivery during the outage = %+v", d)
	}
	h.runUntil(t0.Add(time.Hour))

	if got, want := h.push.delivered(), titles(5); !slices.Equal(got, want) {
		t.Fatalf("delivered = %v, want %v", got, want)
	}
	if p := h.pending(); len(p) != 0 {
		t.Fatalf("still pending after recovery: %+v", p)
	}
	// Backoff: failed attempts were spaced, never a request storm (the head alone is tried).
	var failed []time.Time
	for _, r := range h.push.requests() {
		if r.Status != http.StatusOK {
			failed = append(failed, r.At)
			if r.Title != "alert 1" {
				t.Errorf("a later alert (%s) was tried before the first was sent", r.Title)
			}
		}
	}
	if len(failed) < 3 || len(failed) > 15 {
		t.Errorf("failed attempts during 30 minutes = %d, want a handful with backoff", len(failed))
	}
	for i := 1; i < len(failed); i++ {
		if gap := failed[i].Sub(failed[i-1]); gap < 20*time.Second && !failed[i].Equal(failed[i-1]) {
			t.Errorf("attempts %d and %d only %v apart", i-1, i, gap)
		}
	}
	// The desktop notifications were not repeated by the restart.
	if got := len(h.desk.titles()); got != 5 {
		t.Errorf("desktop notifications = %d, want 5", got)
	}
}

// A 429 with limit headers stops every request until the reset, then delivery resumes.
func TestRateLimitWaitsForReset(t *testing.T) {
	h := newHarness(t, pushoverOn())
	reset := t0.Add(2 * time.Hour)
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		if r.At.Before(reset) {
			hd := http.Header{}
			hd.Set("X-Limit-App-Limit", "10000")
			hd.Set("X-Limit-App-Remaining", "0")
			hd.Set("X-Limit-App-Reset", strconv.FormatInt(reset.Unix(), 10))
			return http.StatusTooManyRequests, hd, map[string]any{"status": 0, "errors": []string{"application over quota"}}
		}
		return http.StatusOK, nil, map[string]any{"status": 1}
	})
	h.start()
	h.raise(alert("alert 1", 1), alert("alert 2", 1))
	if st := h.n.Status(); !st.RetryAt.Equal(reset) {
		t.Errorf("Status.RetryAt = %v, want the reset %v", st.RetryAt, reset)
	}
	if d := storedDelivery(t, h); d.Held == nil || d.Held.Reason != scheduler.HoldRateLimit || !d.Held.Until.Equal(reset) || d.Pending != 2 {
		t.Errorf("stored delivery at the rate limit = %+v", d)
	}
	h.runUntil(reset.Add(-time.Second))
	if got := len(h.push.requests()); got != 1 {
		t.Fatalf("requests before the reset = %d, want 1 (the one that hit the limit)", got)
	}
	h.runUntil(reset.Add(time.Minute))
	reqs := h.push.requests()
	if got, want := h.push.delivered(), titles(2); !slices.Equal(got, want) {
		t.Fatalf("delivered = %v, want %v", got, want)
	}
	if reqs[1].At.Before(reset) {
		t.Errorf("second request at %v, before the reset %v", reqs[1].At, reset)
	}
}

// A 400 "invalid user" is a clear settings error; the alert stays in the outbox and nothing is
// retried until the user key changes.
func TestInvalidUserKeyHoldsAlertUntilFixed(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		if r.User != otherUser {
			return http.StatusBadRequest, nil, map[string]any{"user": "invalid", "errors": []string{"user identifier is invalid"}, "status": 0}
		}
		return http.StatusOK, nil, map[string]any{"status": 1}
	})
	h.start()
	h.raise(alert("alert 1", 1))

	var fe *scheduler.FieldError
	if err := h.n.Status().SettingsError; !errors.As(err, &fe) || fe.Field != "pushover_user_key" {
		t.Fatalf("Status.SettingsError = %v, want a field error for pushover_user_key", err)
	}
	if msg := h.n.Status().SettingsError.Error(); !strings.Contains(msg, "rejected the user key") || strings.Contains(msg, goodUser) {
		t.Errorf("settings error %q: want plain words, no key", msg)
	}
	p := h.pending()
	if len(p) != 1 || !strings.Contains(p[0].LastError, "user key") {
		t.Fatalf("pending = %+v, want the alert kept with the reason", p)
	}
	h.runUntil(t0.Add(3 * time.Hour))
	if got := len(h.push.requests()); got != 1 {
		t.Fatalf("requests with the same wrong key = %d, want 1", got)
	}
	// The refusal is kept as state, in the store, for status, diagnose and the alerts route.
	checkNeedsUser := func(when string) {
		t.Helper()
		for src, d := range map[string]scheduler.AlertDelivery{"Delivery()": h.n.Delivery(), "the store": storedDelivery(t, h)} {
			if d.NeedsUser == nil || d.NeedsUser.Field != "pushover_user_key" || !strings.Contains(d.NeedsUser.Message, "rejected the user key") ||
				d.Pending != 1 || d.Held != nil || len(d.Problems()) != 1 || strings.Contains(fmt.Sprint(d), goodUser) {
				t.Errorf("%s: delivery from %s = %+v, want the refused user key, 1 pending, no secret", when, src, d)
			}
		}
	}
	checkNeedsUser("refused")
	// A restart with the same keys keeps the refusal without asking Pushover again.
	h.restart()
	h.runUntil(t0.Add(4 * time.Hour))
	if got := len(h.push.requests()); got != 1 {
		t.Fatalf("requests after a restart with the same wrong key = %d, want still 1", got)
	}
	checkNeedsUser("after a restart")

	h.creds.set(goodToken, otherUser) // the user fixes the key
	h.kick()
	if got := h.push.delivered(); !slices.Equal(got, []string{"alert 1"}) {
		t.Fatalf("delivered after the fix = %v", got)
	}
	if err := h.n.Status().SettingsError; err != nil {
		t.Errorf("settings error after the fix: %v", err)
	}
	if d := storedDelivery(t, h); d.NeedsUser != nil || d.Pending != 0 || len(d.Problems()) != 0 || d.LastSent.IsZero() {
		t.Errorf("stored delivery after the fix = %+v", d)
	}
}

func storedDelivery(t *testing.T, h *harness) scheduler.AlertDelivery {
	t.Helper()
	d, err := h.db.AlertDelivery()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// New keys lift a refusal even when no alert waits to prove them.
func TestRefusalLiftedByNewKeysWithNothingPending(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		return http.StatusBadRequest, nil, map[string]any{"token": "invalid", "errors": []string{"application token is invalid"}, "status": 0}
	})
	h.start()
	h.raise(alert("alert 1", 1))
	if d := storedDelivery(t, h); d.NeedsUser == nil || d.NeedsUser.Field != "pushover_token" {
		t.Fatalf("stored delivery = %+v, want the refused token", d)
	}
	for _, a := range h.pending() {
		if err := h.db.DeleteAlert(a.ID); err != nil {
			t.Fatal(err)
		}
	}
	h.creds.set(otherToken, goodUser)
	h.kick()
	if d := storedDelivery(t, h); d.NeedsUser != nil {
		t.Errorf("stored delivery after new keys = %+v, want no refusal", d)
	}
}

// Quiet hours hold Pushover alerts (not desktop ones) and send them when they end.
func TestQuietHoursHoldPushoverUntilTheyEnd(t *testing.T) {
	s := pushoverOn()
	s.QuietEnabled, s.QuietFrom, s.QuietTo, s.QuietZone = true, "22:00", "07:00", "Europe/Berlin"
	h := newHarness(t, s)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	h.fc.Advance(time.Date(2026, 3, 2, 23, 15, 0, 0, berlin).Sub(h.fc.Now()))
	h.start()
	h.raise(alert("alert 1", 1))
	if got := h.desk.titles(); len(got) != 1 {
		t.Errorf("desktop during quiet hours = %v, want shown at once", got)
	}
	end := time.Date(2026, 3, 3, 7, 0, 0, 0, berlin)
	if got := h.n.Status().HeldUntil; !got.Equal(end) {
		t.Errorf("HeldUntil = %v, want %v", got, end)
	}
	if d := storedDelivery(t, h); d.Held == nil || d.Held.Reason != scheduler.HoldQuietHours || !d.Held.Until.Equal(end) || d.Pending != 1 ||
		!strings.Contains(d.Problems()[0], "quiet hours") {
		t.Errorf("stored delivery during quiet hours = %+v", d)
	}
	h.runUntil(end.Add(-time.Second))
	if got := len(h.push.requests()); got != 0 {
		t.Fatalf("requests during quiet hours = %d", got)
	}
	h.runUntil(end.Add(time.Minute))
	reqs := h.push.requests()
	if len(reqs) != 1 || reqs[0].At.Before(end) {
		t.Fatalf("requests = %+v, want one at or after %v", reqs, end)
	}
	if d := storedDelivery(t, h); d.Held != nil || d.Pending != 0 {
		t.Errorf("stored delivery after quiet hours = %+v, want nothing held", d)
	}
}

// A failing scraper is reminded about every re-notify interval, through the policy's Tick, and
// the reminder goes out once per interval.
func TestRenotifyWhileFailing(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.policy = NewPolicy(pushoverOn(), time.UTC, nil)
	if _, err := h.db.UpdateState(func(st *scheduler.State) error {
		st.ConsecutiveFailures, st.FailingSince = 3, t0.Add(-2*time.Hour)
		st.LastError, st.LastErrorClass = "login page did not load", scheduler.ClassTimeout
		st.FailureAlerted, st.LastFailureAlert = true, t0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.runUntil(t0.Add(6*time.Hour - time.Minute))
	if got := len(h.push.requests()); got != 0 {
		t.Fatalf("reminders before 6 h = %d", got)
	}
	h.runUntil(t0.Add(6*time.Hour + time.Minute))
	if got := h.push.delivered(); !slices.Equal(got, []string{"Scrapes are still failing"}) {
		t.Fatalf("after 6 h delivered %v", got)
	}
	h.runUntil(t0.Add(12*time.Hour + time.Minute))
	if got := len(h.push.delivered()); got != 2 {
		t.Fatalf("after 12 h delivered %d reminders, want 2", got)
	}
	st, _ := h.db.State()
	if !st.LastFailureAlert.Equal(t0.Add(12 * time.Hour)) {
		t.Errorf("LastFailureAlert = %v", st.LastFailureAlert)
	}
	// Recovered: no more reminders.
	if _, err := h.db.UpdateState(func(st *scheduler.State) error {
		st.ConsecutiveFailures, st.FailingSince = 0, time.Time{}
		alerts := h.policy.RunFinished(&scheduler.Run{Status: scheduler.StatusSucceeded, Found: 4}, scheduler.Diff{}, st, h.fc.Now())
		if len(alerts) != 1 || alerts[0].Kind != scheduler.AlertRecovered {
			t.Errorf("recovery alerts = %+v", alerts)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.runUntil(t0.Add(24 * time.Hour))
	if got := len(h.push.delivered()); got != 2 {
		t.Errorf("reminders after recovery: delivered %d, want still 2", got)
	}
}

// Pushover disabled: alerts reach the desktop and leave the outbox; nothing is requested.
func TestPushoverDisabledAcksAfterDesktop(t *testing.T) {
	h := newHarness(t, DefaultSettings())
	h.start()
	h.raise(alert("alert 1", 1))
	if len(h.push.requests()) != 0 || len(h.pending()) != 0 || len(h.desk.titles()) != 1 {
		t.Fatalf("requests %d, pending %d, desktop %d; want 0, 0, 1", len(h.push.requests()), len(h.pending()), len(h.desk.titles()))
	}
}

// A desktop that fails (no notification server) is logged and does not hold the alert.
func TestDesktopFailureIsBestEffort(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.desk.err = errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
	h.start()
	h.raise(alert("alert 1", 1))
	if got := h.push.delivered(); len(got) != 1 || len(h.pending()) != 0 {
		t.Fatalf("delivered %v, pending %d", got, len(h.pending()))
	}
}

// Every send is bounded by its deadline: a Pushover that never answers is a transient failure.
func TestSendIsBoundedByDeadline(t *testing.T) {
	h := newHarness(t, pushoverOn())
	release := make(chan struct{})
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		<-release
		return http.StatusOK, nil, nil
	})
	t.Cleanup(func() { close(release) })
	h.tweak = func(c *Config) { c.SendTimeout = 200 * time.Millisecond }
	h.start()
	start := time.Now()
	h.raise(alert("alert 1", 1))
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("send took %v", el)
	}
	p := h.pending()
	if len(p) != 1 || p[0].NextTry.IsZero() || !strings.Contains(p[0].LastError, "could not reach Pushover") {
		t.Fatalf("pending = %+v, want a scheduled retry", p)
	}
}

func TestSendTest(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.start()
	msg, err := h.n.SendTest(context.Background())
	if err != nil || !strings.Contains(msg, "Test alert sent to Pushover") || !strings.Contains(msg, "9999 messages left") {
		t.Fatalf("SendTest = %q, %v", msg, err)
	}
	if got := h.push.delivered(); !slices.Equal(got, []string{"worktray test alert"}) {
		t.Errorf("delivered %v", got)
	}

	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		return http.StatusBadRequest, nil, map[string]any{"token": "invalid", "errors": []string{"application token is invalid"}, "status": 0}
	})
	_, err = h.n.SendTest(context.Background())
	var fe *scheduler.FieldError
	if !errors.As(err, &fe) || fe.Field != "pushover_token" || strings.Contains(err.Error(), goodToken) {
		t.Errorf("SendTest with a bad token = %v, want a pushover_token field error without the token", err)
	}

	h.creds.set("short", goodUser)
	if _, err = h.n.SendTest(context.Background()); !errors.As(err, &fe) || fe.Field != "pushover_token" {
		t.Errorf("SendTest with a malformed token = %v", err)
	}
	if n := len(h.push.requests()); n != 2 {
		t.Errorf("a malformed token reached the server: %d requests", n)
	}

	s := DefaultSettings()
	s.DesktopEnabled = false
	if err := h.db.PutSetting(SettingsKey, s); err != nil {
		t.Fatal(err)
	}
	if _, err := h.n.SendTest(context.Background()); err == nil || !strings.Contains(err.Error(), "Pushover is turned off") {
		t.Errorf("SendTest with nothing enabled = %v", err)
	}
}
