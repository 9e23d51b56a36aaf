package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"worktray/cli"
	"worktray/control"
	"worktray/paths"
)

// This file wires the control socket, the health endpoint and the CLI (issue 4).

// secondLaunch handles a launch while another owner holds the store. A plain `worktray` (with a
// desktop) asks the owner to show its status window and succeeds; `run --headless` (or a launch
// without a desktop, which runs headless) fails saying which process owns worktray.
func secondLaunch(ctx context.Context, opts ownerOptions, p paths.Paths, lockErr error) error {
	c := control.NewClient(p.Socket)
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
	if opts.headless {
		return fmt.Errorf("worktray is already running (pid %d); `worktray status` shows it", pid)
	}
	switch err := c.ShowWindow(ctx, "status"); {
	case err == nil:
		fmt.Fprintf(os.Stderr, "worktray is already running (pid %d); showing its status window\n", pid)
		return nil
	case errors.Is(err, control.ErrNoWindows):
		fmt.Fprintf(os.Stderr, "worktray is already running headless (pid %d) and has no window to show; `worktray status` shows its state\n", pid)
		return nil
	default:
		return fmt.Errorf("worktray is already running (pid %d), but it could not show its window: %w", pid, err)
	}
}

// controlParts returns the control server and the health endpoint.
func (o *owner) controlParts(ctx context.Context) ([]part, error) {
	srv, err := control.NewServer(control.Config{
		Scheduler: o.svc,
		Store:     o.db,
		Logger:    o.log,
		Owner: control.OwnerInfo{
			PID: os.Getpid(), Started: time.Now().UTC(), Headless: o.opts.headless, Demo: o.opts.demo,
			DataDir: o.paths.DataDir, LogDir: o.paths.LogDir, Socket: o.paths.Socket,
		},
		Hooks: o.hooks(),
	})
	if err != nil {
		return nil, err
	}
	var hl interface{ Close() error }
	var parts []part
	if o.opts.healthAddr != "" {
		l, err := control.ListenHealth(o.opts.healthAddr)
		if err != nil {
			return nil, err
		}
		hl = l
		parts = append(parts, part{"health endpoint", func(ctx context.Context) error { return srv.ServeHealth(ctx, l) }})
	}
	l, err := control.Listen(o.paths.Socket, o.log)
	if err != nil {
		if hl != nil {
			_ = hl.Close()
		}
		return nil, err
	}
	parts = append(parts, part{"control socket", func(ctx context.Context) error { return srv.Serve(ctx, l) }})
	return parts, nil
}

// runClientCommand runs a command that talks to the owner.
func runClientCommand(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	if !cli.Known(cmd) {
		fmt.Fprintf(stderr, "worktray: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return cli.Main(ctx, cmd, args, cli.IO{In: os.Stdin, Out: stdout, Err: stderr, LocalDiagnostics: localDiagnostics})
}
