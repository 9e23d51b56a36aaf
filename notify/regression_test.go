package notify

import (
	"net/http"
	"testing"
	"time"

	"worktray/scheduler"
)

// A failure alert is active and the reminder is overdue, but the threshold was raised above the
// current failure count: Tick raises nothing, nextReminder is in the past, and the loop spins.
func TestRaisedThresholdDoesNotSpin(t *testing.T) {
	s := pushoverOn()
	s.FailureThreshold = 5
	h := newHarness(t, s)
	h.policy = NewPolicy(s, time.UTC, nil)
	if _, err := h.db.UpdateState(func(st *scheduler.State) error {
		st.ConsecutiveFailures, st.FailingSince = 3, t0.Add(-8*time.Hour)
		st.FailureAlerted, st.LastFailureAlert = true, t0.Add(-7*time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.start()
	// The fake clock does not move; count passes over 200 ms of real time.
	passes := 0
	deadline := time.After(200 * time.Millisecond)
loop:
	for {
		select {
		case w := <-h.idle:
			passes++
			if passes == 1 {
				t.Logf("wake = %v, now = %v", w, h.fc.Now())
			}
		case <-deadline:
			break loop
		}
	}
	if passes > 2 {
		t.Fatalf("%d notifier passes in 200 ms with the clock standing still: busy loop", passes)
	}
}

// An acknowledgement that fails (store write error) makes the next pass send the same alert to
// Pushover again, every pass.
type failingAck struct {
	Outbox
}

func (failingAck) AckAlert(id uint64, at time.Time) error { return http.ErrHandlerTimeout }

func TestFailedAckDoesNotResend(t *testing.T) {
	h := newHarness(t, pushoverOn())
	h.tweak = func(c *Config) { c.Outbox = failingAck{Outbox: h.db} }
	h.start()
	h.raise(alert("disk full", 1))
	h.kick()
	h.kick()
	if got := h.push.delivered(); len(got) > 1 {
		t.Fatalf("Pushover got the same alert %d times: %v", len(got), got)
	}
}
