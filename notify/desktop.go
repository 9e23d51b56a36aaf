package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// Desktop shows a desktop notification. Notify blocks until the notification server answered or
// ctx is done. Implementations must be safe for concurrent use.
type Desktop interface {
	Notify(ctx context.Context, title, body string, priority int) error
}

// ErrNoSessionBus means there is no D-Bus session bus to show desktop notifications on.
var ErrNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")

// DBusDesktop sends notifications with org.freedesktop.Notifications.Notify on the session bus.
// It connects for each notification (they are rare) and never auto-launches a bus: with no bus
// or no notification server Notify returns an error, which the Notifier logs and carries on
// (desktop delivery is best effort). It is safe for concurrent use.
type DBusDesktop struct {
	// AppName is the application name shown by the notification server.
	AppName string
	// Icon is an icon name or file path; may be empty.
	Icon string
	// Address is the session bus address; empty means DBUS_SESSION_BUS_ADDRESS, else
	// $XDG_RUNTIME_DIR/bus when that socket exists.
	Address string
}

// Notify implements Desktop. priority 1 and above is shown as critical, below 0 as low.
func (d *DBusDesktop) Notify(ctx context.Context, title, body string, priority int) error {
	addr := d.Address
	if addr == "" {
		addr = SessionBusAddress()
	}
	if addr == "" {
		return ErrNoSessionBus
	}
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	defer conn.Close()
	urgency := byte(1)
	switch {
	case priority >= 1:
		urgency = 2
	case priority < 0:
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
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0,
		app, uint32(0), d.Icon, title, body, []string{}, hints, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("show desktop notification: %w", call.Err)
	}
	return nil
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
