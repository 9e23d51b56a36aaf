package notify

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a dbus-daemon for the test and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon binary (apt-get install dbus): the desktop notification test needs a private session bus")
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	return strings.TrimSpace(line)
}

// notificationServer owns org.freedesktop.Notifications and records what it is asked to show.
type notificationServer struct {
	mu    sync.Mutex
	calls []captured
}

type captured struct {
	App, Summary, Body string
	Urgency            byte
}

func (s *notificationServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var urgency byte
	if v, ok := hints["urgency"]; ok {
		urgency, _ = v.Value().(byte)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, captured{app, summary, body, urgency})
	return uint32(len(s.calls)), nil
}

func (s *notificationServer) got() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.calls...)
}

func ownNotifications(t *testing.T, addr string) *notificationServer {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	srv := &notificationServer{}
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v %v", reply, err)
	}
	return srv
}

func TestDBusDesktopNotify(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	d := &DBusDesktop{AppName: "worktray", Address: addr}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Notify(ctx, "worktray: Scrapes are failing", "The last 2 scrapes failed.", 1); err != nil {
		t.Fatal(err)
	}
	got := srv.got()
	want := captured{"worktray", "worktray: Scrapes are failing", "The last 2 scrapes failed.", 2}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("captured %+v, want %+v", got, want)
	}
}

// Through the Notifier: an alert raised while a notification server is on the bus is shown
// there, once.
func TestNotifierShowsAlertOnDesktopBus(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	h := newHarness(t, DefaultSettings())
	h.tweak = func(c *Config) { c.Desktop = &DBusDesktop{Address: addr} }
	h.start()
	h.raise(alert("3 scheduled scrapes missed", 1))
	h.kick()
	got := srv.got()
	if len(got) != 1 || got[0].Summary != "worktray: 3 scheduled scrapes missed" || got[0].Body != "message of 3 scheduled scrapes missed" {
		t.Fatalf("captured %+v", got)
	}
}

// With a bus but no notification server, Notify fails quickly and the notifier carries on.
func TestDBusDesktopWithoutServer(t *testing.T) {
	addr := privateBus(t)
	d := &DBusDesktop{Address: addr}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.Notify(ctx, "t", "b", 0)
	if err == nil || !strings.Contains(err.Error(), "org.freedesktop.Notifications") && !strings.Contains(err.Error(), "ServiceUnknown") {
		t.Fatalf("Notify without a server = %v", err)
	}

	h := newHarness(t, DefaultSettings())
	h.tweak = func(c *Config) { c.Desktop = &DBusDesktop{Address: addr} }
	h.start()
	h.raise(alert("alert 1", 1))
	if p := h.pending(); len(p) != 0 {
		t.Fatalf("alert kept after a best-effort desktop failure: %+v", p)
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if err := (&DBusDesktop{}).Notify(ctx, "t", "b", 0); !errors.Is(err, ErrNoSessionBus) {
		t.Errorf("Notify with no bus = %v, want ErrNoSessionBus", err)
	}
}
