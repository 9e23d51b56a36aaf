package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Listen creates the control socket at path and returns a listener that accepts only
// connections from this process's user id. The directory is created (or tightened) to 0700 and
// must belong to this user; the socket is 0600.
//
// Only the owner calls Listen, and only while it holds the store's lock: whatever socket file
// is already at path was then left behind by an owner that died (killed with -9), and it is
// removed. As a safeguard, a socket that still answers is not removed and ErrSocketInUse is
// returned. Listen does not block.
func Listen(path string, log *slog.Logger) (net.Listener, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("control socket: creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("control socket: securing %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return nil, fmt.Errorf("control socket: %s belongs to user id %d, not to this user (%d)", dir, st.Uid, os.Getuid())
	}
	if err := removeStale(path, log); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	// The directory is 0700, so nobody else could reach the socket between its creation and
	// this chmod.
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("control socket: securing %s: %w", path, err)
	}
	return newPeerListener(l, uint32(os.Getuid()), log), nil
}

// removeStale removes a socket file left by a dead owner.
func removeStale(path string, log *slog.Logger) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control socket: %s exists and is not a socket; move it away", path)
	}
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	if c, err := d.DialContext(context.Background(), "unix", path); err == nil {
		_ = c.Close()
		return fmt.Errorf("control socket %s: %w", path, ErrSocketInUse)
	}
	log.Warn("removing a stale control socket left by an owner that stopped without cleaning up", "socket", path)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket: removing the stale %s: %w", path, err)
	}
	return nil
}

// peerListener accepts only connections whose peer runs as uid; it closes the others. The peer's
// credentials travel with the connection (see PeerCred).
type peerListener struct {
	net.Listener
	uid uint32
	log *slog.Logger
}

func newPeerListener(l net.Listener, uid uint32, log *slog.Logger) *peerListener {
	return &peerListener{Listener: l, uid: uid, log: log}
}

// Accept blocks until a connection from the allowed user id arrives, and returns it. A
// connection from another user, or whose credentials cannot be read, is closed and logged.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cred, err := PeerCred(c)
		if err == nil && cred.Uid == l.uid {
			return &peerConn{Conn: c, cred: *cred}, nil
		}
		if err != nil {
			l.log.Warn("control socket: refused a connection whose credentials cannot be read", "err", err)
		} else {
			l.log.Warn("control socket: refused a connection from another user", "uid", cred.Uid, "pid", cred.Pid)
		}
		_ = c.Close()
	}
}

// peerConn is an accepted connection with its peer's credentials.
type peerConn struct {
	net.Conn
	cred unix.Ucred
}

// PeerCred returns the credentials (pid, uid, gid) of the process at the other end of a unix
// socket connection, read with SO_PEERCRED. It does not block.
func PeerCred(c net.Conn) (*unix.Ucred, error) {
	if pc, ok := c.(*peerConn); ok {
		cred := pc.cred
		return &cred, nil
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("peer credentials: %T is not a socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		cred *unix.Ucred
		gerr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	if gerr != nil {
		return nil, fmt.Errorf("peer credentials: %w", gerr)
	}
	return cred, nil
}

// peerKey is the context key of the peer's credentials in a request's context.
type peerKey struct{}

// connContext puts the peer's credentials into the request context, for logging.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*peerConn); ok {
		return context.WithValue(ctx, peerKey{}, pc.cred)
	}
	return ctx
}

// peerFrom returns the credentials connContext stored, if any.
func peerFrom(ctx context.Context) (unix.Ucred, bool) {
	c, ok := ctx.Value(peerKey{}).(unix.Ucred)
	return c, ok
}

// ListenHealth listens for the health endpoint on addr, which must be a loopback address
// (127.0.0.0/8, ::1 or localhost): the endpoint has no authentication. A non-loopback address is
// refused with an error naming it. It does not block.
func ListenHealth(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--health-addr %q: %w (want 127.0.0.1:PORT)", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("--health-addr %q: only a loopback address (127.0.0.1, ::1, localhost) is allowed; the health endpoint has no authentication", addr)
		}
	}
	network := "tcp"
	if host == "localhost" {
		network = "tcp4"
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("--health-addr: %w", err)
	}
	return l, nil
}
