// Package e2e tests the desktop end to end: a real worktray owner under Xvfb and a private
// session D-Bus, with this test process playing the tray host (org.kde.StatusNotifierWatcher;
// or none, as on stock GNOME) and the notification server (org.freedesktop.Notifications). The
// tests skip when Xvfb or dbus-daemon are missing; CI installs both.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// desktop is a private X display and session bus.
type desktop struct {
	Display string
	Bus     string
	conn    *dbus.Conn
	watcher *watcher
	notes   *notifications
}

func requireTools(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end desktop test skipped in -short mode")
	}
	for _, tool := range []string{"Xvfb", "dbus-daemon", "xwininfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end desktop test needs %s (apt-get install xvfb dbus x11-utils): %v", tool, err)
		}
	}
}

// startDesktop starts Xvfb and a dbus-daemon, both ended when the test ends, and registers the
// fake tray host and notification server on the bus.
func startDesktop(t testing.TB) *desktop {
	t.Helper()
	ds := startDesktopWithoutTrayHost(t)
	ds.exportWatcher(t)
	return ds
}

// startDesktopWithoutTrayHost is startDesktop without the tray host, like stock GNOME: nobody
// owns org.kde.StatusNotifierWatcher until the test calls exportWatcher.
func startDesktopWithoutTrayHost(t testing.TB) *desktop {
	t.Helper()
	requireTools(t)
	dir := t.TempDir()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -noreset: by default the server resets when its last client disconnects, and a client
	// connecting during the reset fails ("X11: Failed to open display"). The tests poll with
	// short-lived xwininfo clients while a windows process starts, which hit that race.
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	xlog := &syncBuffer{}
	x.Stdout, x.Stderr = xlog, xlog
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := x.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { _ = x.Process.Signal(syscall.SIGTERM); _ = x.Wait() })
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	var display string
	select {
	case n := <-num:
		display = ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not report its display")
	}
	if !waitFor(context.Background(), 10*time.Second, func() bool {
		cmd := exec.Command("xwininfo", "-root")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		return cmd.Run() == nil
	}) {
		t.Fatalf("Xvfb on %s does not answer:\n%s", display, xlog.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Xvfb %s output:\n%s", display, xlog.String())
		}
	})

	sock := filepath.Join(dir, "bus")
	d := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+sock)
	d.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = d.Process.Signal(syscall.SIGTERM); _ = d.Wait() })
	bus := "unix:path=" + sock
	var conn *dbus.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err = dbus.Connect(bus)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connecting to the private bus: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	ds := &desktop{Display: display, Bus: bus, conn: conn, watcher: &watcher{}, notes: &notifications{}}
	ds.exportNotifications(t)
	return ds
}

// watcher is a fake org.kde.StatusNotifierWatcher: it records the items that register.
type watcher struct {
	mu    sync.Mutex
	items []string // "sender path"
}

func (w *watcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, string(sender)+" "+service)
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (w *watcher) Items() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.items...)
}

func (ds *desktop) exportWatcher(t testing.TB) {
	const path, iface = "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"
	if err := ds.conn.Export(ds.watcher, path, iface); err != nil {
		t.Fatal(err)
	}
	if _, err := prop.Export(ds.conn, path, map[string]map[string]*prop.Prop{iface: {
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
	}}); err != nil {
		t.Fatal(err)
	}
	if reply, err := ds.conn.RequestName(iface, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (%v)", iface, err, reply)
	}
}

// notifications is a fake org.freedesktop.Notifications server that keeps every notification.
type notifications struct {
	mu   sync.Mutex
	seen []string // "app|summary|body"
}

func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seen = append(n.seen, app+"|"+summary+"|"+body)
	return uint32(len(n.seen)), nil
}

func (n *notifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func (n *notifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "e2e", "worktray", "1", "1.2", nil
}

func (n *notifications) CloseNotification(uint32) *dbus.Error { return nil }

func (n *notifications) Seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.seen...)
}

func (ds *desktop) exportNotifications(t testing.TB) {
	const name = "org.freedesktop.Notifications"
	if err := ds.conn.Export(ds.notes, "/org/freedesktop/Notifications", name); err != nil {
		t.Fatal(err)
	}
	if reply, err := ds.conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (%v)", name, err, reply)
	}
}

// menuItem is one entry of the tray's dbusmenu.
type menuItem struct {
	ID      int32
	Label   string
	Enabled bool
	Visible bool
	Sep     bool
}

// menu reads the tray menu of the item registered by sender.
func (ds *desktop) menu(sender string) ([]menuItem, error) {
	obj := ds.conn.Object(sender, "/StatusNotifierItem/menu")
	call := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		return nil, call.Err
	}
	if len(call.Body) < 2 {
		return nil, fmt.Errorf("GetLayout answered %v", call.Body)
	}
	root, ok := call.Body[1].([]any)
	if !ok || len(root) < 3 {
		return nil, fmt.Errorf("GetLayout layout %T %v", call.Body[1], call.Body[1])
	}
	children, _ := root[2].([]dbus.Variant)
	var items []menuItem
	for _, c := range children {
		l, ok := c.Value().([]any)
		if !ok || len(l) < 2 {
			continue
		}
		it := menuItem{Enabled: true, Visible: true}
		it.ID, _ = l[0].(int32)
		props, _ := l[1].(map[string]dbus.Variant)
		if v, ok := props["label"]; ok {
			it.Label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			it.Enabled, _ = v.Value().(bool)
		}
		if v, ok := props["visible"]; ok {
			it.Visible, _ = v.Value().(bool)
		}
		if v, ok := props["type"]; ok {
			s, _ := v.Value().(string)
			it.Sep = s == "separator"
		}
		items = append(items, it)
	}
	return items, nil
}

// click clicks the menu item with the given label.
func (ds *desktop) click(sender, label string) error {
	items, err := ds.menu(sender)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Label == label {
			obj := ds.conn.Object(sender, "/StatusNotifierItem/menu")
			return obj.Call("com.canonical.dbusmenu.Event", 0, it.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
		}
	}
	return fmt.Errorf("no menu item %q in %v", label, items)
}

// buildWorktray builds the worktray binary once per test binary.
var (
	buildOnce sync.Once
	buildExe  string
	buildErr  error
)

func worktrayBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "worktray-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		// The owner and, beside it, the windows binary that `worktray ui` hands over to.
		buildExe = filepath.Join(dir, "worktray")
		out, err := exec.Command("go", "build", "-o", dir, "worktray", "worktray/app/cmd/worktray-ui").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildExe
}

// owner is a running worktray owner.
type owner struct {
	cmd     *exec.Cmd
	dataDir string
	log     *syncBuffer
}

// startOwner starts `worktray ARGS --data-dir DIR` on the desktop; it is stopped when the test
// ends.
func (ds *desktop) startOwner(t testing.TB, args ...string) *owner {
	t.Helper()
	exe := worktrayBinary(t)
	dir := t.TempDir()
	o := &owner{dataDir: dir, log: &syncBuffer{}}
	o.cmd = exec.Command(exe, append(args, "--data-dir", dir)...)
	o.cmd.Env = append(os.Environ(), "DISPLAY="+ds.Display, "DBUS_SESSION_BUS_ADDRESS="+ds.Bus,
		"LANG=en_US.UTF-8", "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"), "XDG_RUNTIME_DIR=")
	o.cmd.Stdout, o.cmd.Stderr = o.log, o.log
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = o.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = o.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = o.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("owner output:\n%s", o.log.String())
		}
	})
	return o
}

func (o *owner) socket() string { return filepath.Join(o.dataDir, "run", "control.sock") }

// children returns the pids of the owner's child processes named worktray.
func (o *owner) children() []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(worktray") {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(o.cmd.Process.Pid) {
			out = append(out, pid)
		}
	}
	return out
}

// procStat returns the CPU ticks (utime+stime, fields 14 and 15) and the RSS in bytes of pid.
func procStat(pid int) (ticks int64, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state): field n is f[n-3].
	ut, _ := strconv.ParseInt(f[14-3], 10, 64)
	st, _ := strconv.ParseInt(f[15-3], 10, 64)
	pages, _ := strconv.ParseInt(f[24-3], 10, 64)
	return ut + st, pages * int64(os.Getpagesize()), nil
}

// windowViewable reports whether a top-level window with this title is mapped on display.
func windowViewable(display, title string) bool {
	cmd := exec.Command("xwininfo", "-name", title)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	return err == nil && strings.Contains(string(out), "Map State: IsViewable")
}

// windowClass returns the WM_CLASS value of the top-level window with this title, as xprop
// prints it (`"name", "class"`), or "" when it cannot be read.
func windowClass(display, title string) string {
	env := append(os.Environ(), "DISPLAY="+display)
	// xprop -name cannot match a UTF-8 title (WM_NAME is COMPOUND_TEXT): find the id with xwininfo.
	info := exec.Command("xwininfo", "-name", title)
	info.Env = env
	out, err := info.Output()
	if err != nil {
		return ""
	}
	id := ""
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "0x") {
			id = f
			break
		}
	}
	if id == "" {
		return ""
	}
	prop := exec.Command("xprop", "-id", id, "WM_CLASS")
	prop.Env = env
	if out, err = prop.Output(); err != nil {
		return ""
	}
	_, v, ok := strings.Cut(strings.TrimSpace(string(out)), " = ")
	if !ok {
		return ""
	}
	return v
}

// screenshot saves the screen as a PNG in $WORKTRAY_E2E_SHOTS (or the test's temp dir).
func screenshot(t testing.TB, display, name string) string {
	t.Helper()
	dir := os.Getenv("WORKTRAY_E2E_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("screenshot (import): %v %s", err, out)
		return ""
	}
	return path
}

// waitFor polls cond every 5 ms until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
