package owner

import (
	"context"
	"fmt"
	"os"
	"sync"

	"worktray/app/launcher"
	"worktray/app/tray"
	"worktray/control"
)

// This file wires the tray and the windows process (issue 5).
//
// The owner shows the tray with fyne.io/systray directly (package tray) and starts the Fyne
// windows in a `worktray ui` child process on demand (package launcher): one child at a time,
// whose standard input is the owner's command pipe ("show NAME" brings a window forward; end of
// file makes it exit). The control API's ShowWindow hook (a second launch, `worktray ui NAME`
// from a terminal) goes through the same launcher.

// desktopParts returns the tray and the windows launcher (none when headless).
func (o *owner) desktopParts(ctx context.Context) ([]part, error) {
	if o.opts.Headless {
		return nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the worktray binary for the windows process: %w", err)
	}
	o.windows = launcher.New(launcher.Config{
		Exe:  exe,
		Args: []string{"--socket", o.paths.Socket, "--data-dir-path", o.paths.DataDir, "--log-dir-path", o.paths.LogDir},
		Log:  o.log.With("part", "windows"),
	})
	// Quit in the tray menu ends the tray's part, and a part that returns stops the owner.
	quit := make(chan struct{})
	var quitOnce sync.Once
	t, err := tray.New(tray.Config{
		Scheduler:  o.svc,
		ShowWindow: o.windows.ShowWindow,
		Quit:       func() { quitOnce.Do(func() { close(quit) }) },
		Log:        o.log.With("part", "tray"),
		PortalSetUp: func() (bool, error) {
			ps, err := o.portalSettings()
			return ps.URL != "", err
		},
	})
	if err != nil {
		return nil, err
	}
	return []part{
		{"windows", o.windows.Run},
		{"tray", func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-quit:
					cancel()
				case <-ctx.Done():
				}
			}()
			return t.Run(ctx)
		}},
	}, nil
}

// windowHook is the control API's ShowWindow hook: nil for a headless owner, which has no windows.
func (o *owner) windowHook() func(name string) error {
	if o.opts.Headless {
		return nil
	}
	return func(name string) error {
		if o.windows == nil {
			return control.ErrNoWindows
		}
		return o.windows.ShowWindow(name)
	}
}
