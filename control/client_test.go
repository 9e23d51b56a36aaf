package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
)

// silentOwner listens on a control socket like an owner stopped with SIGSTOP: the kernel
// accepts connections, and nothing ever answers. With stream, it answers GET /api/events with
// the headers and then says nothing more.
func silentOwner(t *testing.T, stream bool) string {
	t.Helper()
	sock := filepath.Join(shortTempDir(t), "control.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if stream {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 4096)
					if _, err := c.Read(buf); err != nil {
						return
					}
					fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
				}()
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock
}

// TestSilentOwnerIsNotResponding: against an owner that accepts and never answers, every kind
// of call gives up with a *NotRespondingError naming the owner's pid (here this process, which
// holds the socket): a plain request, the event stream's opening, a long call (its pings go
// unanswered), and a stream whose owner falls silent after opening it.
func TestSilentOwnerIsNotResponding(t *testing.T) {
	sock := silentOwner(t, false)
	c := NewClient(sock)
	defer c.Close()
	c.RequestTimeout, c.PingInterval = 200*time.Millisecond, 50*time.Millisecond
	check := func(what string, err error) {
		t.Helper()
		var ne *NotRespondingError
		if !errors.Is(err, ErrNotResponding) || !errors.As(err, &ne) || ne.PID != os.Getpid() {
			t.Errorf("%s: %v, want not responding with pid %d", what, err, os.Getpid())
			return
		}
		if want := fmt.Sprintf("the worktray owner (pid %d) is not responding", os.Getpid()); err.Error() != want {
			t.Errorf("%s: message %q, want %q", what, err.Error(), want)
		}
	}
	ctx := context.Background() // the client's own deadlines must end every call
	_, err := c.Status(ctx)
	check("Status", err)
	_, err = c.Events(ctx)
	check("Events", err)
	_, err = c.Diagnose(ctx, false) // would wait two minutes for its answer
	check("Diagnose", err)
	_, err = c.Health(ctx)
	check("Health", err)

	streamSock := silentOwner(t, true)
	sc := NewClient(streamSock)
	defer sc.Close()
	sc.StreamTimeout = 200 * time.Millisecond
	s, err := sc.Events(ctx)
	if err != nil {
		t.Fatalf("Events on an owner that answers the headers: %v", err)
	}
	defer s.Close()
	_, err = s.Next()
	check("EventStream.Next", err)
}

// TestHeartbeatKeepsTheStreamAlive: an event stream with no event for many times the client's
// StreamTimeout stays open on the server's heartbeats and delivers the next event.
func TestHeartbeatKeepsTheStreamAlive(t *testing.T) {
	h := newHarness(t, Hooks{})
	// The timeout is ten heartbeats, so a loaded machine's scheduling delays do not end it.
	srv, err := NewServer(Config{Scheduler: h.svc, Store: h.db, Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(h.dir, "hb", "control.sock")
	l, err := Listen(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	c := NewClient(sock)
	defer c.Close()
	c.StreamTimeout = time.Second
	s, err := c.Events(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan error, 1)
	go func() {
		for {
			ev, err := s.Next()
			if err != nil || ev.Kind == scheduler.EventPaused {
				got <- err
				return
			}
		}
	}()
	// Quiet for three stream timeouts: only heartbeats flow.
	quiet := time.NewTimer(3 * c.StreamTimeout)
	select {
	case err := <-got:
		t.Fatalf("the quiet stream ended: %v", err)
	case <-quiet.C:
	}
	if _, err := h.client.Pause(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Next after a quiet spell: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pause event did not arrive")
	}
}

// TestNotRespondingIsNotACancel: a caller's cancel (Ctrl-C) is reported as a cancel, not as a
// silent owner.
func TestNotRespondingIsNotACancel(t *testing.T) {
	c := NewClient(silentOwner(t, false))
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Status(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotResponding) {
		t.Fatalf("canceled Status: %v, want context.Canceled", err)
	}
}

// TestBusyOwnerIsNotSilent: a long call that outlasts its deadline while the owner keeps
// answering the pings is a timeout, not "not responding".
func TestBusyOwnerIsNotSilent(t *testing.T) {
	h := newHarness(t, Hooks{Diagnostics: func(ctx context.Context) []Check {
		<-ctx.Done()
		return nil
	}})
	c := NewClient(h.socket)
	defer c.Close()
	c.PingInterval = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := c.Diagnose(ctx, false)
	if errors.Is(err, ErrNotResponding) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Diagnose on a busy owner: %v, want a timeout that is not ErrNotResponding", err)
	}
}
