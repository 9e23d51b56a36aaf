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

	status, scrape, pause, showStatus, history, orders, settings, quit *systray.MenuItem

	// shown is what the menu shows now, to skip D-Bus updates that change nothing.
	shownLine, shownTip string
	shownState          assets.TrayState
	shownPaused         *bool
	shownRunning        *bool
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
	return &Tray{cfg: cfg, log: cfg.Log}, nil
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
	start, end := systray.RunWithExternalLoop(func() {
		t.build()
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
	return t.loop(ctx)
}

// build creates the menu. It runs once, before the loop starts.
func (t *Tray) build() {
	systray.SetIcon(assets.Tray(assets.TrayIdle))
	systray.SetTitle("worktray")
	t.status = systray.AddMenuItem("worktray", "")
	t.status.Disable()
	systray.AddSeparator()
	t.scrape = systray.AddMenuItem("Scrape now", "Scrape the portal now")
	t.pause = systray.AddMenuItem("Pause", "Pause scheduled scrapes")
	systray.AddSeparator()
	t.showStatus = systray.AddMenuItem("Status…", "Open the status window")
	t.history = systray.AddMenuItem("History…", "Open the run history")
	t.orders = systray.AddMenuItem("Work orders…", "Open the work orders")
	t.settings = systray.AddMenuItem("Settings…", "Open the settings")
	systray.AddSeparator()
	t.quit = systray.AddMenuItem("Quit", "Stop worktray (no more scheduled scrapes)")
}

// loop is the tray's one event loop.
func (t *Tray) loop(ctx context.Context) error {
	sub := t.cfg.Scheduler.Subscribe(64)
	defer sub.Close()
	var (
		wake  *time.Timer
		wakeC <-chan time.Time
	)
	refresh := func() {
		snap := t.cfg.Scheduler.Snapshot()
		t.render(snap)
		if wake != nil {
			wake.Stop()
		}
		wakeC = nil
		if d, ok := nextChange(snap); ok {
			wake = time.NewTimer(d)
			wakeC = wake.C
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
		case <-t.scrape.ClickedCh:
			if _, err := t.cfg.Scheduler.ScrapeNow(ctx); err != nil && !errors.Is(err, scheduler.ErrAlreadyRunning) {
				t.log.Error("scrape from the tray", "err", err)
			}
			refresh()
		case <-t.pause.ClickedCh:
			var err error
			if t.cfg.Scheduler.Snapshot().Paused {
				err = t.cfg.Scheduler.Resume()
			} else {
				err = t.cfg.Scheduler.Pause()
			}
			if err != nil {
				t.log.Error("pause or resume from the tray", "err", err)
			}
			refresh()
		case <-t.showStatus.ClickedCh:
			t.show(WindowStatus)
		case <-t.history.ClickedCh:
			t.show(WindowHistory)
		case <-t.orders.ClickedCh:
			t.show(WindowOrders)
		case <-t.settings.ClickedCh:
			t.show(WindowSettings)
		case <-t.quit.ClickedCh:
			t.log.Info("quit from the tray")
			t.cfg.Quit()
		}
	}
}

// nextChange returns how long until the snapshot changes with no event: just after the next
// slot (the status line then names the following one or says overdue).
func nextChange(s scheduler.Snapshot) (time.Duration, bool) {
	if s.Next.IsZero() || s.Running != nil {
		return 0, false
	}
	return max(s.Next.Sub(s.Now)+2*time.Second, time.Second), true
}

// render shows a snapshot, touching only what changed.
func (t *Tray) render(s scheduler.Snapshot) {
	line := view.StatusLine(s, t.cfg.Location)
	if line != t.shownLine {
		t.status.SetTitle(line)
		t.shownLine = line
	}
	if tip := view.Tooltip(s, t.cfg.Location); tip != t.shownTip {
		systray.SetTooltip(tip)
		t.shownTip = tip
	}
	if st := view.State(s); st != t.shownState {
		systray.SetIcon(assets.Tray(st))
		t.shownState = st
	}
	if t.shownPaused == nil || *t.shownPaused != s.Paused {
		if s.Paused {
			t.pause.SetTitle("Resume")
			t.pause.SetTooltip("Resume scheduled scrapes")
		} else {
			t.pause.SetTitle("Pause")
			t.pause.SetTooltip("Pause scheduled scrapes")
		}
		p := s.Paused
		t.shownPaused = &p
	}
	running := s.Running != nil
	if t.shownRunning == nil || *t.shownRunning != running {
		if running {
			t.scrape.Disable()
		} else {
			t.scrape.Enable()
		}
		t.shownRunning = &running
	}
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
