package owner

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// syncLog is a log buffer the pruner writes while the test reads it.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHistoryPruner: the pruner prunes to the stored retention when it starts and again at once
// when kicked after the setting changed, and stops with its context.
func TestHistoryPruner(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("store consistency: %v", err)
		}
		db.Close()
	})
	slot := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	for i := range 150 {
		run := scheduler.Run{Trigger: scheduler.TriggerScheduled, Slot: slot.Add(time.Duration(i) * time.Hour),
			Attempt: 1, Status: scheduler.StatusSucceeded}
		if _, err := db.ClaimRun(run); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveRetention(store.Retention{KeepRuns: 120}); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	p := newHistoryPruner(db, slog.New(slog.NewTextHandler(logs, nil)), time.Hour)
	count := func() int {
		runs, err := db.LatestRuns(1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}
	waitFor := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); count() != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d; log:\n%s", count(), want, logs)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(120)
	if err := db.SaveRetention(store.Retention{KeepRuns: 100}); err != nil {
		t.Fatal(err)
	}
	p.Kick()
	waitFor(100)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pruner did not stop with its context")
	}
	for _, want := range []string{`msg="history pruned" count=30 keep_runs=120`, `msg="history pruned" count=20 keep_runs=100`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
