package scraper

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shortTempDir returns a new directory directly in the system's temporary directory, removed at
// the end of the test: t.TempDir's paths are too long for Chromium's singleton socket to live
// below a profile directory inside them.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// startStrayBrowser starts Chromium on profile directory dir the way an earlier owner did, but
// without a parent-death signal: it lives on until it is killed, like a browser whose owner was
// killed with SIGKILL before this change. It waits until the browser has started helpers.
func startStrayBrowser(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	bin, err := FindBrowser("")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "t"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	replyR, replyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--remote-debugging-pipe", "--user-data-dir="+dir)
	cmd.Env = withEnv(os.Environ(), "TMPDIR", filepath.Join(dir, "t"))
	cmd.ExtraFiles = []*os.File{cmdR, replyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	closeAll(cmdR, replyW)
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		closeAll(cmdW, replyR)
		close(waited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
	})
	for deadline := time.Now().Add(30 * time.Second); len(groupMembers(cmd.Process.Pid, exePath(cmd.Process.Pid))) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the stray browser started no helper within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd
}

// TestSweepRemovesWhatAnEarlierOwnerLeft leaves behind, for one data directory, a running
// browser of an earlier owner (with helpers) and a profile directory without a browser; beside
// them a browser of another data directory and a directory of this process. Sweep must kill
// the first browser with all its helpers and remove both of its data directory's profiles, and
// touch nothing else.
func TestSweepRemovesWhatAnEarlierOwnerLeft(t *testing.T) {
	tmp := shortTempDir(t)
	t.Setenv("TMPDIR", tmp)
	dataDir, otherData := t.TempDir(), t.TempDir()
	earlier := filepath.Join(tmp, dataDirPrefix(dataDir)+"1a2b.3c4d-abcde")
	deadOwner := filepath.Join(tmp, dataDirPrefix(dataDir)+"1a2c.3c4e-fghij")
	other := filepath.Join(tmp, dataDirPrefix(otherData)+"1a2b.3c4d-klmno")
	mine, err := newProfileDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{earlier, deadOwner, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	stray := startStrayBrowser(t, earlier)
	otherBrowser := startStrayBrowser(t, other)
	strayGroup := groupMembers(stray.Process.Pid, exePath(stray.Process.Pid))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	killed, removed, err := Sweep(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if killed < len(strayGroup) || removed != 2 {
		t.Errorf("Sweep killed %d processes and removed %d directories; want at least %d (the browser and its helpers) and 2",
			killed, removed, len(strayGroup))
	}
	// SIGKILL is delivered at once but a process ends when it is next scheduled: wait for it.
	for _, pid := range strayGroup {
		for deadline := time.Now().Add(10 * time.Second); alive(pid) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d of the earlier owner's browser is still running 10 s after the sweep", pid)
		}
	}
	// A starting browser's helpers come and go by themselves; its main process lives on.
	if !alive(otherBrowser.Process.Pid) {
		t.Errorf("the browser %d of another data directory was killed", otherBrowser.Process.Pid)
	}
	for d, want := range map[string]bool{earlier: false, deadOwner: false, other: true, mine: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
	if ents, _ := os.ReadDir(tmp); slices.ContainsFunc(ents, func(e os.DirEntry) bool {
		return strings.HasPrefix(e.Name(), "org.chromium.Chromium.")
	}) {
		t.Errorf("a Chromium temporary directory is left in %s", tmp)
	}
	// A second sweep finds nothing left.
	if killed, removed, err := Sweep(ctx, dataDir); killed != 0 || removed != 0 || err != nil {
		t.Errorf("a second Sweep killed %d, removed %d, err %v; want nothing", killed, removed, err)
	}
}
