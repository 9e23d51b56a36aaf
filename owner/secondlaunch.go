package owner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"worktray/control"
)

// secondLaunch handles a launch while another owner holds the store (lockErr says so). A plain
// `worktray` (with a desktop) asks the owner to show its status window and succeeds; `run
// --headless` (or a launch without a desktop, which runs headless) fails saying which process
// owns worktray. It blocks for at most a few seconds while a starting owner opens its socket.
func secondLaunch(ctx context.Context, opts Options, lockErr error) error {
	c := control.NewClient(opts.Paths.Socket)
	defer c.Close()
	// The owner opens the store before it listens on the socket: give a starting owner a moment.
	var (
		st  control.Status
		err error
	)
	deadline := time.Now().Add(3 * time.Second)
	for {
		st, err = c.Status(ctx)
		if err == nil || !errors.Is(err, control.ErrNoOwner) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%w, but its control socket does not answer: %v", lockErr, err)
	}
	pid := 0
	if st.Owner != nil {
		pid = st.Owner.PID
	}
	if opts.Headless {
		return fmt.Errorf("worktray is already running (pid %d); `worktray status` shows it", pid)
	}
	switch err := c.ShowWindow(ctx, "status"); {
	case err == nil:
		fmt.Fprintf(opts.Stderr, "worktray is already running (pid %d); showing its status window\n", pid)
		return nil
	case errors.Is(err, control.ErrNoWindows):
		fmt.Fprintf(opts.Stderr, "worktray is already running headless (pid %d) and has no window to show; `worktray status` shows its state\n", pid)
		return nil
	default:
		return fmt.Errorf("worktray is already running (pid %d), but it could not show its window: %w", pid, err)
	}
}
