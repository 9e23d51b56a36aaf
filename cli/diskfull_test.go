package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"worktray/app/view"
	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
	"worktray/store"
)

// TestFullDiskCommands runs the owner with its data directory on a real, small file system
// (a tmpfs; skipped where mounting is not permitted) and the demo portal with 150 orders, fills
// the disk and scrapes: the scrape is storage_failed (never portal_error); status, diagnose and
// the health endpoint say the store cannot be written. Once the disk has room, a scrape stores the 150 orders and the
// history holds the storage_failed run.
func TestFullDiskCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := scraper.FindBrowser(""); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	dir := shortTempDir(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with CAP_SYS_ADMIN): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})

	portal := wtCommand("demo-portal", "--addr", freeAddr(t), "--count", "150")
	addr := portal.Args[3]
	if err := portal.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = portal.Process.Signal(syscall.SIGTERM); _ = portal.Wait() }()
	waitTCP(t, addr)

	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.PutSetting(scraper.SettingsKey, scraper.Settings{URL: "http://" + addr, Profile: "demo", Username: demoportal.DefaultEmail})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	sec, err := secret.Open(p.ConfigDir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	startOwner(t, dir, "--health-addr", health)

	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 64<<10); ; {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = f.Close()

	r := cli(t, dir, "", "scrape")
	expect(t, r, ExitStorageFailed, view.ClassText(scheduler.ClassStorageFailed), "no space left")
	if strings.Contains(r.stdout+r.stderr, view.ClassText(scheduler.ClassPortalError)) {
		t.Errorf("a full disk was blamed on the portal:\n%v", r)
	}
	// The outcome is recorded (a small record fits in the pages the file already has), and
	// status, diagnose and the health endpoint say the store cannot be written.
	r = cli(t, dir, "", "status")
	if r.code != ExitStorage || !strings.Contains(r.stdout, view.ClassText(scheduler.ClassStorageFailed)) || !strings.Contains(r.stdout, "no space left") {
		t.Errorf("status after a scrape that could not be stored: want exit %d\n%v", ExitStorage, r)
	}
	// The owner's health is 503 with the reason in words, and diagnose fails on the store's
	// writes, naming no internal code.
	hc, err := control.NewClient(p.Socket).Health(ctxT(t, 10*time.Second))
	if err != nil || hc.Healthy || hc.Status != "storage_failed" || !strings.Contains(strings.Join(hc.Problems, "\n"), "cannot write its store") {
		t.Errorf("health after a scrape that could not be stored: %+v, %v", hc, err)
	}
	resp, err := http.Get("http://" + health + "/api/scheduler/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("loopback health with a full disk: %d, want 503", resp.StatusCode)
	}
	r = cli(t, dir, "", "diagnose")
	expect(t, r, ExitUnhealthy, "✗ store writes", "no space left")
	if strings.Contains(r.stdout+r.stderr, string(scheduler.ClassStorageFailed)) {
		t.Errorf("diagnose shows the internal code:\n%v", r)
	}

	// Room again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "", "scrape"), ExitOK)
	r = cli(t, dir, "", "orders", "--json")
	var orders struct{ Orders []scheduler.Order }
	if err := json.Unmarshal([]byte(r.stdout), &orders); err != nil || len(orders.Orders) != 150 {
		t.Errorf("orders after the disk had room again: %d, %v", len(orders.Orders), err)
	}
	r = cli(t, dir, "", "history", "--json")
	var history struct{ Runs []scheduler.Run }
	if err := json.Unmarshal([]byte(r.stdout), &history); err != nil {
		t.Fatalf("history --json: %v:\n%v", err, r)
	}
	classes := map[scheduler.ErrorClass]int{}
	for _, run := range history.Runs {
		classes[run.ErrorClass]++
	}
	if classes[scheduler.ClassStorageFailed] == 0 || classes[scheduler.ClassPortalError] > 0 {
		t.Errorf("history classes %v: want the storage_failed run recorded and no portal_error\n%s", classes, fmt.Sprint(history.Runs))
	}
}
