// Package launcher starts the windows process (`worktray ui`) for the owner, one at a time.
//
// The owner keeps the child's standard input as a command pipe: asking for a window while the
// child runs writes "show NAME" to it, and the child brings that window forward. When the owner
// stops it closes the pipe and the child, reading end of file, closes its windows and exits. A
// window process that crashes or is killed costs the owner nothing: the next request starts a
// new one.
package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// Windows lists the window names the windows process knows; "portal" is the settings window
// at its Portal tab.
var Windows = []string{"status", "history", "orders", "settings", "portal"}

// ErrUnknownWindow is returned for a window name not in Windows.
var ErrUnknownWindow = errors.New("unknown window")

// Config configures a Launcher.
type Config struct {
	// Exe is the worktray binary (os.Executable()).
	Exe string
	// Args are passed after `ui --from-owner` and before the window name (e.g. --socket PATH).
	Args []string
	// Env is added to the child's environment.
	Env []string
	// Output receives the child's standard output and error (default os.Stderr).
	Output io.Writer
	Log    *slog.Logger
}

// Launcher starts and remembers the windows process. It is safe for concurrent use.
type Launcher struct {
	cfg   Config
	mu    sync.Mutex
	child *child
	wg    sync.WaitGroup
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

// New returns a launcher; nothing starts until ShowWindow.
func New(cfg Config) *Launcher {
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Launcher{cfg: cfg}
}

// ShowWindow shows the named window: it asks the running windows process to bring it forward,
// or starts one. It does not wait for the window to appear.
func (l *Launcher) ShowWindow(name string) error {
	if !slices.Contains(Windows, name) {
		return fmt.Errorf("%w %q (want one of %v)", ErrUnknownWindow, name, Windows)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.child; c != nil {
		select {
		case <-c.done:
			l.child = nil
		default:
			if _, err := fmt.Fprintf(c.stdin, "show %s\n", name); err == nil {
				l.cfg.Log.Debug("window raised", "window", name, "pid", c.cmd.Process.Pid)
				return nil
			}
			// The child is exiting; start a new one.
			l.child = nil
		}
	}
	args := append([]string{"ui", "--from-owner"}, l.cfg.Args...)
	cmd := exec.Command(l.cfg.Exe, append(args, name)...)
	cmd.Env = append(os.Environ(), l.cfg.Env...)
	cmd.Stdout, cmd.Stderr = l.cfg.Output, l.cfg.Output
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("starting the windows process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the windows process: %w", err)
	}
	c := &child{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	l.child = c
	l.cfg.Log.Info("windows process started", "window", name, "pid", cmd.Process.Pid)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		err := cmd.Wait()
		close(c.done)
		l.cfg.Log.Info("windows process exited", "pid", cmd.Process.Pid, "status", exitStatus(err))
	}()
	return nil
}

// PID returns the process id of the running windows process, or 0.
func (l *Launcher) PID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.child == nil {
		return 0
	}
	select {
	case <-l.child.done:
		return 0
	default:
		return l.child.cmd.Process.Pid
	}
}

// Run waits for ctx and then ends the windows process: it closes the command pipe, which makes the
// child exit, and kills it if it has not exited after a few seconds. It blocks until the child
// is gone.
func (l *Launcher) Run(ctx context.Context) error {
	<-ctx.Done()
	l.mu.Lock()
	c := l.child
	l.child = nil
	l.mu.Unlock()
	if c != nil {
		_ = c.stdin.Close()
		select {
		case <-c.done:
		case <-time.After(3 * time.Second):
			_ = c.cmd.Process.Kill()
		}
	}
	l.wg.Wait()
	return nil
}

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}
