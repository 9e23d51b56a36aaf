package owner

import (
	"context"
	"os"
	"time"
	"worktray/calendar"

	"worktray/control"
)

// controlParts returns the control server on the control socket and, with Options.HealthAddr,
// the health endpoint. Both listeners are also closed when Run returns, so that a later setup
// step failing does not leave them open.
func (o *owner) controlParts(context.Context) ([]part, error) {
	srv, err := control.NewServer(control.Config{
		Scheduler: o.svc,
		Store:     o.db,
		Logger:    o.log,
		Owner: control.OwnerInfo{
			PID: os.Getpid(), Started: time.Now().UTC(), Headless: o.opts.Headless, Demo: o.opts.Demo,
			DataDir: o.paths.DataDir, LogDir: o.paths.LogDir, Socket: o.paths.Socket,
			VisitsFile: calendar.Path(o.paths.DB),
		},
		Hooks: o.hooks(),
	})
	if err != nil {
		return nil, err
	}
	l, err := control.Listen(o.paths.Socket, o.log)
	if err != nil {
		return nil, err
	}
	o.cleanup.add(func() { _ = l.Close() })
	parts := []part{{"control socket", func(ctx context.Context) error { return srv.Serve(ctx, l) }}}
	if o.opts.HealthAddr != "" {
		hl, err := control.ListenHealth(o.opts.HealthAddr)
		if err != nil {
			return nil, err
		}
		o.cleanup.add(func() { _ = hl.Close() })
		parts = append(parts, part{"health endpoint", func(ctx context.Context) error { return srv.ServeHealth(ctx, hl) }})
	}
	return parts, nil
}
