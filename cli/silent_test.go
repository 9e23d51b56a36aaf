package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cliWithin runs the binary like cli, killing it when it has not ended within d (the test's
// deadline for a command that must give up by itself). It reports failures with t.Error, so it
// may run in a goroutine.
func cliWithin(t testing.TB, d time.Duration, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := wtCommand(append(args, "--data-dir", dir)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return result{code: -1}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("`worktray %v` did not give up within %v:\n%s%s", args, d, out.String(), errb.String())
		return result{code: -1, stdout: out.String(), stderr: errb.String()}
	}
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Error(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestSilentOwner stops a real owner with SIGSTOP: `status`, `scrape`, `diagnose` and a
// settings write each give up by themselves within 10 s, saying "the worktray owner (pid N) is
// not responding" with exit code 7. After SIGCONT the owner answers again.
func TestSilentOwner(t *testing.T) {
	dir := shortTempDir(t)
	o := startOwner(t, dir)
	pid := o.cmd.Process.Pid
	if err := o.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the owner is continued before it is stopped with SIGTERM.
	t.Cleanup(func() { _ = o.cmd.Process.Signal(syscall.SIGCONT) })
	msg := fmt.Sprintf("the worktray owner (pid %d) is not responding", pid)
	// All at once: each must give up by itself within the 10 s.
	lines := [][]string{{"status"}, {"scrape"}, {"diagnose"}, {"schedule", "set", "--minute", "5"}, {"status", "--json"}}
	results := make([]result, len(lines))
	var wg sync.WaitGroup
	for i, args := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = cliWithin(t, 10*time.Second, dir, args...)
		}()
	}
	wg.Wait()
	for _, r := range results {
		expect(t, r, ExitNotResponding, msg)
	}
	if err := o.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	expect(t, cliWithin(t, 10*time.Second, dir, "schedule", "show"), ExitOK, "Schedule:")
}

// TestGivenUpCommandsNotApplied: commands a client gave up on while the owner was stopped
// (SIGSTOP) are not applied when the owner continues: the owner refuses each as past its
// client's deadline. Pause and a schedule write sent while stopped leave the owner running its
// schedule unchanged, and a backup sent while stopped writes nothing; after a real pause, a resume sent while stopped leaves it paused.
func TestGivenUpCommandsNotApplied(t *testing.T) {
	dir := shortTempDir(t)
	o := startOwner(t, dir)
	t.Cleanup(func() { _ = o.cmd.Process.Signal(syscall.SIGCONT) })
	before := cli(t, dir, "", "schedule", "show", "--json")
	expect(t, before, ExitOK)

	// givenUp stops the owner, runs each command until it gives up (exit 7), continues the
	// owner and waits until it has refused them all.
	refused := 0
	givenUp := func(lines ...[]string) {
		t.Helper()
		if err := o.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		for _, args := range lines {
			expect(t, cliWithin(t, 10*time.Second, dir, args...), ExitNotResponding, "is not responding")
		}
		if err := o.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		refused += len(lines)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			n := strings.Count(o.stderr.String(), "its client's deadline had passed")
			if n >= refused {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the owner refused %d of %d late commands:\n%s", n, refused, o.stderr)
			}
		}
	}

	backup := filepath.Join(dir, "given-up.db")
	givenUp([]string{"pause"}, []string{"schedule", "set", "--minute", "37"}, []string{"backup", backup})
	if _, err := os.Stat(backup); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a backup given up on was written: %v", err)
	}
	st := cli(t, dir, "", "status", "--json")
	if strings.Contains(st.stdout, `"paused": true`) {
		t.Fatalf("a pause given up on was applied:\n%s", st.stdout)
	}
	if after := cli(t, dir, "", "schedule", "show", "--json"); after.stdout != before.stdout {
		t.Fatalf("a schedule write given up on was applied:\nbefore %s\nafter %s", before.stdout, after.stdout)
	}

	expect(t, cli(t, dir, "", "pause"), ExitOK)
	givenUp([]string{"resume"})
	if st := cli(t, dir, "", "status", "--json"); !strings.Contains(st.stdout, `"paused": true`) {
		t.Fatalf("a resume given up on was applied:\n%s", st.stdout)
	}
}
