package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"worktray/control"
	"worktray/scheduler"
)

func cmdScrape(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	detach := fs.Bool("detach", false, "start the scrape and return at once instead of following it")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	c := e.owner()
	var stream *control.EventStream
	if !*detach {
		// Subscribe first, so that no event of the new run can be missed.
		var err error
		if stream, err = c.Events(ctx); err != nil {
			return err
		}
		defer stream.Close()
	}
	run, err := c.Scrape(ctx)
	switch {
	case errors.Is(err, scheduler.ErrAlreadyRunning):
		e.note("a scrape is already running (run %d, %s, started %s); following it", run.ID, run.Trigger, relative(run.Started, e.now()))
	case err != nil:
		return err
	case !e.json:
		fmt.Fprintf(e.io.Err, "scrape started (run %d)\n", run.ID)
	}
	if *detach {
		if e.json {
			writeJSON(e.io.Out, run)
		}
		return nil
	}
	final, err := e.follow(ctx, c, stream, run)
	if err != nil {
		return err
	}
	code := ClassExitCode(final)
	if e.json {
		writeJSON(e.io.Out, struct {
			Run      scheduler.Run `json:"run"`
			ExitCode int           `json:"exit_code"`
		}{final, code})
	} else {
		fmt.Fprintf(e.io.Out, "run %d: %s\n", final.ID, runSummary(final, e.now()))
	}
	if code != ExitOK {
		return exitWith(code, nil)
	}
	return nil
}

// follow shows the progress of run until it finishes and returns its final record. It reads
// the event stream and, in case events were lost, polls the run once a second.
func (e *env) follow(ctx context.Context, c *control.Client, stream *control.EventStream, run scheduler.Run) (scheduler.Run, error) {
	evc := make(chan control.StreamEvent)
	errc := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			ev, err := stream.Next()
			if err != nil {
				errc <- err
				return
			}
			select {
			case evc <- ev:
			case <-done:
				return
			}
		}
	}()
	view := newProgressView(e.io.Err, isTerminal(e.io.Err), e.json)
	defer view.close()
	if run.Status.Finished() {
		return run, nil
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	// check reads the run's record; an owner that stops answering ends the follow.
	var silent error
	check := func() (scheduler.Run, bool) {
		r, err := c.Run(ctx, run.ID)
		if errors.Is(err, control.ErrNotResponding) {
			silent = err
		}
		return r, err == nil && r.Status.Finished()
	}
	for {
		select {
		case ev := <-evc:
			if ev.Kind == control.EventDropped {
				if r, ok := check(); ok {
					return r, nil
				}
				if silent != nil {
					return run, silent
				}
				continue
			}
			if ev.Run == nil || ev.Run.ID != run.ID {
				continue
			}
			switch ev.Kind {
			case scheduler.EventRunProgress:
				if ev.Progress != nil {
					view.update(*ev.Progress)
				}
			case scheduler.EventRunFinished:
				return *ev.Run, nil
			}
		case <-poll.C:
			if r, ok := check(); ok {
				return r, nil
			}
			if silent != nil {
				return run, silent
			}
		case err := <-errc:
			if ctx.Err() != nil {
				return run, e.detached(run)
			}
			if errors.Is(err, control.ErrNotResponding) {
				return run, err
			}
			if r, ok := check(); ok {
				return r, nil
			}
			return run, exitWith(ExitInterrupted, fmt.Errorf("the worktray owner stopped during run %d (%v)", run.ID, err))
		case <-ctx.Done():
			return run, e.detached(run)
		}
	}
}

func (e *env) detached(run scheduler.Run) error {
	return exitWith(ExitDetached, fmt.Errorf("stopped following run %d; it goes on in the owner (`worktray cancel` stops it)", run.ID))
}

// progressView draws a run's progress: a bar redrawn in place on a terminal, a line per stage or
// page otherwise, nothing with --json.
type progressView struct {
	w     io.Writer
	tty   bool
	quiet bool
	last  string
	drawn bool
}

func newProgressView(w io.Writer, tty, quiet bool) *progressView {
	return &progressView{w: w, tty: tty, quiet: quiet}
}

func (v *progressView) update(p scheduler.Progress) {
	if v.quiet {
		return
	}
	if v.tty {
		fmt.Fprintf(v.w, "\r\033[K%s %3d%%  %s", bar(p.Percent, 24), p.Percent, progressLine(p))
		v.drawn = true
		return
	}
	key := fmt.Sprintf("%s/%d", p.Stage, p.Page)
	if key == v.last {
		return
	}
	v.last = key
	fmt.Fprintf(v.w, "%3d%% %s\n", p.Percent, progressLine(p))
}

func (v *progressView) close() {
	if v.drawn {
		fmt.Fprint(v.w, "\r\033[K")
	}
}
