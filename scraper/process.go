package scraper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// browserProcess is one Chromium started by a run: its own process group, talking DevTools over
// two pipes (pipeConn), its profile directory (with its TMPDIR inside) and a tail of its stderr.
// Its methods are safe for concurrent use.
type browserProcess struct {
	pid  int
	dir  string // the profile directory, --user-data-dir
	conn *pipeConn

	exited chan struct{} // closed when the browser's main process has exited and was reaped
	state  *os.ProcessState

	stderrR    *os.File
	stderrDone chan struct{}
	tailMu     sync.Mutex
	tail       []byte // the last stderrTail bytes the browser wrote
}

// stderrTail is how much of the browser's stderr is kept for the log.
const stderrTail = 4 << 10

// startBrowser starts bin with args (which must include --remote-debugging-pipe and
// --user-data-dir=dir) with TMPDIR inside dir (see browserTempDir), so that what Chromium puts
// in its temporary directory (org.chromium.Chromium.*) goes with the profile.
//
// The browser gets the parent-death signal SIGKILL and a process group of its own. Linux sends
// the parent-death signal when the thread that forked the child exits, not the process
// (golang/go#27505), so the browser is started from a goroutine that holds its OS thread locked
// for the browser's whole life; that goroutine also reaps the browser. startBrowser blocks
// only until the process started.
func startBrowser(bin string, args []string, dir string) (*browserProcess, error) {
	env := os.Environ()
	if tmp := browserTempDir(dir); tmp != "" {
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return nil, fmt.Errorf("creating the browser's temporary directory: %w", err)
		}
		env = withEnv(env, "TMPDIR", tmp)
	}
	// cmdR is the browser's fd 3 (commands to it), replyW its fd 4 (replies and events).
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	replyR, replyW, err := os.Pipe()
	if err != nil {
		closeAll(cmdR, cmdW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(cmdR, cmdW, replyR, replyW)
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{cmdR, replyW}
	cmd.SysProcAttr = browserProcAttr()

	p := &browserProcess{dir: dir, exited: make(chan struct{}), stderrR: errR, stderrDone: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Locked and never unlocked: the thread lives until the browser was reaped, and ends
		// with this goroutine.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	err = <-started
	// The browser holds its own copies of its ends now.
	closeAll(cmdR, replyW, errW)
	if err != nil {
		closeAll(cmdW, replyR, errR)
		return nil, err
	}
	p.pid = cmd.Process.Pid
	p.conn = newPipeConn(cmdW, replyR)
	go p.readStderr()
	return p, nil
}

// readStderr keeps the tail of the browser's stderr until every process holding it is gone or
// close closes our end.
func (p *browserProcess) readStderr() {
	defer close(p.stderrDone)
	buf := make([]byte, 4096)
	for {
		n, err := p.stderrR.Read(buf)
		if n > 0 {
			p.tailMu.Lock()
			p.tail = append(p.tail, buf[:n]...)
			if len(p.tail) > stderrTail {
				p.tail = append([]byte(nil), p.tail[len(p.tail)-stderrTail:]...)
			}
			p.tailMu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// stderr returns the last lines the browser wrote to its stderr.
func (p *browserProcess) stderr() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	return strings.TrimSpace(string(p.tail))
}

// hasExited reports whether the browser's main process has exited.
func (p *browserProcess) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitDescription says how the browser's main process ended, e.g. "signal: killed"; empty
// while it runs.
func (p *browserProcess) exitDescription() string {
	if !p.hasExited() {
		return ""
	}
	return p.state.String()
}

// kill kills the browser's process group and every process using its profile directory, closes
// the pipes and waits up to limit for the main process to be reaped and for its helpers to be
// gone. It reports whether all of them went in time.
func (p *browserProcess) kill(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	killGroup(p.pid)
	p.conn.Close()
	ok := true
	select {
	case <-p.exited:
	case <-time.After(time.Until(deadline)):
		ok = false
	}
	// Helpers that left the group (none should) are found by their command line.
	if !killByArgument(p.dir, time.Until(deadline)) {
		ok = false
	}
	_ = p.stderrR.Close()
	<-p.stderrDone
	return ok
}

// maxSocketPath is the longest path a unix socket may have on Linux (sun_path less its NUL).
const maxSocketPath = 107

// chromiumSocketTail is what Chromium appends to its TMPDIR for its singleton socket.
const chromiumSocketTail = "/org.chromium.Chromium.XXXXXX/SingletonSocket"

// browserTempDir returns the TMPDIR for the browser of profile directory dir: "t" inside it,
// or "" (the system's TMPDIR) when Chromium's singleton socket would not fit a unix socket's
// path there; then removeProfileDir removes the directory Chromium makes for it.
func browserTempDir(dir string) string {
	tmp := filepath.Join(dir, "t")
	if len(tmp)+len(chromiumSocketTail) > maxSocketPath {
		return ""
	}
	return tmp
}

// withEnv returns env with key set to value.
func withEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

func closeAll(fs ...io.Closer) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// errBrowserLost is the cause of a run's context when its browser failed under it: the process
// exited, the DevTools pipe closed, or a page crashed. Errors wrapping it are browser_failed.
var errBrowserLost = errors.New("the browser failed")

// browserLostError says how the browser failed.
type browserLostError struct{ what string }

func (e *browserLostError) Error() string { return e.what }
func (e *browserLostError) Unwrap() error { return errBrowserLost }
