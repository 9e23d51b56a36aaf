package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeStaleSocket leaves a socket file at path with nothing listening, as an owner killed with
// -9 does.
func makeStaleSocket(t testing.TB, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatal(err)
	}
}

func TestListenPermissions(t *testing.T) {
	dir := shortTempDir(t)
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(runDir, "control.sock")
	l, err := Listen(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fi, _ := os.Stat(runDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %04o, want 0700", fi.Mode().Perm())
	}
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %v mode %v, want a socket with 0600", err, fi.Mode())
	}
	l.Close()
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("closing the listener left the socket file: %v", err)
	}
}

func TestListenRemovesStaleSocket(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "control.sock")
	makeStaleSocket(t, sock)
	l, err := Listen(sock, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("the new socket does not answer: %v", err)
	}
	c.Close()
}

func TestListenRefusesLiveSocket(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "control.sock")
	live, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if l, err := Listen(sock, nil); !errors.Is(err, ErrSocketInUse) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Listen over a live socket: %v, want ErrSocketInUse", err)
	}
	if c, err := net.Dial("unix", sock); err != nil {
		t.Errorf("the live socket was removed: %v", err)
	} else {
		c.Close()
	}
}

func TestListenRefusesAFile(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "control.sock")
	if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := Listen(path, nil); err == nil {
		l.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "mine" {
		t.Error("the file was changed")
	}
}

// TestPeerListener checks the SO_PEERCRED check in isolation: a listener that allows another
// user id refuses this process's connections, and one that allows this user id accepts them and
// knows the peer's pid.
func TestPeerListener(t *testing.T) {
	for _, tc := range []struct {
		name  string
		uid   uint32
		allow bool
	}{
		{"other uid refused", uint32(os.Getuid()) + 1, false},
		{"same uid accepted", uint32(os.Getuid()), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(shortTempDir(t), "s.sock")
			raw, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			pl := newPeerListener(raw, tc.uid, slog.New(slog.DiscardHandler))
			accepted := make(chan net.Conn, 1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := pl.Accept()
				if err == nil {
					accepted <- c
				}
			}()
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if tc.allow {
				sc := <-accepted
				cred, err := PeerCred(sc)
				if err != nil || int(cred.Pid) != os.Getpid() || int(cred.Uid) != os.Getuid() {
					t.Errorf("PeerCred = %+v, %v", cred, err)
				}
				sc.Close()
			} else {
				// The server closes the connection without a word.
				if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Errorf("read from a refused connection: %d, %v; want EOF", n, err)
				}
				select {
				case sc := <-accepted:
					sc.Close()
					t.Error("Accept returned a connection from another uid")
				default:
				}
			}
			pl.Close()
			<-done
		})
	}
}

// helperEnv makes the test binary act as a client of the socket it names (see peerHelper).
const helperEnv = "WORKTRAY_CONTROL_PEER_HELPER"

// peerHelper asks for the status over the socket in $WORKTRAY_CONTROL_PEER_HELPER and exits 0 when
// it was answered, 3 when the connection was refused or closed.
func peerHelper() int {
	c := NewClient(os.Getenv(helperEnv))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := c.Status(ctx)
	fmt.Printf("uid %d: %v\n", os.Getuid(), err)
	if err != nil {
		return 3
	}
	return 0
}

// TestAnotherUserIsRefused runs a client as another user (nobody) against a server whose socket
// file is world-writable, so that only the peer-credential check stands between them; and against
// the real Listen, whose 0700 directory already keeps the other user out. It needs root.
func TestAnotherUserIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	const nobody = 65534
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The test binary must be readable by the other user.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Hooks{})
	serve := func(l net.Listener) func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = h.srv.Serve(ctx, l) }()
		return func() { cancel(); <-done }
	}
	asUser := func(uid uint32, sock string) (int, string) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), helperEnv+"="+sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return xe.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("running the helper: %v", err)
		}
		return 0, string(out)
	}

	// A world-writable socket: only SO_PEERCRED refuses the other user.
	open := filepath.Join(dir, "open.sock")
	raw, err := net.Listen("unix", open)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o666); err != nil {
		t.Fatal(err)
	}
	stop := serve(newPeerListener(raw, uint32(os.Getuid()), slog.New(slog.DiscardHandler)))
	if code, out := asUser(nobody, open); code != 3 {
		t.Errorf("another user was answered (exit %d): %s", code, out)
	}
	if code, out := asUser(uint32(os.Getuid()), open); code != 0 {
		t.Errorf("the same user was refused (exit %d): %s", code, out)
	}
	stop()

	// The owner's socket: the 0700 directory refuses the other user before the check does.
	if code, out := asUser(nobody, h.socket); code != 3 || !strings.Contains(out, "uid 65534") {
		t.Errorf("another user reached the owner's socket (exit %d): %s", code, out)
	}
}

// TestDialOwnerChecksThePeer checks the client's SO_PEERCRED check in isolation: a socket served
// by another user id than the one expected is refused, closed before a byte is written, with an
// error naming the socket; the expected user id is accepted.
func TestDialOwnerChecksThePeer(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan []byte, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			received <- b
		}
	}()
	defer func() { l.Close(); <-done }()

	c, err := dialOwner(ctxT(t), sock, os.Getuid()+1)
	if c != nil {
		c.Close()
	}
	if !errors.Is(err, ErrForeignSocket) || !strings.Contains(err.Error(), sock) {
		t.Errorf("dialOwner to a socket of another user id: %v; want ErrForeignSocket naming %s", err, sock)
	}
	if b := <-received; len(b) != 0 {
		t.Errorf("the refused server received %q", b)
	}

	c, err = dialOwner(ctxT(t), sock, os.Getuid())
	if err != nil {
		t.Fatalf("dialOwner to this user's socket: %v", err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if b := <-received; string(b) != "hello" {
		t.Errorf("the server received %q, want hello", b)
	}
}

// squatterEnv makes the test binary serve a fake owner on the socket it names (see squatter).
const squatterEnv = "WORKTRAY_CONTROL_SQUATTER"

// squatter serves a world-writable socket at $WORKTRAY_CONTROL_SQUATTER that answers every
// request with {} and prints the path of each, as a process of another user waiting for a
// client's secrets would. It prints "ready" once listening and exits when stdin closes.
func squatter() int {
	path := os.Getenv(squatterEnv)
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer l.Close()
	if err := os.Chmod(path, 0o666); err != nil {
		fmt.Println(err)
		return 1
	}
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Printf("request %s %s\n", r.Method, r.URL.Path)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		}))
	}()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestClientRefusesASocketOfAnotherUser runs a fake owner as another user (nobody) on a
// world-writable socket and checks that the client sends it nothing. It needs root.
func TestClientRefusesASocketOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	const nobody = 65534
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sockDir := filepath.Join(dir, "run")
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sockDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sockDir, "control.sock")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), squatterEnv+"="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case l := <-lines:
		if l != "ready" {
			t.Fatalf("the squatter: %s", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the squatter did not start")
	}

	c := NewClient(sock)
	_, err = c.SetPortal(ctxT(t), PortalInput{Password: new("hunter2")})
	c.Close()
	if !errors.Is(err, ErrForeignSocket) || !strings.Contains(err.Error(), sock) || !strings.Contains(err.Error(), "65534") {
		t.Errorf("SetPortal through another user's socket: %v; want ErrForeignSocket naming %s and the user id", err, sock)
	}
	stdin.Close()
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the squatter: %v", err)
	}
	if len(got) > 0 {
		t.Errorf("the other user's process received requests: %q", got)
	}
}
