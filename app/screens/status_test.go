package screens

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"worktray/scheduler"
)

func baseSnapshot() scheduler.Snapshot {
	sched := defaultSchedule()
	last := &scheduler.Run{ID: 41, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusSucceeded,
		Started: at(9, 30), Finished: at(9, 30).Add(4200 * time.Millisecond), Duration: 4200 * time.Millisecond,
		Found: 52, New: 3, Changed: 1}
	return scheduler.Snapshot{Now: now, Schedule: sched, Next: at(10, 30),
		NextRuns: []time.Time{at(10, 30), at(11, 30), at(12, 30), at(13, 30), at(14, 30)},
		LastRun:  last, LastSuccess: last, Orders: 52}
}

func statusStates() map[string]scheduler.Snapshot {
	states := map[string]scheduler.Snapshot{}
	states["idle"] = baseSnapshot()

	s := baseSnapshot()
	s.Running = &scheduler.Run{ID: 42, Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Started: at(9, 44)}
	s.Progress = &scheduler.Progress{RunID: 42, Stage: scheduler.StageList, Page: 2, Pages: 5, Orders: 40, Percent: 45}
	states["running"] = s

	s = baseSnapshot()
	s.OverdueSlot, s.OverdueBy = at(9, 30), 15*time.Minute
	s.LastRun = &scheduler.Run{ID: 40, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusSucceeded,
		Started: at(8, 30), Finished: at(8, 30).Add(5 * time.Second), Duration: 5 * time.Second, Found: 52}
	s.LastSuccess = s.LastRun
	states["overdue"] = s

	s = baseSnapshot()
	s.LastMissed = &scheduler.Run{ID: 43, Status: scheduler.StatusMissed, Message: "3 slots missed, 06:30–08:30",
		MissedSlots: []time.Time{at(6, 30), at(7, 30), at(8, 30)}, Finished: at(9, 40)}
	s.LastRun.Started, s.LastRun.Finished = at(5, 30), at(5, 30).Add(4*time.Second)
	states["missed"] = s

	s = baseSnapshot()
	s.ConsecutiveFailures, s.FailingSince = 2, at(8, 30)
	s.LastErrorClass, s.LastError = scheduler.ClassLoginFailed, "the portal rejected the username or password"
	s.LastRun = &scheduler.Run{ID: 44, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusFailed,
		ErrorClass: scheduler.ClassLoginFailed, Message: "the portal rejected the username or password",
		Started: at(9, 30), Finished: at(9, 30).Add(2 * time.Second), Duration: 2 * time.Second}
	s.RetryAt = at(9, 50)
	states["failing"] = s

	s = baseSnapshot()
	s.Paused, s.Next, s.NextRuns = true, time.Time{}, nil
	states["paused"] = s

	states["empty"] = scheduler.Snapshot{Now: now, Schedule: defaultSchedule(), Next: at(10, 30),
		NextRuns: []time.Time{at(10, 30), at(11, 30), at(12, 30), at(13, 30), at(14, 30)}}
	return states
}

func TestStatusStates(t *testing.T) {
	test.NewTempApp(t)
	for name, snap := range statusStates() {
		t.Run(name, func(t *testing.T) {
			st := NewStatus(newFake(), testOptions())
			st.Update(snap)
			w := test.NewWindow(st.Content())
			defer w.Close()
			w.Resize(fyne.NewSize(620, 440))
			test.AssertImageMatches(t, "status_"+name+".png", w.Canvas().Capture())
		})
	}
}

func TestStatusActions(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	st := NewStatus(f, testOptions())
	st.Update(baseSnapshot())
	test.Tap(st.scrape)
	test.Tap(st.pause)
	snap := baseSnapshot()
	snap.Paused = true
	st.Update(snap)
	test.Tap(st.pause)
	running := statusStates()["running"]
	st.Update(running)
	if !st.scrape.Disabled() {
		t.Error("Scrape now is enabled while a scrape runs")
	}
	test.Tap(st.cancel)
	if got, want := f.Calls(), []string{"scrape", "pause", "resume", "cancel"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	f.err = scheduler.ErrAlreadyRunning
	st.Update(baseSnapshot())
	test.Tap(st.scrape)
	if st.message.Text != "A scrape is already running." || st.message.Hidden {
		t.Errorf("message after a refused scrape = %q (hidden %v)", st.message.Text, st.message.Hidden)
	}
}
