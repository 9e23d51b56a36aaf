package scraper

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeOwnerDirEnv names the profile directory runFakeOwner starts its browser on.
const fakeOwnerDirEnv = "WORKTRAY_TEST_FAKE_OWNER_DIR"

// runFakeOwner is the test binary's life as an owner: it starts a deaf browser (the test binary
// again, which neither reads its DevTools pipe nor exits when it closes) with startBrowser and
// prints its pid; then it makes the Go runtime end OS threads (goroutines that exit with their
// thread locked) and prints "churned", and waits to be killed.
func runFakeOwner() {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_ = os.Setenv(fakeBrowserEnv, "deaf")
	p, err := startBrowser(self, nil, os.Getenv(fakeOwnerDirEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(p.pid)
	// Many at once, so that the runtime hands them every thread it has, the one that started
	// the browser too unless that one is locked to its goroutine.
	for range 20 {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				runtime.LockOSThread()
				time.Sleep(time.Millisecond)
			})
		}
		wg.Wait()
	}
	fmt.Println("churned")
}

// TestBrowserDiesWithItsOwner starts an owner process whose browser ignores its DevTools pipe,
// so that only the parent-death signal can end it. The browser must survive the owner's Go
// runtime ending OS threads (golang/go#27505: the signal follows the thread that forked), and
// die within 10 s of the owner being killed with SIGKILL.
func TestBrowserDiesWithItsOwner(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	owner := exec.Command(self)
	owner.Env = append(os.Environ(), fakeBrowserEnv+"=owner", fakeOwnerDirEnv+"="+t.TempDir())
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	owner.Stderr = os.Stderr
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = owner.Process.Kill()
		_ = owner.Wait()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("the owner printed no browser pid")
	}
	browser, err := strconv.Atoi(strings.TrimSpace(lines.Text()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(browser, syscall.SIGKILL) }()
	if !lines.Scan() || lines.Text() != "churned" {
		t.Fatalf("the owner did not end its threads: %q", lines.Text())
	}
	if !alive(browser) {
		t.Fatal("the browser died while its owner lives: the parent-death signal followed a thread that ended")
	}
	if err := owner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	for deadline := time.Now().Add(10 * time.Second); alive(browser); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the browser outlived its owner by 10s")
		}
	}
}
