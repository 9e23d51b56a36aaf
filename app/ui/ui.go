// Package ui is the windows process, `worktray ui`: a Fyne app that shows the status, history,
// work orders and settings windows as a client of the owner's control API. The owner starts it
// on demand (see package launcher) and it exits when its last window closes, so the Fyne driver
// (and its 60 Hz event poll, https://github.com/fyne-io/fyne/issues/2506) only runs while
// someone looks at a window.
//
// This is the only package that imports fyne.io/fyne/v2/app (cgo, GLFW); the screens live in
// package screens and test without a display.
package ui

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"worktray/app/autostart"
	"worktray/app/launcher"
	"worktray/app/screens"
	"worktray/app/view"
	"worktray/assets"
	"worktray/scheduler"
)

// Backend is everything the windows ask of the owner.
type Backend interface {
	screens.StatusActions
	screens.HistorySource
	screens.OrdersSource
	screens.SettingsBackend
	// State returns the scheduler's state now, whether a portal is set up, and the owner (nil
	// when none runs).
	State(ctx context.Context) (view.Situation, *screens.Owner, error)
	// Follow calls fn for every scheduler event until ctx is done or the stream ends. It
	// blocks; fn is called on Follow's goroutine.
	Follow(ctx context.Context, fn func(scheduler.Event)) error
}

// Options configure the windows process.
type Options struct {
	// Window is the first window to show: status, history, orders or settings.
	Window  string
	Backend Backend
	// Commands is the owner's command pipe ("show NAME" lines); at its end the process exits.
	// Nil when the process was started by hand.
	Commands io.Reader
	// DataDir and LogDir are opened by the settings window's General tab.
	DataDir, LogDir string
	// Exe is the worktray binary, for the start-at-login entry.
	Exe string
	Log *slog.Logger
}

// AppID is the Fyne application id (and the desktop file's name without .desktop).
const AppID = "io.github.worktray"

// Run shows opts.Window and runs the Fyne event loop until the last window closes, the command
// pipe ends or ctx is done. It must be called from the main goroutine.
func Run(ctx context.Context, opts Options) error {
	if !slices.Contains(launcher.Windows, opts.Window) {
		return errors.New("unknown window " + opts.Window)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("worktray.png", assets.App()))
	followDesktopTheme(a)
	w := &windows{app: a, be: opts.Backend, opts: opts, open: map[string]fyne.Window{}, orderWindows: map[string]fyne.Window{}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.Lifecycle().SetOnStarted(func() {
		w.show(opts.Window)
		go w.follow(ctx)
		if opts.Commands != nil {
			go w.commands(opts.Commands)
		}
		go func() {
			<-ctx.Done()
			fyne.Do(a.Quit)
		}()
	})
	a.Run()
	return nil
}

// windows keeps the open windows by name. It is used on Fyne's goroutine only.
type windows struct {
	app  fyne.App
	be   Backend
	opts Options
	open map[string]fyne.Window
	// orderWindows are the open order detail windows by "order PORTALID"; they close with the
	// last main window.
	orderWindows map[string]fyne.Window

	status   *screens.Status
	history  *screens.History
	orders   *screens.Orders
	settings *screens.Settings
}

func (w *windows) screenOptions() screens.Options { return screens.Options{} }

// show brings the named window forward, creating it if needed.
func (w *windows) show(name string) {
	if win, ok := w.open[name]; ok {
		win.Show()
		win.RequestFocus()
		return
	}
	var (
		win   fyne.Window
		size  fyne.Size
		title string
	)
	switch name {
	case "status":
		title, size = "worktray — Status", fyne.NewSize(660, 460)
		win = w.app.NewWindow(title)
		w.status = screens.NewStatus(w.be, w.screenOptions(), w.show)
		win.SetContent(w.status.Content())
		go w.refreshStatus()
	case "history":
		title, size = "worktray — History", fyne.NewSize(980, 680)
		win = w.app.NewWindow(title)
		w.history = screens.NewHistory(w.be, w.screenOptions())
		w.history.OpenFile = openWithDesktop
		win.SetContent(w.history.Content())
		w.history.Load()
	case "orders":
		title, size = "worktray — Work orders", fyne.NewSize(1240, 720)
		win = w.app.NewWindow(title)
		w.orders = screens.NewOrders(w.be, w.screenOptions())
		w.orders.SaveCSV = func(suggested string, write func(io.Writer) error, done func(string, error)) {
			saveFile(win, suggested, write, done)
		}
		w.orders.OpenURL = w.openURL
		w.orders.ShowDetail = w.showOrder
		win.SetContent(w.orders.Content())
		w.orders.Load()
	case "settings", "portal":
		if old, ok := w.open["settings"]; ok {
			if name == "portal" {
				w.settings.SelectTab(1)
			}
			old.Show()
			old.RequestFocus()
			return
		}
		tab := 0
		if name == "portal" {
			tab = 1
		}
		name = "settings"
		title, size = "worktray — Settings", fyne.NewSize(760, 640)
		win = w.app.NewWindow(title)
		var login screens.Toggle
		if w.opts.Exe != "" {
			login = autostart.Default(w.opts.Exe)
		}
		w.settings = screens.NewSettings(w.be, screens.SettingsOptions{Options: w.screenOptions(),
			StartAtLogin: login, DataDir: w.opts.DataDir, LogDir: w.opts.LogDir, OpenFolder: openWithDesktop})
		win.SetContent(w.settings.Content())
		w.settings.SelectTab(tab)
		w.settings.Load()
	}
	win.Resize(size)
	win.SetOnClosed(func() {
		delete(w.open, name)
		switch name {
		case "status":
			w.status = nil
		case "history":
			w.history = nil
		case "orders":
			w.orders = nil
		case "settings":
			w.settings = nil
		}
		if len(w.open) == 0 {
			for _, ow := range w.orderWindows {
				ow.Close()
			}
			w.app.Quit()
		}
	})
	w.open[name] = win
	win.Show()
	setWMClass(win)
	w.opts.Log.Debug("window shown", "window", name)
}

// showOrder shows an order's detail view in a window of its own, one per order: opening the
// same order again brings its window forward with fresh content.
func (w *windows) showOrder(title string, d *screens.OrderDetail) {
	key := "order " + d.Order().PortalID
	if win, ok := w.orderWindows[key]; ok {
		win.SetContent(d.Content())
		win.Show()
		win.RequestFocus()
		return
	}
	win := w.app.NewWindow(title + " — worktray")
	win.SetContent(d.Content())
	win.Resize(fyne.NewSize(720, 760))
	win.SetOnClosed(func() { delete(w.orderWindows, key) })
	w.orderWindows[key] = win
	win.Show()
}

// openURL opens a web address with the desktop's URL handler (Fyne's OpenURL: xdg-open on
// Linux).
func (w *windows) openURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return w.app.OpenURL(u)
}

// follow keeps the windows current: it follows the owner's event stream (reconnecting when the
// owner restarts) and refreshes the status window every 30 s for its relative times.
func (w *windows) follow(ctx context.Context) {
	events := make(chan scheduler.Event, 64)
	go func() {
		for ctx.Err() == nil {
			err := w.be.Follow(ctx, func(ev scheduler.Event) {
				select {
				case events <- ev:
				default: // the refresh below catches up
				}
			})
			if ctx.Err() != nil {
				return
			}
			w.opts.Log.Debug("event stream ended", "err", err)
			fyne.Do(func() {
				if w.status != nil {
					w.status.SetError("Lost touch with worktray: " + screens.ErrorText(err) + " Reconnecting…")
				}
			})
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
			w.refreshStatus()
		}
	}()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			w.refreshStatus()
			if ev.Kind == scheduler.EventScheduleChanged || ev.Kind == scheduler.EventSettingsChanged {
				fyne.Do(func() {
					if w.settings != nil {
						w.settings.Reload()
					}
				})
			}
			if ev.Kind == scheduler.EventRunFinished || ev.Kind == scheduler.EventSlotsMissed {
				fyne.Do(func() {
					if w.history != nil {
						w.history.Load()
					}
					if w.orders != nil && ev.Kind == scheduler.EventRunFinished {
						w.orders.Load()
					}
				})
			}
		case <-tick.C:
			w.refreshStatus()
		}
	}
}

// refreshStatus reads a snapshot and shows it in the status window, if one is open. It is called
// off Fyne's goroutine.
func (w *windows) refreshStatus() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sit, owner, err := w.be.State(ctx)
	fyne.Do(func() {
		if w.status == nil {
			return
		}
		if err != nil {
			w.status.SetError("Can't reach worktray: " + screens.ErrorText(err))
			return
		}
		w.status.SetError("")
		w.status.SetOwner(owner)
		w.status.Update(sit)
	})
}

// commands reads the owner's command pipe.
func (w *windows) commands(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "show ")
		if ok && slices.Contains(launcher.Windows, name) {
			fyne.Do(func() { w.show(name) })
		}
	}
	// The owner closed the pipe: it is stopping, and so are we.
	fyne.Do(w.app.Quit)
}

// openWithDesktop opens a file or folder with the desktop's default application.
func openWithDesktop(path string) error {
	cmd := exec.Command("xdg-open", path)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// saveFile asks where to save, writes there and tells done the path written or the error ("" and
// nil when the user canceled).
func saveFile(win fyne.Window, suggested string, write func(io.Writer) error, done func(path string, err error)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			done("", err)
			return
		}
		werr := write(wc)
		if cerr := wc.Close(); werr == nil {
			werr = cerr
		}
		done(wc.URI().Path(), werr)
	}, win)
	d.SetFileName(suggested)
	d.Show()
}
