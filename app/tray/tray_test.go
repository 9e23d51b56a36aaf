package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/assets"
	"worktray/scheduler"
)

var (
	london = mustZone("Europe/London")
	now    = time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC) // 09:45 in London (GMT)
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }

func okRun(h, m, found int) *scheduler.Run {
	return &scheduler.Run{ID: 7, Status: scheduler.StatusSucceeded, Started: at(h, m), Finished: at(h, m).Add(5 * time.Second), Found: found}
}

// Snapshots of the states the tray distinguishes.
var (
	enabled = scheduler.Schedule{Enabled: true}
	idle    = scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(9, 30, 52)}
	running = scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), LastRun: okRun(8, 30, 52),
		Running: &scheduler.Run{ID: 8, Status: scheduler.StatusRunning, Started: at(9, 44)}}
	paused  = scheduler.Snapshot{Now: now, Schedule: enabled, Paused: true, LastRun: okRun(9, 30, 52)}
	failing = scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), ConsecutiveFailures: 1,
		LastRun: &scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: scheduler.ClassLoginFailed, Started: at(9, 30), Finished: at(9, 31)}}
	overdue = scheduler.Snapshot{Now: now, Schedule: enabled, Next: at(10, 30), OverdueSlot: at(9, 30), OverdueBy: 15 * time.Minute, LastRun: okRun(8, 30, 52)}
)

func TestMenuViewOf(t *testing.T) {
	pausedRunning := running
	pausedRunning.Paused = true
	tests := []struct {
		name string
		snap scheduler.Snapshot
		want menuView
	}{
		{"idle", idle, menuView{
			Line: "Next 10:30 · Last 09:30 ✓ 52 orders", Tooltip: "worktray: Next 10:30 · Last 09:30 ✓ 52 orders",
			Icon: assets.TrayIdle, PauseTitle: "Pause", PauseTooltip: "Pause scheduled scrapes", ScrapeEnabled: true}},
		{"running", running, menuView{
			Line: "Scraping now · Last 08:30 ✓ 52 orders", Tooltip: "worktray: Scraping now · Last 08:30 ✓ 52 orders",
			Icon: assets.TrayRunning, PauseTitle: "Pause", PauseTooltip: "Pause scheduled scrapes", ScrapeEnabled: false}},
		{"paused", paused, menuView{
			Line: "Paused · Last 09:30 ✓ 52 orders", Tooltip: "worktray: Paused · Last 09:30 ✓ 52 orders",
			Icon: assets.TrayPaused, PauseTitle: "Resume", PauseTooltip: "Resume scheduled scrapes", ScrapeEnabled: true}},
		// A run started by hand while paused: the icon shows the run, the item still resumes.
		{"paused and running", pausedRunning, menuView{
			Line: "Scraping now · Last 08:30 ✓ 52 orders", Tooltip: "worktray: Scraping now · Last 08:30 ✓ 52 orders",
			Icon: assets.TrayRunning, PauseTitle: "Resume", PauseTooltip: "Resume scheduled scrapes", ScrapeEnabled: false}},
		{"failing", failing, menuView{
			Line: "Next 10:30 · Last 09:31 ✗ the portal refused the sign-in", Tooltip: "worktray: Next 10:30 · Last 09:31 ✗ the portal refused the sign-in",
			Icon: assets.TrayFailing, PauseTitle: "Pause", PauseTooltip: "Pause scheduled scrapes", ScrapeEnabled: true}},
		{"overdue", overdue, menuView{
			Line: "Scrape due at 09:30, not started yet · Last 08:30 ✓ 52 orders", Tooltip: "worktray: Scrape due at 09:30, not started yet · Last 08:30 ✓ 52 orders",
			Icon: assets.TrayOverdue, PauseTitle: "Pause", PauseTooltip: "Pause scheduled scrapes", ScrapeEnabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := menuViewOf(view.Situation{Snapshot: tt.snap}, london); got != tt.want {
				t.Errorf("menuViewOf =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
	// Times are shown in the configured zone, not in UTC.
	if got := menuViewOf(view.Situation{Snapshot: idle}, mustZone("Asia/Kolkata")).Line; got != "Next 16:00 · Last 15:00 ✓ 52 orders" {
		t.Errorf("status line in Kolkata = %q", got)
	}
}

func TestRenderTouchesOnlyWhatChanged(t *testing.T) {
	m := &fakeMenu{}
	tr := newTestTray(t, &fakeScheduler{}, nil)
	tr.menu = m

	tr.render(view.Situation{Snapshot: idle})
	want := []string{
		"line Next 10:30 · Last 09:30 ✓ 52 orders", "tooltip worktray: Next 10:30 · Last 09:30 ✓ 52 orders",
		"icon idle", "pause Pause|Pause scheduled scrapes", "scrape enabled", "setup hidden",
	}
	if got := m.take(); !slices.Equal(got, want) {
		t.Errorf("first render: %q, want everything: %q", got, want)
	}

	tr.render(view.Situation{Snapshot: idle})
	if got := m.take(); len(got) != 0 {
		t.Errorf("rendering the same snapshot again sent %q, want nothing", got)
	}

	tr.render(view.Situation{Snapshot: paused})
	want = []string{
		"line Paused · Last 09:30 ✓ 52 orders", "tooltip worktray: Paused · Last 09:30 ✓ 52 orders",
		"icon paused", "pause Resume|Resume scheduled scrapes",
	}
	if got := m.take(); !slices.Equal(got, want) {
		t.Errorf("idle → paused: %q, want %q", got, want)
	}

	// The same line and icon, a different Paused: only the pause item changes.
	runningPaused, runningOnly := running, running
	runningPaused.Paused = true
	tr.render(view.Situation{Snapshot: runningPaused})
	m.take()
	tr.render(view.Situation{Snapshot: runningOnly})
	if got, want := m.take(), []string{"pause Pause|Pause scheduled scrapes"}; !slices.Equal(got, want) {
		t.Errorf("running paused → running: %q, want %q", got, want)
	}

	tr.render(view.Situation{Snapshot: idle})
	if got := m.take(); !slices.Contains(got, "scrape enabled") || !slices.Contains(got, "icon idle") {
		t.Errorf("running → idle: %q, want the scrape item enabled and the idle icon", got)
	}
	// A tray that starts during a run disables the scrape item (systray creates it enabled).
	m2 := &fakeMenu{}
	tr2 := newTestTray(t, &fakeScheduler{}, nil)
	tr2.menu = m2
	tr2.render(view.Situation{Snapshot: running})
	if got := m2.take(); len(got) != 6 || !slices.Contains(got, "scrape disabled") {
		t.Errorf("first render while running: %q, want all six updates with the scrape item disabled", got)
	}
}

func TestClick(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		item       menuItem
		snap       scheduler.Snapshot
		scrapeErr  error
		pauseErr   error
		showErr    error
		wantCalls  []string // scheduler calls, windows shown, quit
		wantChange bool
		wantError  string // an error record's message, or "" for none
	}{
		{name: "scrape now", item: itemScrape, snap: idle, wantCalls: []string{"ScrapeNow"}, wantChange: true},
		{name: "scrape now while running", item: itemScrape, snap: running, scrapeErr: scheduler.ErrAlreadyRunning,
			wantCalls: []string{"ScrapeNow"}, wantChange: true},
		{name: "scrape now fails", item: itemScrape, snap: idle, scrapeErr: errBoom,
			wantCalls: []string{"ScrapeNow"}, wantChange: true, wantError: "scrape from the tray"},
		{name: "pause", item: itemPause, snap: idle, wantCalls: []string{"Pause"}, wantChange: true},
		{name: "resume", item: itemPause, snap: paused, wantCalls: []string{"Resume"}, wantChange: true},
		{name: "pause fails", item: itemPause, snap: idle, pauseErr: errBoom,
			wantCalls: []string{"Pause"}, wantChange: true, wantError: "pause or resume from the tray"},
		{name: "status", item: itemStatus, snap: idle, wantCalls: []string{"show status"}},
		{name: "history", item: itemHistory, snap: idle, wantCalls: []string{"show history"}},
		{name: "work orders", item: itemOrders, snap: idle, wantCalls: []string{"show orders"}},
		{name: "settings", item: itemSettings, snap: idle, wantCalls: []string{"show settings"}},
		{name: "window fails", item: itemHistory, snap: idle, showErr: errBoom,
			wantCalls: []string{"show history"}, wantError: "opening a window"},
		{name: "quit", item: itemQuit, snap: idle, wantCalls: []string{"quit"}},
		{name: "set up your portal", item: itemSetup, snap: idle, wantCalls: []string{"show portal"}},
		{name: "left click on the icon", item: itemActivate, snap: idle, wantCalls: []string{"show status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeScheduler{snap: tt.snap, scrapeErr: tt.scrapeErr, pauseErr: tt.pauseErr}
			logs := &logRecorder{}
			tr := newTestTray(t, s, logs)
			tr.cfg.ShowWindow = func(name string) error { s.record("show " + name); return tt.showErr }
			tr.cfg.Quit = func() { s.record("quit") }

			changed := tr.click(t.Context(), tt.item)
			if got := s.takeCalls(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
			if changed != tt.wantChange {
				t.Errorf("click reported changed=%v, want %v", changed, tt.wantChange)
			}
			errs := logs.errors()
			switch {
			case tt.wantError == "" && len(errs) > 0:
				t.Errorf("logged errors %q, want none", errs)
			case tt.wantError != "" && !slices.Contains(errs, tt.wantError):
				t.Errorf("logged errors %q, want %q", errs, tt.wantError)
			}
		})
	}
}

// TestLoop drives the event loop with fake click channels: it renders at start and after
// events, and each click does what its item says.
func TestLoop(t *testing.T) {
	s := &fakeScheduler{snap: idle}
	m := &fakeMenu{}
	tr := newTestTray(t, s, nil)
	tr.cfg.ShowWindow = func(name string) error { s.record("show " + name); return nil }
	tr.cfg.Quit = func() { s.record("quit") }
	tr.menu = m
	c, send := newClicks()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tr.loop(ctx, c) }()

	m.waitFor(t, "line Next 10:30 · Last 09:30 ✓ 52 orders")
	s.waitSubscribed(t)

	// A scheduler event makes the loop read a new snapshot.
	s.set(running)
	s.publish(scheduler.Event{At: now})
	m.waitFor(t, "scrape disabled") // the last of render's calls
	if got := m.take(); !slices.Contains(got, "line Scraping now · Last 08:30 ✓ 52 orders") || !slices.Contains(got, "icon running") {
		t.Errorf("while running the menu got %q, want the scraping status line and the running icon", got)
	}
	s.set(idle)
	s.publish(scheduler.Event{At: now})
	m.waitFor(t, "scrape enabled")

	// Pause, then (the scheduler now paused) the same item resumes; the label follows.
	send(itemPause)
	m.waitFor(t, "pause Resume|Resume scheduled scrapes")
	send(itemPause)
	m.waitFor(t, "pause Pause|Pause scheduled scrapes")

	for _, it := range []menuItem{itemScrape, itemStatus, itemHistory, itemOrders, itemSettings, itemQuit} {
		send(it)
	}
	s.waitCalls(t, "Pause", "Resume", "ScrapeNow", "show status", "show history", "show orders", "show settings", "quit")

	// Quit only asks the owner to stop; the loop ends with the context.
	select {
	case err := <-done:
		t.Fatalf("the loop ended (%v) before its context did", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("loop returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not end after its context was canceled")
	}
	if _, ok := <-s.subscription().C; ok {
		t.Error("the loop left its subscription open")
	}
}

// TestLoopCoalescesQueuedEvents checks that a burst of events costs one snapshot, not one each:
// every snapshot is a D-Bus round of menu updates.
func TestLoopCoalescesQueuedEvents(t *testing.T) {
	gate := make(chan struct{})
	s := &fakeScheduler{snap: idle, gate: gate}
	tr := newTestTray(t, s, nil)
	tr.menu = &fakeMenu{}
	c, _ := newClicks()
	done := make(chan error, 1)
	go func() { done <- tr.loop(t.Context(), c) }()

	// The first snapshot waits at the gate while five events queue up.
	s.waitSubscribed(t)
	s.waitSnapshots(t, 1)
	for range 5 {
		s.publish(scheduler.Event{At: now})
	}
	close(gate)
	s.waitSnapshots(t, 2)
	time.Sleep(200 * time.Millisecond)
	if n := s.snapshots(); n != 2 {
		t.Errorf("%d snapshots for the start and a burst of 5 queued events, want 2", n)
	}

	// When the scheduler closes the subscription, the loop ends.
	s.subscription().Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("loop returned %v when its subscription closed, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not end when its subscription closed")
	}
}

func TestNextChange(t *testing.T) {
	tests := []struct {
		name string
		snap scheduler.Snapshot
		want time.Duration
		ok   bool
	}{
		{"next slot ahead", scheduler.Snapshot{Now: now, Next: now.Add(45 * time.Minute)}, 45*time.Minute + 2*time.Second, true},
		{"slot just passed", scheduler.Snapshot{Now: now, Next: now.Add(-time.Minute)}, time.Second, true},
		{"slot now", scheduler.Snapshot{Now: now, Next: now}, 2 * time.Second, true},
		{"no next slot", scheduler.Snapshot{Now: now}, 0, false},
		{"running", scheduler.Snapshot{Now: now, Next: now.Add(time.Minute), Running: &scheduler.Run{}}, 0, false},
	}
	for _, tt := range tests {
		got, ok := nextChange(tt.snap)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: nextChange = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewRequiresSchedulerWindowsAndQuit(t *testing.T) {
	ok := Config{Scheduler: &fakeScheduler{}, ShowWindow: func(string) error { return nil }, Quit: func() {}}
	if tr, err := New(ok); err != nil || tr.cfg.Location != time.Local || tr.log == nil {
		t.Fatalf("New(%+v) = %+v, %v; want a tray in time.Local with a logger", ok, tr, err)
	}
	for name, cfg := range map[string]Config{
		"no scheduler": {ShowWindow: ok.ShowWindow, Quit: ok.Quit},
		"no windows":   {Scheduler: ok.Scheduler, Quit: ok.Quit},
		"no quit":      {Scheduler: ok.Scheduler, ShowWindow: ok.ShowWindow},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New with %s succeeded", name)
		}
	}
}

// TestRunWithoutBusOpensStatusWindow checks the fallback of a desktop without a session bus: no
// tray, the status window instead, until the owner stops.
func TestRunWithoutBusOpensStatusWindow(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no bus socket in it
	s := &fakeScheduler{snap: idle}
	tr := newTestTray(t, s, nil)
	tr.cfg.ShowWindow = func(name string) error { s.record("show " + name); return nil }
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	s.waitCalls(t, "show status")
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before its context ended", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestHostPresentWithoutBus(t *testing.T) {
	start := time.Now()
	if HostPresent("unix:path=" + t.TempDir() + "/no-bus") {
		t.Error("HostPresent on a bus that does not exist = true")
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("HostPresent took %v, want at most about 2 s", d)
	}
}

// newTestTray returns a tray over s in London time whose error records go to logs (if not nil).
func newTestTray(t *testing.T, s *fakeScheduler, logs *logRecorder) *Tray {
	t.Helper()
	cfg := Config{
		Scheduler:  s,
		ShowWindow: func(string) error { return nil },
		Quit:       func() {},
		Location:   london,
	}
	if logs != nil {
		cfg.Log = slog.New(logs)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// newClicks returns click channels for the loop and a function that clicks an item. A click
// blocks until the loop takes it, as systray's ClickedCh does.
func newClicks() (clicks, func(menuItem)) {
	chans := make([]chan struct{}, itemQuit+1)
	for i := range chans {
		chans[i] = make(chan struct{})
	}
	c := clicks{setup: chans[itemSetup], scrape: chans[itemScrape], pause: chans[itemPause], status: chans[itemStatus], history: chans[itemHistory],
		orders: chans[itemOrders], settings: chans[itemSettings], quit: chans[itemQuit]}
	return c, func(it menuItem) { chans[it] <- struct{}{} }
}

// fakeScheduler is a scheduler whose snapshot the test sets. Pause and Resume change it, as the
// real one does. It is safe for concurrent use.
type fakeScheduler struct {
	mu        sync.Mutex
	snap      scheduler.Snapshot
	scrapeErr error
	pauseErr  error
	gate      chan struct{} // if not nil, the first Snapshot waits until it is closed
	calls     []string
	nSnaps    int
	bus       *scheduler.Bus
	sub       *scheduler.Subscription
}

func (f *fakeScheduler) Snapshot() scheduler.Snapshot {
	f.mu.Lock()
	f.nSnaps++
	first, gate := f.nSnaps == 1, f.gate
	f.mu.Unlock()
	if first && gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeScheduler) Subscribe(buffer int) *scheduler.Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bus == nil {
		f.bus = scheduler.NewBus()
	}
	f.sub = f.bus.Subscribe(buffer)
	return f.sub
}

func (f *fakeScheduler) ScrapeNow(context.Context) (scheduler.Run, error) {
	f.record("ScrapeNow")
	return scheduler.Run{}, f.scrapeErr
}

func (f *fakeScheduler) Pause() error {
	f.record("Pause")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pauseErr == nil {
		f.snap.Paused = true
	}
	return f.pauseErr
}

func (f *fakeScheduler) Resume() error {
	f.record("Resume")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pauseErr == nil {
		f.snap.Paused = false
	}
	return f.pauseErr
}

func (f *fakeScheduler) set(s scheduler.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
}

func (f *fakeScheduler) publish(ev scheduler.Event) {
	f.mu.Lock()
	bus := f.bus
	f.mu.Unlock()
	bus.Publish(ev)
}

func (f *fakeScheduler) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeScheduler) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeScheduler) snapshots() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nSnaps
}

func (f *fakeScheduler) subscription() *scheduler.Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sub
}

func (f *fakeScheduler) waitSubscribed(t *testing.T) {
	t.Helper()
	waitUntil(t, "the loop to subscribe", func() bool { return f.subscription() != nil })
}

func (f *fakeScheduler) waitSnapshots(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d snapshots", n), func() bool { return f.snapshots() >= n })
}

// waitCalls waits until the calls so far are want, in order.
func (f *fakeScheduler) waitCalls(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	if !poll(func() bool {
		f.mu.Lock()
		got = slices.Clone(f.calls)
		f.mu.Unlock()
		return slices.Equal(got, want)
	}) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

// fakeMenu records what the loop shows, one string per call. It is safe for concurrent use.
type fakeMenu struct {
	mu    sync.Mutex
	calls []string
}

func (m *fakeMenu) add(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, s)
}

func (m *fakeMenu) setStatusLine(line string)      { m.add("line " + line) }
func (m *fakeMenu) setTooltip(tip string)          { m.add("tooltip " + tip) }
func (m *fakeMenu) setIcon(state assets.TrayState) { m.add("icon " + string(state)) }
func (m *fakeMenu) setPause(title, tooltip string) { m.add("pause " + title + "|" + tooltip) }
func (m *fakeMenu) setSetupVisible(visible bool) {
	if visible {
		m.add("setup shown")
	} else {
		m.add("setup hidden")
	}
}
func (m *fakeMenu) setScrapeEnabled(enabled bool) {
	if enabled {
		m.add("scrape enabled")
	} else {
		m.add("scrape disabled")
	}
}

// take returns the calls since the last take.
func (m *fakeMenu) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	m.calls = nil
	return c
}

// waitFor waits until call has been made (since the last take).
func (m *fakeMenu) waitFor(t *testing.T, call string) {
	t.Helper()
	var got []string
	if !poll(func() bool {
		m.mu.Lock()
		got = slices.Clone(m.calls)
		m.mu.Unlock()
		return slices.Contains(got, call)
	}) {
		t.Fatalf("the menu never got %q; got %q", call, got)
	}
}

// logRecorder is a slog handler that keeps the messages of error records.
type logRecorder struct {
	mu   sync.Mutex
	errs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.errs = append(l.errs, r.Message)
	}
	return nil
}

func (l *logRecorder) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// poll reports whether cond holds within five seconds.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestMenuViewOfSetupAndStuck(t *testing.T) {
	setup := menuViewOf(view.Situation{Snapshot: idle, NoPortal: true}, london)
	want := menuView{Line: "Set up your portal to start scraping", Tooltip: "worktray: Set up your portal to start scraping",
		Icon: assets.TraySetup, PauseTitle: "Pause", PauseTooltip: "Pause scheduled scrapes", ScrapeEnabled: false, Setup: true}
	if setup != want {
		t.Errorf("no portal:\n  %+v\nwant\n  %+v", setup, want)
	}
	stuck := idle
	stuck.Next, stuck.Stuck = time.Time{}, "the next slot could not be claimed: disk full"
	v := menuViewOf(view.Situation{Snapshot: stuck}, london)
	if v.Icon != assets.TrayStuck || v.Line != "Scheduling stuck: the next slot could not be claimed: disk full · Last 09:30 ✓ 52 orders" || v.Setup {
		t.Errorf("stuck: %+v", v)
	}
	missedRetry := failing
	missedRetry.RetryAt = at(9, 50)
	missedRetry.LastMissed = &scheduler.Run{Status: scheduler.StatusMissed, MissedSlots: []time.Time{at(6, 30), at(7, 30), at(8, 30)}}
	if got := menuViewOf(view.Situation{Snapshot: missedRetry}, london).Line; got != "Next 10:30 · retry 09:50 · 3 slots missed (06:30–08:30) · Last 09:31 ✗ the portal refused the sign-in" {
		t.Errorf("missed slots and a retry: %q", got)
	}
}

// TestLoopSetupStateAndActivate: with no portal the tray shows the setup state and item, whose
// click opens the settings at the Portal tab; the settings event of a saved portal renders it at
// once; a left click on the icon opens the status window.
func TestLoopSetupStateAndActivate(t *testing.T) {
	s := &fakeScheduler{snap: idle}
	m := &fakeMenu{}
	tr := newTestTray(t, s, nil)
	tr.cfg.ShowWindow = func(name string) error { s.record("show " + name); return nil }
	var mu sync.Mutex
	setUp := false
	tr.cfg.PortalSetUp = func() (bool, error) { mu.Lock(); defer mu.Unlock(); return setUp, nil }
	tr.menu = m
	c, send := newClicks()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = tr.loop(ctx, c) }()

	m.waitFor(t, "setup shown")
	if got := m.take(); !slices.Contains(got, "icon setup") || !slices.Contains(got, "scrape disabled") ||
		!slices.Contains(got, "line Set up your portal to start scraping") {
		t.Errorf("no portal: %q", got)
	}
	send(itemSetup)
	s.waitCalls(t, "show portal")

	mu.Lock()
	setUp = true
	mu.Unlock()
	s.publish(scheduler.Event{Kind: scheduler.EventSettingsChanged, At: now, Message: "portal"})
	m.waitFor(t, "setup hidden")
	if got := m.take(); !slices.Contains(got, "icon idle") || !slices.Contains(got, "scrape enabled") {
		t.Errorf("after the portal was set up: %q", got)
	}

	tr.onActivate()
	s.waitCalls(t, "show portal", "show status")
}
