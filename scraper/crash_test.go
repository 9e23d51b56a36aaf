package scraper

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// TestBrowserFailureEndsTheRun kills, in the middle of a scrape of a slow demo portal, either
// the browser's main process or its page (renderer) processes. The run must end as
// browser_failed, not wait for the profile's time limits (set far beyond the test's patience)
// as if the portal were slow, and leave no process or directory behind.
func TestBrowserFailureEndsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kill  func(main int) []int // the processes to kill, given the browser's main process
		inMsg string
	}{
		{"browser killed", func(main int) []int { return []int{main} }, "the browser exited unexpectedly (signal: killed)"},
		{"renderer killed", func(main int) []int {
			var out []int
			for _, pid := range groupMembers(main, exePath(main)) {
				if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); bytes.Contains(b, []byte("--type=renderer")) {
					out = append(out, pid)
				}
			}
			return out
		}, "a page of the browser crashed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := shortTempDir(t)
			t.Setenv("TMPDIR", tmp)
			p, base := startPortal(t, demoportal.Options{Seed: 2, Count: 200, Faults: demoportal.Faults{Latency: 150 * time.Millisecond}})
			s, _ := newScraper(t, p, base, func(prof *Profile, _ *Config) {
				prof.Timeouts.Page.Duration = 10 * time.Minute
				prof.Timeouts.Detail.Duration = 10 * time.Minute
			})
			done := make(chan error, 1)
			go func() {
				_, err := s.Scrape(testCtx(t, 20*time.Minute), scheduler.ScrapeRequest{RunID: 3})
				done <- err
			}()
			// Mid-scrape: the list is being read.
			deadline := time.Now().Add(60 * time.Second)
			for p.Stats().ListAPICalls == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the scrape did not reach the list within 60s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			main := 0
			for _, pid := range processesWith([]byte("--user-data-dir=" + tmp + "/" + profileDirPrefix)) {
				if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); !bytes.Contains(b, []byte("--type=")) {
					main = pid
				}
			}
			if main == 0 {
				t.Fatal("no browser found")
			}
			victims := tc.kill(main)
			if len(victims) == 0 {
				t.Fatal("nothing to kill")
			}
			for _, pid := range victims {
				killPID(pid)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(90 * time.Second):
				t.Fatal("the scrape did not end 90s after its browser failed; it waits as for a slow portal")
			}
			if cls := runClass(t, err); cls != scheduler.ClassBrowserFailed {
				t.Fatalf("class %s, want %s (%v)", cls, scheduler.ClassBrowserFailed, err)
			}
			var fe *FailureError
			if errors.As(err, &fe) && len(fe.Artifacts) != 0 {
				t.Errorf("artifacts %v of a page whose browser or renderer is gone", fe.Artifacts)
			}
			if !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.inMsg)
			}
			if left := processesWith([]byte(tmp + "/")); len(left) > 0 || alive(main) {
				t.Errorf("browser processes left: %v (main %d alive: %v)", left, main, alive(main))
			}
			ents, _ := os.ReadDir(tmp)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), profileDirPrefix) || strings.HasPrefix(e.Name(), "org.chromium.") {
					t.Errorf("left in TMPDIR: %s", e.Name())
				}
			}
			t.Logf("%v", err)
		})
	}
}
