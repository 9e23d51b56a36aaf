package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/godbus/dbus/v5"

	"worktray/scheduler"
)

// Notification is one desktop notification.
type Notification struct {
	// Kind groups notifications: a new one replaces the one of the same kind still shown
	// (freedesktop replaces_id), and Withdraw closes them by kind.
	Kind     scheduler.AlertKind
	Title    string
	Body     string
	Priority int // 1 and above critical, below 0 low, else normal
	// Actions are the notification's buttons. A click on the notification itself does what the
	// first one does.
	Actions []Action
}

// Action is a button of a notification that opens a window of worktray.
type Action struct {
	Label  string // e.g. "Open work orders"
	Window string // status, history, orders or settings
}

// Desktop shows desktop notifications. Implementations must be safe for concurrent use; their
// methods block until the notification server answered or ctx is done.
type Desktop interface {
	// Show shows n, replacing the notification of the same kind still on screen.
	Show(ctx context.Context, n Notification) error
	// Withdraw closes the notifications of the given kinds still on screen; none is no error.
	Withdraw(ctx context.Context, kinds ...scheduler.AlertKind) error
}

// ErrNoSessionBus means there is no D-Bus session bus to show desktop notifications on.
var ErrNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")

const (
	notificationsName  = "org.freedesktop.Notifications"
	notificationsPath  = "/org/freedesktop/Notifications"
	notificationsIface = "org.freedesktop.Notifications"
)

// DBusDesktop shows notifications with org.freedesktop.Notifications on the session bus. It
// keeps one connection (opened at the first notification, opened again after it breaks) to
// replace and close its notifications and to hear which action the user clicked, and never
// auto-launches a bus: with no bus or no notification server Show returns an error, which the
// Notifier logs and carries on (desktop delivery is best effort). Close it when done. It is
// safe for concurrent use.
type DBusDesktop struct {
	// AppName is the application name shown by the notification server.
	AppName string
	// Icon is an icon name or file path; may be empty.
	Icon string
	// Address is the session bus address; empty means DBUS_SESSION_BUS_ADDRESS, else
	// $XDG_RUNTIME_DIR/bus when that socket exists.
	Address string
	// OnAction is called with the window an action names ("status", "history", "orders",
	// "settings") when the user clicks the action or the notification. It is called on the
	// goroutine that reads the bus and must not block; nil ignores clicks.
	OnAction func(window string)

	mu      sync.Mutex
	conn    *dbus.Conn
	done    chan struct{} // closed when the signal reader of conn has returned
	shown   map[scheduler.AlertKind]uint32
	actions map[uint32][]Action
	closed  bool
}

// Show implements Desktop.
func (d *DBusDesktop) Show(ctx context.Context, n Notification) error {
	conn, err := d.connect(ctx)
	if err != nil {
		return err
	}
	urgency := byte(1)
	switch {
	case n.Priority >= 1:
		urgency = 2
	case n.Priority < 0:
		urgency = 0
	}
	app := d.AppName
	if app == "" {
		app = "worktray"
	}
	hints := map[string]dbus.Variant{
		"urgency":       dbus.MakeVariant(urgency),
		"desktop-entry": dbus.MakeVariant("worktray"),
	}
	actions := []string{}
	for i, a := range n.Actions {
		if i == 0 {
			actions = append(actions, "default", a.Label)
		}
		actions = append(actions, "open-"+a.Window, a.Label)
	}
	d.mu.Lock()
	replaces := d.shown[n.Kind]
	d.mu.Unlock()
	var id uint32
	err = conn.Object(notificationsName, notificationsPath).CallWithContext(ctx, notificationsIface+".Notify", 0,
		app, replaces, d.Icon, n.Title, n.Body, actions, hints, int32(-1)).Store(&id)
	if err != nil {
		d.drop(conn, err)
		return fmt.Errorf("show desktop notification: %w", err)
	}
	d.mu.Lock()
	if replaces != 0 && replaces != id {
		delete(d.actions, replaces)
	}
	d.shown[n.Kind] = id
	if len(n.Actions) > 0 {
		d.actions[id] = n.Actions
	} else {
		delete(d.actions, id)
	}
	d.mu.Unlock()
	return nil
}

// Withdraw implements Desktop: it closes (CloseNotification) the notifications of kinds that
// this DBusDesktop showed and that are still open.
func (d *DBusDesktop) Withdraw(ctx context.Context, kinds ...scheduler.AlertKind) error {
	d.mu.Lock()
	var ids []uint32
	for _, k := range kinds {
		if id, ok := d.shown[k]; ok {
			ids = append(ids, id)
			delete(d.shown, k)
			delete(d.actions, id)
		}
	}
	d.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	conn, err := d.connect(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		call := conn.Object(notificationsName, notificationsPath).CallWithContext(ctx, notificationsIface+".CloseNotification", 0, id)
		if call.Err != nil {
			errs = append(errs, fmt.Errorf("close desktop notification %d: %w", id, call.Err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the connection to the bus and waits for its reader to return. Show after Close
// fails. It never blocks on the bus.
func (d *DBusDesktop) Close() error {
	d.mu.Lock()
	conn, done := d.conn, d.done
	d.conn, d.closed = nil, true
	d.mu.Unlock()
	if conn == nil {
		return nil
	}
	err := conn.Close()
	<-done
	return err
}

// connect returns the open connection, opening one (and its signal reader) when there is none.
func (d *DBusDesktop) connect(ctx context.Context) (*dbus.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("desktop notifications: closed")
	}
	if d.conn != nil && d.conn.Connected() {
		return d.conn, nil
	}
	addr := d.Address
	if addr == "" {
		addr = SessionBusAddress()
	}
	if addr == "" {
		return nil, ErrNoSessionBus
	}
	conn, err := dbus.Connect(addr, dbus.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchInterface(notificationsIface), dbus.WithMatchMember(member),
			dbus.WithMatchObjectPath(notificationsPath)); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("listen for notification clicks: %w", err)
		}
	}
	if d.shown == nil {
		d.shown, d.actions = map[scheduler.AlertKind]uint32{}, map[uint32][]Action{}
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	done := make(chan struct{})
	d.conn, d.done = conn, done
	go d.read(conn, signals, done)
	return conn, nil
}

// drop forgets conn after a failed call when it is no longer connected, so the next call
// connects again.
func (d *DBusDesktop) drop(conn *dbus.Conn, _ error) {
	if conn.Connected() {
		return
	}
	d.mu.Lock()
	if d.conn == conn {
		d.conn = nil
	}
	d.mu.Unlock()
}

// read handles the notification server's signals until conn closes.
func (d *DBusDesktop) read(conn *dbus.Conn, signals chan *dbus.Signal, done chan struct{}) {
	defer close(done)
	ctx := conn.Context()
	for {
		select {
		case <-ctx.Done():
			conn.RemoveSignal(signals)
			return
		case s, ok := <-signals:
			if !ok {
				return
			}
			d.signal(s)
		}
	}
}

func (d *DBusDesktop) signal(s *dbus.Signal) {
	switch s.Name {
	case notificationsIface + ".ActionInvoked":
		var (
			id  uint32
			key string
		)
		if err := dbus.Store(s.Body, &id, &key); err != nil {
			return
		}
		d.mu.Lock()
		acts := d.actions[id]
		d.mu.Unlock()
		window := ""
		for i, a := range acts {
			if key == "open-"+a.Window || key == "default" && i == 0 {
				window = a.Window
				break
			}
		}
		if window != "" && d.OnAction != nil {
			d.OnAction(window)
		}
	case notificationsIface + ".NotificationClosed":
		var id uint32
		if len(s.Body) == 0 || dbus.Store(s.Body[:1], &id) != nil {
			return
		}
		d.mu.Lock()
		for k, v := range d.shown {
			if v == id {
				delete(d.shown, k)
			}
		}
		delete(d.actions, id)
		d.mu.Unlock()
	}
}

// SessionBusAddress finds the session bus without starting one (dbus.SessionBus would
// auto-launch a dbus-daemon that outlives us): $DBUS_SESSION_BUS_ADDRESS, else
// $XDG_RUNTIME_DIR/bus when that socket exists, else "".
func SessionBusAddress() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p
		}
	}
	return ""
}

// NotificationOf returns the desktop notification of an alert: its kind, "worktray: " and the
// title, the message, and the buttons that open the window the alert is about.
func NotificationOf(a scheduler.Alert) Notification {
	return Notification{Kind: a.Kind, Title: "worktray: " + a.Title, Body: a.Message, Priority: a.Priority, Actions: ActionsFor(a.Kind)}
}

// ActionsFor returns the buttons of an alert kind's notification: missed and recovered open the
// status window, failing the history (with the error) and the settings, new orders and a large
// drop the work orders.
func ActionsFor(kind scheduler.AlertKind) []Action {
	switch kind {
	case scheduler.AlertMissed, scheduler.AlertRecovered:
		return []Action{{Label: "Show status", Window: "status"}}
	case scheduler.AlertFailing:
		return []Action{{Label: "Show history", Window: "history"}, {Label: "Open settings", Window: "settings"}}
	case scheduler.AlertNewOrders, scheduler.AlertLargeDrop:
		return []Action{{Label: "Open work orders", Window: "orders"}}
	}
	return nil
}
