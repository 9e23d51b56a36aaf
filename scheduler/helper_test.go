package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
	"worktray/store"
)

// helperCommand re-executes the test binary as a worktray-like process in the given mode.
func helperCommand(t *testing.T, mode, dbPath string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WORKTRAY_TEST_HELPER="+mode, "WORKTRAY_TEST_DB="+dbPath)
	cmd.Stderr = os.Stderr
	return cmd
}

// blockingScraper announces its start on stdout and never finishes.
type blockingScraper struct{}

func (blockingScraper) Scrape(ctx context.Context, _ scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	fmt.Println("started")
	select {}
}

// helperProcess is the body of a helper process; it returns the exit code.
func helperProcess() int {
	switch os.Getenv("WORKTRAY_TEST_HELPER") {
	case "slot-crash":
		// Start at the 10:30 slot with a scrape that never ends; the test kills this process.
		db, err := store.Open(os.Getenv("WORKTRAY_TEST_DB"), store.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		svc, err := scheduler.New(scheduler.Config{Store: db, Scraper: blockingScraper{},
			Clock: clockwork.NewFakeClockAt(mustTime("2026-06-01T10:30:00Z"))})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_ = svc.Run(context.Background())
		return 0
	}
	return 2
}
