package cli

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"worktray/scheduler"
)

// The history fits the terminal's width: the detail column is cut, never the others; output
// that is not a terminal (no $COLUMNS) keeps every character, without colour.
func TestHistoryFitsTheTerminal(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	long := strings.Repeat("the portal answered with an error page ", 5)
	runs := []scheduler.Run{
		{ID: 12, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusFailed, Started: now.Add(-time.Hour),
			ErrorClass: scheduler.ClassPortalError, Message: long, Duration: 3 * time.Second,
			Artifacts: []string{"run-12.png", "run-12.html"}},
		{ID: 11, Trigger: scheduler.TriggerManual, Status: scheduler.StatusSucceeded, Started: now.Add(-2 * time.Hour), Found: 52, New: 3},
	}
	for _, cols := range []int{72, 80, 120} {
		t.Setenv("COLUMNS", strconv.Itoa(cols))
		var b bytes.Buffer
		if err := printHistory(&b, runs, now); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\n")
		for _, l := range lines[:3] {
			if n := utf8.RuneCountInString(l); n > cols {
				t.Errorf("COLUMNS=%d: a line of %d characters:\n%s", cols, n, l)
			}
		}
		if !strings.Contains(b.String(), "run 12: run-12.png, run-12.html") {
			t.Errorf("the failed run's files are not named:\n%s", b.String())
		}
		if strings.Contains(b.String(), "portal_error") || strings.Contains(b.String(), "\033[") {
			t.Errorf("internal code or colour in the output:\n%s", b.String())
		}
	}
	t.Setenv("COLUMNS", "")
	var b bytes.Buffer
	if err := printHistory(&b, runs, now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), strings.TrimSpace(long)) {
		t.Errorf("not a terminal, yet the detail was cut:\n%s", b.String())
	}
}
