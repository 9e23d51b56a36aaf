// Package tray is worktray's tray icon. It runs in the owner process and uses fyne.io/systray
// directly (a StatusNotifierItem with a dbusmenu on the session bus), not Fyne's app and driver:
// a Fyne app idles at about 1.3 % of a core and 96 MB (its GLFW driver polls at 60 Hz,
// https://github.com/fyne-io/fyne/issues/2506) while systray alone idles at no CPU at all.
//
// The tray owns no state (the tailscale client/systray model): one event loop receives menu
// clicks and scheduler events, reads a fresh snapshot and updates the icon, the tooltip and the
// menu from it. Nothing ticks while nothing happens: the loop arms one timer, for the next
// instant at which the snapshot changes by itself (the next slot).
package tray

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"worktray/app/view"
	"worktray/assets"
	"worktray/notify"
	"worktray/scheduler"
)

// Scheduler is what the tray needs from the scheduler service. *scheduler.Service implements it.
type Scheduler interface {
	Snapshot() scheduler.Snapshot
	Subscribe(buffer int) *scheduler.Subscription
	ScrapeNow(ctx context.Context) (scheduler.Run, error)
	Pause() error
	Resume() error
}

// Window names, as `worktray ui NAME` takes them.
const (
	WindowStatus   = "status"
	WindowHistory  = "history"
	WindowOrders   = "orders"
	WindowSettings = "settings"
	// WindowPortal is the settings window at its Portal tab ("Set up your portal…").
	WindowPortal = "portal"
)

// Config configures the tray.
type Config struct {
	Scheduler Scheduler
	// ShowWindow starts the windows process or brings its window forward. It must not block for
	// long; the tray calls it from its event loop.
	ShowWindow func(name string) error
	// Quit is called when the user chooses Quit; it should cancel the owner's context.
	Quit func()
	Log  *slog.Logger
	// Location is the zone times are shown in (default time.Local).
	Location *time.Location
	// PortalSetUp reports whether a portal is set up (a portal URL is saved); nil means it is.
	// While it is not, the tray shows its "Set up your portal…" state and item. The tray calls
	// it on its event loop at every refresh (every scheduler event, scheduler.
	// EventSettingsChanged included), so it must be quick (a store read); an error is logged
	// and counts as set up.
	PortalSetUp func() (bool, error)
	// BusAddress is the session bus; empty means $DBUS_SESSION_BUS_ADDRESS or
	// $XDG_RUNTIME_DIR/bus. With no bus there is no tray and the status window opens instead.
	BusAddress string
}

// ErrNoSessionBus means there is no D-Bus session bus to put a tray icon on.
var ErrNoSessionBus = errors.New("no D-Bus session bus")

// Tray is the tray icon and its menu.
type Tray struct {
	cfg Config
	log *slog.Logger

	// menu is the icon and menu the loop updates (the systray one, or a test's fake).
	menu menu
	// shown is what the menu shows now, to skip D-Bus updates that change nothing; it is
	// meaningless until rendered is true.
	shown    menuView
	rendered bool
	// activate carries left clicks on the icon (SNI Activate) to the loop.
	activate chan struct{}
}

// menuView is what the tray shows for one snapshot: everything of the icon and the menu that
// depends on the scheduler's state.
type menuView struct {
	Line    string           // the status line, the menu's first (disabled) item
	Tooltip string           // the icon's tooltip
	Icon    assets.TrayState // which icon
	// PauseTitle and PauseTooltip label the item that pauses or resumes scheduled scrapes.
	PauseTitle, PauseTooltip string
	// ScrapeEnabled is false while a run goes ("Scrape now" would only answer "already
	// running") and while no portal is set up (there is nothing to scrape).
	ScrapeEnabled bool
	// Setup shows the "Set up your portal…" item: no portal is set up.
	Setup bool
}

// menuViewOf returns what the tray shows for s, with times in loc. It is pure.
func menuViewOf(s view.Situation, loc *time.Location) menuView {
	v := menuView{
		Line:          view.StatusLine(s, loc),
		Tooltip:       view.Tooltip(s, loc),
		Icon:          view.State(s),
		PauseTitle:    "Pause",
		PauseTooltip:  "Pause scheduled scrapes",
		ScrapeEnabled: s.Running == nil && !s.NoPortal,
		Setup:         s.NoPortal,
	}
	if s.Paused {
		v.PauseTitle, v.PauseTooltip = "Resume", "Resume scheduled scrapes"
	}
	return v
}

// menu is the tray's icon and menu as the event loop changes them. systrayMenu is the real one;
// its methods send D-Bus signals, so the loop calls them only for what changed.
type menu interface {
	setStatusLine(line string)
	setTooltip(tip string)
	setIcon(state assets.TrayState)
	setPause(title, tooltip string)
	setScrapeEnabled(enabled bool)
	setSetupVisible(visible bool)
}

// menuItem names a clickable item of the tray menu.
type menuItem int

const (
	itemSetup menuItem = iota
	itemScrape
	itemPause
	itemStatus
	itemHistory
	itemOrders
	itemSettings
	itemQuit
	// itemActivate is a left click on the icon itself (SNI Activate): it opens the status window.
	itemActivate
)

// clicks are the click channels of the menu items, one per item; the loop receives from them.
type clicks struct {
	setup, scrape, pause, status, history, orders, settings, quit <-chan struct{}
}

// New returns a tray; Run shows it.
func New(cfg Config) (*Tray, error) {
	if cfg.Scheduler == nil || cfg.ShowWindow == nil || cfg.Quit == nil {
		return nil, errors.New("tray: Scheduler, ShowWindow and Quit are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	return &Tray{cfg: cfg, log: cfg.Log, activate: make(chan struct{}, 1)}, nil
}

// onActivate is systray's callback for a left click on the icon; it runs on the D-Bus
// goroutine, so it only hands the click to the loop.
func (t *Tray) onActivate() {
	select {
	case t.activate <- struct{}{}:
	default: // a click is already waiting
	}
}

// systrayOnce guards fyne.io/systray's process-global state: one tray per process.
var systrayOnce sync.Once

// Run shows the tray icon and handles its menu until ctx is done. It blocks. With no session
// bus, or no tray host (org.kde.StatusNotifierWatcher) on it, it opens the status window
// instead and keeps the icon registered in case a host appears later. Run may be called once
// per process.
func (t *Tray) Run(ctx context.Context) error {
	addr := t.cfg.BusAddress
	if addr == "" {
		addr = notify.SessionBusAddress()
	}
	if addr == "" {
		t.log.Warn("no D-Bus session bus: no tray icon; opening the status window")
		t.show(WindowStatus)
		<-ctx.Done()
		return nil
	}
	// systray connects with dbus.SessionBus, which reads this variable (and would auto-launch
	// a bus without it).
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	}
	first := false
	systrayOnce.Do(func() { first = true })
	if !first {
		return errors.New("tray: Run called twice in one process")
	}

	ready := make(chan struct{})
	var c clicks
	// A left click on the icon opens the status window (SNI Activate); a right click still
	// shows the menu. Set before the item registers: it makes ItemIsMenu false.
	systray.SetOnTapped(t.onActivate)
	start, end := systray.RunWithExternalLoop(func() {
		t.menu, c = t.build()
		close(ready)
	}, nil)
	start()
	defer func() {
		// systray's end closes its bus connection, which is nil when connecting failed.
		defer func() { _ = recover() }()
		end()
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	if !HostPresent(addr) {
		t.log.Info("no tray host on the desktop (org.kde.StatusNotifierWatcher); opening the status window")
		t.show(WindowStatus)
	}
	return t.loop(ctx, c)
}

// build creates the menu and returns it with its click channels. It runs once, in systray's
// onReady, before the loop starts.
func (t *Tray) build() (*systrayMenu, clicks) {
	systray.SetIcon(assets.Tray(assets.TrayIdle))
	systray.SetTitle("worktray")
	m := &systrayMenu{status: systray.AddMenuItem("worktray", "")}
	m.status.Disable()
	m.setup = systray.AddMenuItem("Set up your portal…", "Enter the portal's address and your sign-in")
	m.setup.Hide()
	systray.AddSeparator()
	m.scrape = systray.AddMenuItem("Scrape now", "Scrape the portal now")
	m.pause = systray.AddMenuItem("Pause", "Pause scheduled scrapes")
	systray.AddSeparator()
	showStatus := systray.AddMenuItem("Status…", "Open the status window")
	history := systray.AddMenuItem("History…", "Open the run history")
	orders := systray.AddMenuItem("Work orders…", "Open the work orders")
	settings := systray.AddMenuItem("Settings…", "Open the settings")
	systray.AddSeparator()
	quit := systray.AddMenuItem("Quit", "Stop worktray (no more scheduled scrapes)")
	return m, clicks{
		setup:    m.setup.ClickedCh,
		scrape:   m.scrape.ClickedCh,
		pause:    m.pause.ClickedCh,
		status:   showStatus.ClickedCh,
		history:  history.ClickedCh,
		orders:   orders.ClickedCh,
		settings: settings.ClickedCh,
		quit:     quit.ClickedCh,
	}
}

// systrayMenu is the menu on fyne.io/systray.
type systrayMenu struct {
	status, setup, scrape, pause *systray.MenuItem
}

func (m *systrayMenu) setSetupVisible(visible bool) {
	if visible {
		m.setup.Show()
	} else {
		m.setup.Hide()
	}
}

func (m *systrayMenu) setStatusLine(line string)      { m.status.SetTitle(line) }
func (m *systrayMenu) setTooltip(tip string)          { systray.SetTooltip(tip) }
func (m *systrayMenu) setIcon(state assets.TrayState) { systray.SetIcon(assets.Tray(state)) }

func (m *systrayMenu) setPause(title, tooltip string) {
	m.pause.SetTitle(title)
	m.pause.SetTooltip(tooltip)
}

func (m *systrayMenu) setScrapeEnabled(enabled bool) {
	if enabled {
		m.scrape.Enable()
	} else {
		m.scrape.Disable()
	}
}

// loop is the tray's one event loop: it renders a fresh snapshot at start, after scheduler
// events, after clicks that change the scheduler and when the snapshot changes by itself, and
// does what each click asks. It blocks until ctx is done or the subscription ends.
func (t *Tray) loop(ctx context.Context, c clicks) error {
	sub := t.cfg.Scheduler.Subscribe(64)
	defer sub.Close()
	var (
		wake  *time.Timer
		wakeC <-chan time.Time
	)
	refresh := func() {
		snap := t.situation()
		t.render(snap)
		if wake != nil {
			wake.Stop()
		}
		wakeC = nil
		if d, ok := nextChange(snap.Snapshot); ok {
			wake = time.NewTimer(d)
			wakeC = wake.C
		}
	}
	click := func(it menuItem) {
		if t.click(ctx, it) {
			refresh()
		}
	}
	refresh()
	for {
		select {
		case <-ctx.Done():
			if wake != nil {
				wake.Stop()
			}
			return nil
		case _, ok := <-sub.C:
			if !ok {
				return nil
			}
			// Take every event already queued before reading one snapshot for all of them.
			for drained := false; !drained; {
				select {
				case _, ok := <-sub.C:
					if !ok {
						return nil
					}
				default:
					drained = true
				}
			}
			refresh()
		case <-wakeC:
			refresh()
		case <-t.activate:
			click(itemActivate)
		case <-c.setup:
			click(itemSetup)
		case <-c.scrape:
			click(itemScrape)
		case <-c.pause:
			click(itemPause)
		case <-c.status:
			click(itemStatus)
		case <-c.history:
			click(itemHistory)
		case <-c.orders:
			click(itemOrders)
		case <-c.settings:
			click(itemSettings)
		case <-c.quit:
			click(itemQuit)
		}
	}
}

// click does what a click on it asks and reports whether the scheduler's state may have changed
// (the loop then renders a fresh snapshot). Scrape now blocks until the run has started.
func (t *Tray) click(ctx context.Context, it menuItem) (changed bool) {
	switch it {
	case itemScrape:
		if _, err := t.cfg.Scheduler.ScrapeNow(ctx); err != nil && !errors.Is(err, scheduler.ErrAlreadyRunning) {
			t.log.Error("scrape from the tray", "err", err)
		}
		return true
	case itemPause:
		// The item pauses or resumes according to the state now, not to its label, which may
		// lag behind by an event.
		var err error
		if t.cfg.Scheduler.Snapshot().Paused {
			err = t.cfg.Scheduler.Resume()
		} else {
			err = t.cfg.Scheduler.Pause()
		}
		if err != nil {
			t.log.Error("pause or resume from the tray", "err", err)
		}
		return true
	case itemStatus, itemActivate:
		t.show(WindowStatus)
	case itemSetup:
		t.show(WindowPortal)
	case itemHistory:
		t.show(WindowHistory)
	case itemOrders:
		t.show(WindowOrders)
	case itemSettings:
		t.show(WindowSettings)
	case itemQuit:
		t.log.Info("quit from the tray")
		t.cfg.Quit()
	}
	return false
}

// nextChange returns how long until the snapshot changes with no event: just after the next
// slot (the status line then names the following one or says overdue) or the pending retry,
// whichever comes first.
func nextChange(s scheduler.Snapshot) (time.Duration, bool) {
	if s.Running != nil {
		return 0, false
	}
	at := s.Next
	if !s.RetryAt.IsZero() && (at.IsZero() || s.RetryAt.Before(at)) {
		at = s.RetryAt
	}
	if at.IsZero() {
		return 0, false
	}
	return max(at.Sub(s.Now)+2*time.Second, time.Second), true
}

// situation reads a fresh snapshot and whether a portal is set up.
func (t *Tray) situation() view.Situation {
	sit := view.Situation{Snapshot: t.cfg.Scheduler.Snapshot()}
	if t.cfg.PortalSetUp != nil {
		ok, err := t.cfg.PortalSetUp()
		if err != nil {
			t.log.Error("reading whether a portal is set up", "err", err)
		}
		sit.NoPortal = err == nil && !ok
	}
	return sit
}

// render shows a snapshot, touching only what changed since the last render.
func (t *Tray) render(s view.Situation) {
	v := menuViewOf(s, t.cfg.Location)
	old, all := t.shown, !t.rendered
	if all || v.Line != old.Line {
		t.menu.setStatusLine(v.Line)
	}
	if all || v.Tooltip != old.Tooltip {
		t.menu.setTooltip(v.Tooltip)
	}
	if all || v.Icon != old.Icon {
		t.menu.setIcon(v.Icon)
	}
	if all || v.PauseTitle != old.PauseTitle || v.PauseTooltip != old.PauseTooltip {
		t.menu.setPause(v.PauseTitle, v.PauseTooltip)
	}
	if all || v.ScrapeEnabled != old.ScrapeEnabled {
		t.menu.setScrapeEnabled(v.ScrapeEnabled)
	}
	if all || v.Setup != old.Setup {
		t.menu.setSetupVisible(v.Setup)
	}
	t.shown, t.rendered = v, true
}

func (t *Tray) show(name string) {
	if err := t.cfg.ShowWindow(name); err != nil {
		t.log.Error("opening a window", "window", name, "err", err)
	}
}

// HostPresent reports whether a tray host (org.kde.StatusNotifierWatcher) is on the bus at addr.
// It blocks for at most two seconds.
func HostPresent(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0,
		"org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
