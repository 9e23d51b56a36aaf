package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"worktray/scheduler"
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

// notificationServer owns org.freedesktop.Notifications and records what it is asked to show
// and to close; it answers Notify as a real server does (replaces_id reuses the id).
type notificationServer struct {
	conn   *dbus.Conn
	mu     sync.Mutex
	calls  []captured
	closed []uint32
	nextID uint32
}

type captured struct {
	App, Summary, Body string
	Urgency            byte
	Replaces, ID       uint32
	Actions            []string
}

func (s *notificationServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var urgency byte
	if v, ok := hints["urgency"]; ok {
		urgency, _ = v.Value().(byte)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := replaces
	if id == 0 {
		s.nextID++
		id = s.nextID
	}
	s.calls = append(s.calls, captured{app, summary, body, urgency, replaces, id, actions})
	return id, nil
}

func (s *notificationServer) CloseNotification(id uint32) *dbus.Error {
	s.mu.Lock()
	s.closed = append(s.closed, id)
	s.mu.Unlock()
	// As a real server does: a NotificationClosed signal, reason 3 (closed by a call).
	_ = s.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.NotificationClosed", id, uint32(3))
	return nil
}

func (s *notificationServer) got() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.calls...)
}

func (s *notificationServer) closedIDs() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.closed...)
}

// click emits ActionInvoked as a server does when the user clicks action key of notification id.
func (s *notificationServer) click(t *testing.T, id uint32, key string) {
	t.Helper()
	if err := s.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", id, key); err != nil {
		t.Fatal(err)
	}
}

func ownNotifications(t *testing.T, addr string) *notificationServer {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	srv := &notificationServer{conn: conn}
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v %v", reply, err)
	}
	return srv
}

// newDBusDesktop returns a DBusDesktop on addr, closed at the end of the test.
func newDBusDesktop(t *testing.T, addr string, onAction func(string)) *DBusDesktop {
	t.Helper()
	d := &DBusDesktop{AppName: "worktray", Address: addr, OnAction: onAction}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDBusDesktopShow(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	d := newDBusDesktop(t, addr, nil)
	n := Notification{Kind: scheduler.AlertFailing, Title: "worktray: Scrapes are failing", Body: "The last 2 scrapes failed.", Priority: 1,
		Actions: ActionsFor(scheduler.AlertFailing)}
	if err := d.Show(testCtx(t), n); err != nil {
		t.Fatal(err)
	}
	got := srv.got()
	want := captured{App: "worktray", Summary: "worktray: Scrapes are failing", Body: "The last 2 scrapes failed.", Urgency: 2, ID: 1,
		Actions: []string{"default", "Show history", "open-history", "Show history", "open-settings", "Open settings"}}
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("captured %+v, want %+v", got, want)
	}
}

// A notification replaces the one of its kind still shown; Withdraw closes them; a closed one
// is not replaced any more.
func TestDBusDesktopReplacesAndWithdraws(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	d := newDBusDesktop(t, addr, nil)
	ctx := testCtx(t)
	show := func(kind scheduler.AlertKind, title string) captured {
		t.Helper()
		if err := d.Show(ctx, Notification{Kind: kind, Title: title}); err != nil {
			t.Fatal(err)
		}
		got := srv.got()
		return got[len(got)-1]
	}
	f1 := show(scheduler.AlertFailing, "failing")
	f2 := show(scheduler.AlertFailing, "still failing")
	m1 := show(scheduler.AlertMissed, "missed")
	n1 := show(scheduler.AlertNewOrders, "3 new")
	if f1.Replaces != 0 || f2.Replaces != f1.ID || m1.Replaces != 0 || m1.ID == f1.ID || n1.Replaces != 0 {
		t.Fatalf("replaces_id: first failing %+v, second %+v, missed %+v, new %+v", f1, f2, m1, n1)
	}
	if err := d.Withdraw(ctx, scheduler.AlertFailing, scheduler.AlertMissed, scheduler.AlertLargeDrop); err != nil {
		t.Fatal(err)
	}
	if c := srv.closedIDs(); fmt.Sprint(c) != fmt.Sprint([]uint32{f1.ID, m1.ID}) {
		t.Fatalf("closed %v, want the failing and missed notifications %d, %d", c, f1.ID, m1.ID)
	}
	if f3 := show(scheduler.AlertFailing, "failing again"); f3.Replaces != 0 {
		t.Errorf("a withdrawn notification was replaced: %+v", f3)
	}
	if n2 := show(scheduler.AlertNewOrders, "2 new"); n2.Replaces != n1.ID {
		t.Errorf("new orders did not replace the earlier new orders: %+v", n2)
	}
	// The user closes it: the server says so, and the next one of its kind is new.
	n2 := srv.got()[len(srv.got())-1]
	if err := srv.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.NotificationClosed", n2.ID, uint32(2)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the closed notification to be forgotten", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.shown[scheduler.AlertNewOrders]
		return !ok
	})
	if n3 := show(scheduler.AlertNewOrders, "1 new"); n3.Replaces != 0 {
		t.Errorf("a notification the user closed was replaced: %+v", n3)
	}
}

// A click on an action button, or on the notification, opens the window it names.
func TestDBusDesktopActionsOpenWindows(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	var (
		mu     sync.Mutex
		opened []string
	)
	d := newDBusDesktop(t, addr, func(w string) {
		mu.Lock()
		opened = append(opened, w)
		mu.Unlock()
	})
	ctx := testCtx(t)
	if err := d.Show(ctx, NotificationOf(scheduler.Alert{Kind: scheduler.AlertFailing, Title: "Scrapes are failing"})); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(ctx, NotificationOf(scheduler.Alert{Kind: scheduler.AlertNewOrders, Title: "2 new work orders"})); err != nil {
		t.Fatal(err)
	}
	got := srv.got()
	failing, newOrders := got[0].ID, got[1].ID
	srv.click(t, failing, "open-settings")
	srv.click(t, newOrders, "default")
	srv.click(t, failing, "default")
	srv.click(t, 999, "default") // not ours: ignored
	want := []string{"settings", "orders", "history"}
	eventually(t, fmt.Sprintf("windows %v to open", want), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(opened) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(opened) != fmt.Sprint(want) {
		t.Errorf("opened %v, want %v", opened, want)
	}
}

// Through the Notifier: an alert raised while a notification server is on the bus is shown
// there, once; when scrapes work again the failing notification is withdrawn.
func TestNotifierShowsAndWithdrawsOnDesktopBus(t *testing.T) {
	addr := privateBus(t)
	srv := ownNotifications(t, addr)
	h := newHarness(t, DefaultSettings())
	d := newDBusDesktop(t, addr, nil)
	h.tweak = func(c *Config) { c.Desktop = d }
	h.start()
	h.raise(alert("3 scheduled scrapes missed", 1))
	got := srv.got()
	if len(got) != 1 || got[0].Summary != "worktray: 3 scheduled scrapes missed" || got[0].Body != "message of 3 scheduled scrapes missed" {
		t.Fatalf("captured %+v", got)
	}
	h.n.ScrapesWork()
	h.waitIdle()
	if c := srv.closedIDs(); len(c) != 1 || c[0] != got[0].ID {
		t.Fatalf("closed %v after ScrapesWork, want the failing notification %d", c, got[0].ID)
	}
	// A recovery alert withdraws too, then shows itself.
	h.raise(alert("still failing", 1))
	h.raise(scheduler.Alert{Kind: scheduler.AlertRecovered, Title: "Scrapes work again", Message: "ok", Desktop: true})
	got = srv.got()
	if c := srv.closedIDs(); len(c) != 2 || c[1] != got[1].ID || got[2].Summary != "worktray: Scrapes work again" {
		t.Fatalf("closed %v, shown %+v; want the second failing notification closed before the recovery", c, got)
	}
}

// With a bus but no notification server, Show fails quickly and the notifier carries on.
func TestDBusDesktopWithoutServer(t *testing.T) {
	addr := privateBus(t)
	d := newDBusDesktop(t, addr, nil)
	err := d.Show(testCtx(t), Notification{Kind: scheduler.AlertTest, Title: "t", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "org.freedesktop.Notifications") && !strings.Contains(err.Error(), "ServiceUnknown") {
		t.Fatalf("Show without a server = %v", err)
	}

	h := newHarness(t, DefaultSettings())
	h.tweak = func(c *Config) { c.Desktop = d }
	h.start()
	h.raise(alert("alert 1", 1))
	if p := h.pending(); len(p) != 0 {
		t.Fatalf("alert kept after a best-effort desktop failure: %+v", p)
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if err := (&DBusDesktop{}).Show(testCtx(t), Notification{Title: "t"}); !errors.Is(err, ErrNoSessionBus) {
		t.Errorf("Show with no bus = %v, want ErrNoSessionBus", err)
	}
}
