package screens

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
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

func statusStates() map[string]view.Situation {
	states := map[string]view.Situation{}
	states["idle"] = view.Situation{Snapshot: baseSnapshot()}

	s := baseSnapshot()
	s.Running = &scheduler.Run{ID: 42, Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning, Started: at(9, 44)}
	s.Progress = &scheduler.Progress{RunID: 42, Stage: scheduler.StageList, Page: 2, Pages: 5, Orders: 40, Percent: 45}
	states["running"] = view.Situation{Snapshot: s}

	s = baseSnapshot()
	s.OverdueSlot, s.OverdueBy = at(9, 30), 15*time.Minute
	s.LastRun = &scheduler.Run{ID: 40, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusSucceeded,
		Started: at(8, 30), Finished: at(8, 30).Add(5 * time.Second), Duration: 5 * time.Second, Found: 52}
	s.LastSuccess = s.LastRun
	states["overdue"] = view.Situation{Snapshot: s}

	s = baseSnapshot()
	s.LastMissed = &scheduler.Run{ID: 43, Status: scheduler.StatusMissed, Message: "3 slots missed, 06:30–08:30",
		MissedSlots: []time.Time{at(6, 30), at(7, 30), at(8, 30)}, Finished: at(9, 40)}
	s.LastRun.Started, s.LastRun.Finished = at(5, 30), at(5, 30).Add(4*time.Second)
	states["missed"] = view.Situation{Snapshot: s}

	s = baseSnapshot()
	s.ConsecutiveFailures, s.FailingSince = 2, at(8, 30)
	s.LastErrorClass, s.LastError = scheduler.ClassLoginFailed, "the portal rejected the username or password"
	s.LastRun = &scheduler.Run{ID: 44, Trigger: scheduler.TriggerScheduled, Status: scheduler.StatusFailed,
		ErrorClass: scheduler.ClassLoginFailed, Message: "the portal rejected the username or password",
		Started: at(9, 30), Finished: at(9, 30).Add(2 * time.Second), Duration: 2 * time.Second}
	s.RetryAt = at(9, 50)
	states["failing"] = view.Situation{Snapshot: s}

	s = baseSnapshot()
	s.Paused, s.Next, s.NextRuns = true, time.Time{}, nil
	states["paused"] = view.Situation{Snapshot: s}

	empty := scheduler.Snapshot{Now: now, Schedule: defaultSchedule(), Next: at(10, 30),
		NextRuns: []time.Time{at(10, 30), at(11, 30), at(12, 30), at(13, 30), at(14, 30)}}
	states["empty"] = view.Situation{Snapshot: empty}
	// A fresh install: no portal, nothing ran.
	states["first_run"] = view.Situation{Snapshot: empty, NoPortal: true}

	s = baseSnapshot()
	s.Next, s.NextRuns = time.Time{}, nil
	s.Stuck, s.StuckSince = "no slot of the schedule could be claimed: the store is read-only", at(9, 0)
	states["stuck"] = view.Situation{Snapshot: s}
	return states
}

func TestStatusStates(t *testing.T) {
	test.NewTempApp(t)
	for name, snap := range statusStates() {
		t.Run(name, func(t *testing.T) {
			st := NewStatus(newFake(), testOptions(), nil)
			st.SetOwner(&Owner{PID: 4242, Started: now.Add(-3 * time.Second)})
			st.Update(snap)
			w := test.NewWindow(st.Content())
			defer w.Close()
			w.Resize(fyne.NewSize(660, 460))
			test.AssertImageMatches(t, "status_"+name+".png", w.Canvas().Capture())
		})
	}
}

func TestStatusActions(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	st := NewStatus(f, testOptions(), nil)
	st.Update(view.Situation{Snapshot: baseSnapshot()})
	test.Tap(st.scrape)
	test.Tap(st.pause)
	snap := baseSnapshot()
	snap.Paused = true
	st.Update(view.Situation{Snapshot: snap})
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
	st.Update(view.Situation{Snapshot: baseSnapshot()})
	test.Tap(st.scrape)
	if st.message.Text != "A scrape is already running." || st.message.Hidden {
		t.Errorf("message after a refused scrape = %q (hidden %v)", st.message.Text, st.message.Hidden)
	}
}

// TestStatusFirstRun: with no portal the window says so once, its button opens the settings at
// the Portal tab, and Scrape now is off; the window buttons open the other windows.
func TestStatusFirstRun(t *testing.T) {
	test.NewTempApp(t)
	var opened []string
	st := NewStatus(newFake(), testOptions(), func(name string) { opened = append(opened, name) })
	st.Update(statusStates()["first_run"])
	if st.setup.Hidden || !st.scrape.Disabled() {
		t.Errorf("first run: setup button hidden %v, Scrape now disabled %v", st.setup.Hidden, st.scrape.Disabled())
	}
	if st.next.Text != "Nothing runs until a portal is set up" {
		t.Errorf("next run line %q", st.next.Text)
	}
	test.Tap(st.setup)
	for _, o := range st.windows.Objects {
		test.Tap(o.(*widget.Button))
	}
	if want := []string{"portal", "history", "orders", "settings"}; !slices.Equal(opened, want) {
		t.Errorf("opened %q, want %q", opened, want)
	}
	st.Update(statusStates()["idle"])
	if !st.setup.Hidden || st.scrape.Disabled() {
		t.Error("with a portal set up the setup button stays or Scrape now is off")
	}
}

// TestStatusSaysEachThingOnce: a failing run's message shows once (in the banner), not again in
// the last run's details; its class shows as words.
func TestStatusSaysEachThingOnce(t *testing.T) {
	test.NewTempApp(t)
	st := NewStatus(newFake(), testOptions(), nil)
	st.Update(statusStates()["failing"])
	all := st.banner.title.Text + "\n" + st.banner.body.Text + "\n" + st.last.Text + "\n" + st.lastDetail.Text
	if n := strings.Count(all, "rejected the username or password"); n != 1 {
		t.Errorf("the error message shows %d times:\n%s", n, all)
	}
	if strings.Contains(all, "login_failed") || strings.Contains(all, "login failed") {
		t.Errorf("the error class shows as a code:\n%s", all)
	}
	st.SetOwner(&Owner{PID: 7, Started: now.Add(-3 * time.Second)})
	st.Update(statusStates()["idle"])
	if !strings.Contains(st.owner.Text, "up 3 s") {
		t.Errorf("owner line %q, want an exact uptime", st.owner.Text)
	}
}
