package cli

import (
	"strings"
	"testing"
	"time"

	"worktray/control"
	"worktray/scheduler"
)

// editedSnapshots is the real scheduler with its snapshots changed by edit: a full disk and a
// schedule that cannot be armed are states this machine cannot produce on demand.
type editedSnapshots struct {
	*scheduler.Service
	edit func(*scheduler.Snapshot)
}

func (s editedSnapshots) Snapshot() scheduler.Snapshot {
	snap := s.Service.Snapshot()
	s.edit(&snap)
	return snap
}

// TestDiagnoseFailsWhenStuckOrStorageFailed: with a real control server whose scheduler reports
// it cannot arm its next slot, or cannot write the store, `diagnose` fails (exit 6) and says why
// in words; with neither, those checks are absent and it passes them.
func TestDiagnoseFailsWhenStuckOrStorageFailed(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*scheduler.Snapshot)
		want []string
	}{
		{"stuck", func(s *scheduler.Snapshot) {
			s.Stuck, s.StuckSince = "no slot in the next 366 days matches the schedule", time.Now().Add(-time.Hour)
		}, []string{"✗ scheduler", "cannot arm its next run: no slot in the next 366 days matches the schedule"}},
		{"storage failed", func(s *scheduler.Snapshot) {
			s.StorageError, s.Unrecorded = "write worktray.db: no space left on device", 2
		}, []string{"✗ store writes", "the store cannot be written: write worktray.db: no space left on device; 2 runs could not be recorded",
			"free space on the disk"}},
		{"last run storage failed", func(s *scheduler.Snapshot) {
			s.ConsecutiveFailures, s.LastErrorClass = 1, scheduler.ClassStorageFailed
			s.LastError = "the scrape read 150 work orders but they could not be saved: no space left on device"
		}, []string{"✗ store writes", "the store cannot be written: the scrape read 150 work orders but they could not be saved",
			"free space on the disk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startInProcessOwnerWrapped(t, control.Hooks{}, func(svc *scheduler.Service) control.Scheduler {
				return editedSnapshots{svc, tc.edit}
			})
			r := runMain(ctxT(t, 30*time.Second), o.dir, "diagnose")
			expect(t, r, ExitUnhealthy, tc.want...)
			if strings.Contains(r.stdout+r.stderr, string(scheduler.ClassStorageFailed)) {
				t.Errorf("diagnose shows the internal code %q:\n%v", scheduler.ClassStorageFailed, r)
			}
		})
	}
	o := startInProcessOwner(t)
	r := runMain(ctxT(t, 30*time.Second), o.dir, "diagnose")
	for _, absent := range []string{"✗ scheduler", "✗ store writes"} {
		if strings.Contains(r.stdout, absent) {
			t.Errorf("a healthy scheduler's diagnosis has %q:\n%v", absent, r)
		}
	}
}
