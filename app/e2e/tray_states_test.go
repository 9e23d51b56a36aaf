package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"worktray/app/tray"
	"worktray/assets"
	"worktray/control"
	"worktray/scheduler"
)

// envTrayHelper makes this test binary a tray over a fixed snapshot instead of running tests
// (fyne.io/systray keeps process-global state: one tray per process, so the test starts it as a
// child). Its value names the snapshot; the child prints "show NAME" for each window it is asked
// to open.
const envTrayHelper = "WORKTRAY_E2E_TRAY_HELPER"

func TestMain(m *testing.M) {
	if state := os.Getenv(envTrayHelper); state != "" {
		os.Exit(runTrayHelper(state))
	}
	os.Exit(m.Run())
}

// helperScheduler is a scheduler whose snapshot never changes.
type helperScheduler struct {
	snap scheduler.Snapshot
	bus  *scheduler.Bus
}

func (h helperScheduler) Snapshot() scheduler.Snapshot            { return h.snap }
func (h helperScheduler) Subscribe(n int) *scheduler.Subscription { return h.bus.Subscribe(n) }
func (h helperScheduler) ScrapeNow(context.Context) (scheduler.Run, error) {
	return scheduler.Run{}, nil
}
func (h helperScheduler) Pause() error  { return nil }
func (h helperScheduler) Resume() error { return nil }

func runTrayHelper(state string) int {
	now := time.Now().UTC()
	last := &scheduler.Run{ID: 7, Status: scheduler.StatusSucceeded, Started: now.Add(-time.Hour), Finished: now.Add(-time.Hour + 5*time.Second), Found: 52}
	snap := scheduler.Snapshot{Now: now, Schedule: scheduler.Schedule{Enabled: true}, LastRun: last, LastSuccess: last}
	switch state {
	case "stuck":
		snap.Stuck, snap.StuckSince = "the next slot could not be claimed: the store is read-only", now.Add(-10*time.Minute)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper state", state)
		return 2
	}
	t, err := tray.New(tray.Config{
		Scheduler:  helperScheduler{snap: snap, bus: scheduler.NewBus()},
		ShowWindow: func(name string) error { fmt.Println("show " + name); return nil },
		Quit:       func() {},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }() // ends with the test's pipe
	if err := t.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// iconPixmap reads the tray item's icon as its host sees it (SNI IconPixmap: ARGB32 rows).
func (ds *desktop) iconPixmap(sender string) ([]byte, error) {
	v, err := ds.conn.Object(sender, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil {
		return nil, err
	}
	var px []struct {
		W, H int32
		Data []byte
	}
	if err := dbus.Store([]any{v.Value()}, &px); err != nil {
		return nil, err
	}
	if len(px) == 0 {
		return nil, fmt.Errorf("no pixmap")
	}
	return px[0].Data, nil
}

// argb is the icon of state as an SNI pixmap.
func argb(t testing.TB, state assets.TrayState) []byte {
	img, _, err := image.Decode(bytes.NewReader(assets.Tray(state)))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(bl))
		}
	}
	return out
}

// activate left-clicks the tray icon (SNI Activate).
func (ds *desktop) activate(sender string) error {
	return ds.conn.Object(sender, "/StatusNotifierItem").Call("org.kde.StatusNotifierItem.Activate", 0, int32(10), int32(10)).Err
}

func menuLabel(items []menuItem, label string) (menuItem, bool) {
	for _, it := range items {
		if it.Label == label {
			return it, true
		}
	}
	return menuItem{}, false
}

// TestTraySetupStateAndActivate: a fresh install (no portal) shows the setup state over the
// real session bus: its icon, its status line and a visible "Set up your portal…" item that opens
// the settings; Scrape now is off. A left click on the icon opens the status window. Once a
// portal is saved, the tray leaves the setup state at once.
func TestTraySetupStateAndActivate(t *testing.T) {
	ds := startDesktop(t)
	o := ds.startOwner(t)
	ctx := t.Context()
	sender := registeredTray(t, ds)

	var items []menuItem
	// The status line comes first in a render, the setup item last: wait for both.
	if !waitFor(ctx, 10*time.Second, func() bool {
		items, _ = ds.menu(sender)
		setup, _ := menuLabel(items, "Set up your portal…")
		return len(items) > 0 && items[0].Label == "Set up your portal to start scraping" && setup.Visible
	}) {
		t.Fatalf("a fresh install's menu has no status line saying so or no visible setup item: %+v", items)
	}
	if setup, _ := menuLabel(items, "Set up your portal…"); !setup.Enabled {
		t.Errorf("setup item %+v, want it enabled", setup)
	}
	if scrape, _ := menuLabel(items, "Scrape now"); scrape.Enabled {
		t.Error("Scrape now is enabled with no portal to scrape")
	}
	if px, err := ds.iconPixmap(sender); err != nil || !bytes.Equal(px, argb(t, assets.TraySetup)) {
		t.Errorf("icon is not the setup icon (err %v)", err)
	}
	if v, err := ds.conn.Object(sender, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem.ItemIsMenu"); err != nil || v.Value() != false {
		t.Errorf("ItemIsMenu = %v (%v), want false: a left click activates", v, err)
	}

	if err := ds.click(sender, "Set up your portal…"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(ctx, 15*time.Second, func() bool { return windowViewable(ds.Display, "worktray — Settings") }) {
		t.Fatalf("no settings window after Set up your portal…; owner children %v", o.children())
	}
	if err := ds.activate(sender); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if !waitFor(ctx, 15*time.Second, func() bool { return windowViewable(ds.Display, "worktray — Status") }) {
		t.Fatalf("no status window after a left click on the icon; owner children %v", o.children())
	}

	c := control.NewClient(o.socket())
	defer c.Close()
	if _, err := c.SetPortal(ctx, control.PortalInput{URL: "http://127.0.0.1:9/login", Profile: "demo", Username: "tech@example.com"}); err != nil {
		t.Fatalf("saving a portal: %v", err)
	}
	if !waitFor(ctx, 10*time.Second, func() bool {
		items, _ = ds.menu(sender)
		it, _ := menuLabel(items, "Set up your portal…")
		return len(items) > 0 && items[0].Label != "Set up your portal to start scraping" && !it.Visible
	}) {
		t.Fatalf("the tray stayed in the setup state after a portal was saved: %+v", items)
	}
	if px, err := ds.iconPixmap(sender); err != nil || bytes.Equal(px, argb(t, assets.TraySetup)) {
		t.Errorf("the setup icon stayed after a portal was saved (err %v)", err)
	}
}

// TestTrayStuckState: a stuck scheduler shows its own icon and says why in the status line, over
// the real session bus; a left click still opens the status window.
func TestTrayStuckState(t *testing.T) {
	ds := startDesktop(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envTrayHelper+"=stuck", "DBUS_SESSION_BUS_ADDRESS="+ds.Bus, "DISPLAY="+ds.Display)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("tray helper stderr:\n%s", stderr.String())
		}
	})
	shown := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			shown <- sc.Text()
		}
	}()

	sender := registeredTray(t, ds)
	var items []menuItem
	if !waitFor(t.Context(), 10*time.Second, func() bool {
		items, _ = ds.menu(sender)
		return len(items) > 0 && strings.HasPrefix(items[0].Label, "Scheduling stuck: ")
	}) {
		t.Fatalf("stuck menu: %+v", items)
	}
	if want := "Scheduling stuck: the next slot could not be claimed: the store is read-only · Last "; !strings.HasPrefix(items[0].Label, want) {
		t.Errorf("status line %q, want it to start %q", items[0].Label, want)
	}
	if px, err := ds.iconPixmap(sender); err != nil || !bytes.Equal(px, argb(t, assets.TrayStuck)) {
		t.Errorf("icon is not the stuck icon (err %v)", err)
	}
	if err := ds.activate(sender); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	select {
	case got := <-shown:
		if got != "show status" {
			t.Errorf("a left click asked for %q, want the status window", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a left click on the icon opened nothing")
	}
}
