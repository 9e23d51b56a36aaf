package owner

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"worktray/scraper"
)

// TestMain fails the package when a test leaves a goroutine behind: Run must stop everything it
// started, on every path.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := scraper.FindBrowser(""); err != nil {
		t.Skipf("no Chromium: %v (make test installs it)", err)
	}
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
