package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/scraper/demoportal"
	"worktray/secret"
	"worktray/store"
)

// buildBinary builds worktray once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worktray")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := scraper.FindBrowser(""); err != nil {
		t.Skipf("no Chromium: %v (make test installs it)", err)
	}
}

// logEvent waits until the owner's JSON log has a record with msg and the given attributes.
func logEvent(t *testing.T, logDir, msg string, attrs map[string]string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(logDir, "worktray-*.jsonl"))
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(fh)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
		lines:
			for sc.Scan() {
				var rec map[string]any
				if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["msg"] != msg {
					continue
				}
				for k, v := range attrs {
					if s, _ := rec[k].(string); s != v {
						continue lines
					}
				}
				fh.Close()
				return rec
			}
			fh.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no log record %q %v within %v", msg, attrs, timeout)
	return nil
}

func startOwner(t *testing.T, bin, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--headless", "--data-dir", dir}, args...)...)
	// A TMPDIR of its own puts its browsers' profile directories where countChromium finds
	// them, apart from any other test's browsers.
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "WORKTRAY_DATA_DIR=", "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func waitExit(t *testing.T, cmd *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %v", filepath.Base(cmd.Path)+" "+strings.Join(cmd.Args[1:2], ""), timeout)
		return -1
	}
}

// TestHeadlessDemoOwner starts `worktray run --headless --demo`, sees its first scrape read the
// demo portal's 52 orders, stops it with SIGTERM and finds the store closed cleanly.
func TestHeadlessDemoOwner(t *testing.T) {
	requireChromium(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := startOwner(t, bin, dir, "--demo")
	p := paths.Resolve(dir)
	logEvent(t, p.LogDir, "scheduler initialized", nil, 10*time.Second)
	rec := logEvent(t, p.LogDir, "job event", map[string]string{"event": "succeeded"}, 60*time.Second)
	if rec["found"] != float64(52) || rec["new"] != float64(52) {
		t.Fatalf("first demo scrape: %v", rec)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatalf("the store did not close cleanly: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	orders, _ := db.ActiveOrders()
	if len(orders) != 52 {
		t.Fatalf("%d orders stored, want 52", len(orders))
	}
	if running, _ := db.RunningRuns(); len(running) != 0 {
		t.Fatalf("runs left running: %+v", running)
	}
	db.Close()

	// A restart serves the demo from the same address: its first scrape finds the same 52
	// orders, none new and none changed (the portal's port is not part of an order).
	cmd = startOwner(t, bin, dir, "--demo")
	var second map[string]any
	pollUntil(t, "a second demo scrape after the restart", 60*time.Second, func() bool {
		recs := logEvents(p.LogDir, "job event", map[string]string{"event": "succeeded"})
		if len(recs) >= 2 {
			second = recs[1]
		}
		return second != nil
	})
	if second["found"] != float64(52) || second["new"] != float64(0) || second["changed"] != float64(0) {
		t.Fatalf("scrape after a restart: %v, want 52 found, none new or changed", second)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 20*time.Second)
}

// logEvents returns every log record with this message and these string attributes, in order.
func logEvents(logDir, msg string, attrs map[string]string) []map[string]any {
	var out []map[string]any
	files, _ := filepath.Glob(filepath.Join(logDir, "worktray-*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
	lines:
		for _, line := range bytes.Split(b, []byte("\n")) {
			var rec map[string]any
			if json.Unmarshal(line, &rec) != nil || rec["msg"] != msg {
				continue
			}
			for k, v := range attrs {
				if s, _ := rec[k].(string); s != v {
					continue lines
				}
			}
			out = append(out, rec)
		}
	}
	return out
}

// TestShutdownCancelsRunningScrape sends SIGTERM, and SIGHUP (the terminal of `worktray run
// --headless` closed), in the middle of a scrape of a slow portal: each is a clean stop, the run
// is recorded as canceled and the process exits 0 without leaving a browser behind.
func TestShutdownCancelsRunningScrape(t *testing.T) {
	requireChromium(t)
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { shutdownMidScrape(t, bin, sig) })
	}
}

// midScrape starts an owner on a slow demo portal (every response 3 s late) and `worktray scrape`
// following a scrape, and returns once the browser is up and the run has reported progress past
// its start. scrapeErr collects the scrape command's stderr.
func midScrape(t *testing.T, bin string) (owner, scrape *exec.Cmd, scrapeErr *bytes.Buffer, dir string) {
	t.Helper()
	portal := demoportal.New(demoportal.Options{Seed: 3, Count: 30, Faults: demoportal.Faults{Latency: 3 * time.Second}})
	base, stop, err := portal.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dir = t.TempDir()
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(scraper.SettingsKey, scraper.Settings{URL: base, Profile: scraper.ProfileDemo, Username: demoportal.DefaultEmail}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	sec, err := secret.Open(p.ConfigDir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Set(secret.PortalPassword, demoportal.DefaultPassword); err != nil {
		t.Fatal(err)
	}

	owner = startOwner(t, bin, dir)
	logEvent(t, p.LogDir, "scheduler initialized", nil, 10*time.Second)
	// The owner answers "Scrape now" over its control socket; without it, use the CLI.
	scrape = exec.Command(bin, "scrape", "--data-dir", dir, "--json")
	scrape.Env = owner.Env
	scrapeErr = &bytes.Buffer{}
	scrape.Stderr = scrapeErr
	if err := scrape.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if scrape.ProcessState == nil {
			_ = scrape.Process.Kill()
			_ = scrape.Wait()
		}
	})
	logEvent(t, p.LogDir, "scheduled job starting", nil, 15*time.Second)
	// Mid-scrape: the browser is up and the run has reported progress past its start.
	c := control.NewClient(p.Socket)
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := c.Status(context.Background())
		if err == nil && st.Running != nil && st.Progress != nil && st.Progress.Stage != scheduler.StageStarting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scrape did not get under way: %+v %v", st, err)
		}
	}
	return owner, scrape, scrapeErr, dir
}

func shutdownMidScrape(t *testing.T, bin string, sig syscall.Signal) {
	cmd, _, _, dir := midScrape(t, bin)
	p := paths.Resolve(dir)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after %v, want 0", code, sig)
	}
	db, err := store.Open(p.DB, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, _ := db.LatestRuns(10)
	if len(runs) != 1 || runs[0].Status != scheduler.StatusCanceled {
		t.Fatalf("runs after %v mid-scrape: %+v, want one canceled run", sig, runs)
	}
	if n := countChromium(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Fatalf("%d browser processes left", n)
	}
}

// TestScrapeGivesUpOnAStoppedOwner stops the owner with SIGSTOP while `worktray scrape` follows
// its scrape: the command gives up by itself within 10 s, saying the owner (with its pid) is not
// responding, exit code 7. Continued, the owner then stops cleanly.
func TestScrapeGivesUpOnAStoppedOwner(t *testing.T) {
	requireChromium(t)
	bin := buildBinary(t)
	owner, scrape, scrapeErr, dir := midScrape(t, bin)
	if err := owner.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	cont := func() {
		if !continued {
			continued = true
			_ = owner.Process.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(cont)
	code := waitExit(t, scrape, 10*time.Second)
	want := fmt.Sprintf("the worktray owner (pid %d) is not responding", owner.Process.Pid)
	if code != 7 || !strings.Contains(scrapeErr.String(), want) {
		t.Fatalf("scrape against a stopped owner: exit %d, stderr %q; want 7 and %q", code, scrapeErr, want)
	}
	cont()
	if err := owner.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, owner, 20*time.Second); code != 0 {
		t.Fatalf("owner exit %d after SIGCONT and SIGTERM", code)
	}
	if n := countChromium(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Fatalf("%d browser processes left", n)
	}
}

// countChromium counts live browser processes whose command line mentions tmp (their profile
// directory is under the owner's TMPDIR), waiting a few seconds for them to go.
func countChromium(t *testing.T, tmp string) int {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	for {
		n := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && strings.Contains(string(b), tmp) {
				n++
			}
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}
