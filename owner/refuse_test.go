package owner

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"worktray/paths"
	"worktray/store"
)

// notifications owns org.freedesktop.Notifications on a bus and keeps what it is asked to show.
type notifications struct {
	mu    sync.Mutex
	shown []string // summary, a newline, body
}

func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shown = append(n.shown, summary+"\n"+body)
	return uint32(len(n.shown)), nil
}

func (n *notifications) CloseNotification(id uint32) *dbus.Error { return nil }

func (n *notifications) got() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.shown...)
}

// privateBusWithNotifications starts a dbus-daemon for the test and a notification server on it.
func privateBusWithNotifications(t *testing.T) (string, *notifications) {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon binary: the test needs a private session bus")
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(line)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifications{}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v %v", reply, err)
	}
	return addr, n
}

// TestCannotStartIsShownOnTheDesktop: an owner with a desktop that refuses a zero-byte store
// says so in a desktop notification (nobody reads its stderr when it starts at login), with
// the store's message naming the file; a headless one does not notify.
func TestCannotStartIsShownOnTheDesktop(t *testing.T) {
	addr, n := privateBusWithNotifications(t)
	p := paths.Resolve(t.TempDir())
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.DB, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Run(ctx, Options{Paths: p, Headless: true, Stderr: io.Discard, DBusAddress: addr})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Run = %v, want ErrCorrupt", err)
	}
	if got := n.got(); len(got) != 0 {
		t.Errorf("a headless owner notified the desktop: %q", got)
	}
	err = Run(ctx, Options{Paths: p, Stderr: io.Discard, DBusAddress: addr})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Run = %v, want ErrCorrupt", err)
	}
	got := n.got()
	if len(got) != 1 || !strings.HasPrefix(got[0], "worktray cannot start\n") || !strings.Contains(got[0], p.DB) ||
		!strings.Contains(got[0], "empty") {
		t.Errorf("notifications %q, want one saying worktray cannot start, naming %s", got, p.DB)
	}
}
