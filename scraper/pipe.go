package scraper

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
)

// errPipeClosed is what the DevTools pipe answers once it was closed on our side.
var errPipeClosed = errors.New("the browser's DevTools pipe is closed")

// pipeConn is a DevTools connection over the two pipes of `--remote-debugging-pipe`: the browser
// reads commands from its fd 3 and writes replies and events to its fd 4, each message a JSON
// text ended by a NUL byte. It implements cdp.WebSocketable, so rod's CDP client runs over it
// and the browser opens no TCP port at all.
//
// Send is safe for concurrent use; Read is called by one goroutine (the CDP client's reader).
// Once Read has failed (the browser closed its end, it died, or Close was called), Send fails
// with the same error.
type pipeConn struct {
	w *os.File      // our end of the browser's fd 3
	r *os.File      // our end of the browser's fd 4
	b *bufio.Reader // over r

	mu     sync.Mutex // serialises writes: a message must not interleave with another
	failMu sync.Mutex
	failed error         // the first Read error
	done   chan struct{} // closed when Read first failed
}

// newPipeConn wraps our two ends of the browser's pipes.
func newPipeConn(w, r *os.File) *pipeConn {
	return &pipeConn{w: w, r: r, b: bufio.NewReaderSize(r, 64<<10), done: make(chan struct{})}
}

// Send writes one message. It blocks while the pipe is full (the browser reads it as it goes).
func (c *pipeConn) Send(msg []byte) error {
	if err := c.err(); err != nil {
		return err
	}
	buf := make([]byte, len(msg)+1)
	copy(buf, msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(buf); err != nil {
		return fmt.Errorf("writing to the browser's DevTools pipe: %w", err)
	}
	return nil
}

// Read returns the next message without its NUL. It blocks until one arrives or the pipe ends.
func (c *pipeConn) Read() ([]byte, error) {
	msg, err := c.b.ReadBytes(0)
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = errPipeClosed
		} else {
			err = fmt.Errorf("reading the browser's DevTools pipe: %w", err)
		}
		c.fail(err)
		return nil, err
	}
	return msg[:len(msg)-1], nil
}

func (c *pipeConn) fail(err error) {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	if c.failed == nil {
		c.failed = err
		close(c.done)
	}
}

func (c *pipeConn) err() error {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	return c.failed
}

// Done is closed when the pipe has ended: the browser closed it or died, or Close was called.
func (c *pipeConn) Done() <-chan struct{} { return c.done }

// Close closes our ends of both pipes; a blocked Read returns. It may be called more than once.
func (c *pipeConn) Close() {
	c.fail(errPipeClosed)
	_ = c.w.Close()
	_ = c.r.Close()
}
