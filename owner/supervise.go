package owner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// part is one long-lived piece of the owner. run blocks until ctx is done (and returns nil or
// context.Canceled) or the part fails.
type part struct {
	name string
	run  func(ctx context.Context) error
}

// supervise runs every part until ctx is done or one of them returns; then it cancels the rest
// and waits for them. It returns the first error. It blocks.
func supervise(ctx context.Context, log *slog.Logger, parts []part) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("part stopped", "part", p.name, "err", err)
				once.Do(func() { first = fmt.Errorf("%s: %w", p.name, err) })
			}
			cancel()
		}()
	}
	wg.Wait()
	return first
}

// cleanups are closers of what setup opened outside a part (a listener, the demo portal). A
// part closes its own when it stops; Run also runs these when it returns, so that a setup step
// failing after them leaves nothing open. Each closer must be safe to call after the part
// closed the same thing. Not safe for concurrent use: only setup adds, only Run runs.
type cleanups []func()

// add registers f to run when Run returns.
func (c *cleanups) add(f func()) { *c = append(*c, f) }

// run calls the closers, the latest first.
func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
	*c = nil
}
