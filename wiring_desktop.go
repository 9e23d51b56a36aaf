package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

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
	if o.opts.headless {
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
	o.tray = t
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
	if o.opts.headless {
		return nil
	}
	return func(name string) error {
		if o.windows == nil {
			return control.ErrNoWindows
		}
		return o.windows.ShowWindow(name)
	}
}

// runUI runs `worktray ui [status|history|orders|settings]` by handing over to the worktray-ui
// binary beside this one (exec: same process id, same standard input, so the owner's command pipe
// reaches it). The windows are a binary of their own so that the owner does not link Fyne, whose
// package initialisation alone doubles the owner's idle memory.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	bin, err := uiBinary()
	if err != nil {
		fmt.Fprintln(stderr, "worktray ui:", err)
		return 1
	}
	self, _ := os.Executable()
	env := append(os.Environ(), "WORKTRAY_BINARY="+self) // ui.EnvOwnerBinary; main must not import Fyne
	err = syscall.Exec(bin, append([]string{bin}, args...), env)
	fmt.Fprintf(stderr, "worktray ui: starting %s: %v\n", bin, err)
	return 1
}

// uiBinary finds worktray-ui: $WORKTRAY_UI_BINARY, else beside this binary, else on $PATH.
func uiBinary() (string, error) {
	if p := os.Getenv("WORKTRAY_UI_BINARY"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "worktray-ui")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("worktray-ui"); err == nil {
		return p, nil
	}
	return "", errors.New("the windows binary worktray-ui is not installed beside worktray (build it with `make build`)")
}
