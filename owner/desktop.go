package owner

import (
	"context"
	"fmt"
	"os"

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
	return []part{
		{"windows", o.windows.Run},
		{"tray", func(ctx context.Context) error {
			// Quit in the tray menu ends this part, and a part that returns stops the owner.
			ctx, quit := context.WithCancel(ctx)
			defer quit()
			t, err := tray.New(tray.Config{
				Scheduler:  o.svc,
				ShowWindow: o.windows.ShowWindow,
				Quit:       quit,
				Log:        o.log.With("part", "tray"),
			})
			if err != nil {
				return err
			}
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
