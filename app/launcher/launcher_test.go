package launcher

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeUI writes a script that records its arguments and every command it reads.
func fakeUI(t *testing.T) (exe, log string) {
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	exe = filepath.Join(dir, "ui.sh")
	script := "#!/bin/sh\necho \"args $*\" >> " + log + "\nwhile read line; do echo \"$line\" >> " + log + "; done\necho eof >> " + log + "\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, log
}

func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var lines []string
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			f.Close()
		}
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOneProcessRaisedThenStopped(t *testing.T) {
	exe, log := fakeUI(t)
	l := New(Config{Exe: exe, Args: []string{"--socket", "/run/x.sock"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()

	if err := l.ShowWindow("status"); err != nil {
		t.Fatal(err)
	}
	pid := l.PID()
	if err := l.ShowWindow("history"); err != nil {
		t.Fatal(err)
	}
	if l.PID() != pid {
		t.Errorf("a second window started a second process")
	}
	lines := waitLines(t, log, 2)
	if want := "args ui --from-owner --socket /run/x.sock status|show history"; strings.Join(lines, "|") != want {
		t.Errorf("child saw %q, want %q", strings.Join(lines, "|"), want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lines := waitLines(t, log, 3); lines[len(lines)-1] != "eof" {
		t.Errorf("child did not read end of file: %q", lines)
	}
}

func TestKilledChildIsReplaced(t *testing.T) {
	exe, _ := fakeUI(t)
	l := New(Config{Exe: exe})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	if err := l.ShowWindow("orders"); err != nil {
		t.Fatal(err)
	}
	first := l.PID()
	p, _ := os.FindProcess(first)
	_ = p.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for l.PID() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.ShowWindow("settings"); err != nil {
		t.Fatal(err)
	}
	if second := l.PID(); second == 0 || second == first {
		t.Errorf("no new process after the first was killed (first %d, now %d)", first, second)
	}
}

func TestUnknownWindow(t *testing.T) {
	l := New(Config{Exe: "/bin/false"})
	if err := l.ShowWindow("kitchen"); !errors.Is(err, ErrUnknownWindow) {
		t.Errorf("err = %v", err)
	}
}
