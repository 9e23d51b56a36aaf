//go:build !linux || wayland

package ui

import "fyne.io/fyne/v2"

// WMClass is the X11 WM_CLASS of every worktray window (X11 only).
const WMClass = "worktray"

// setWMClass is an X11 matter; elsewhere the desktop finds windows by other means.
func setWMClass(fyne.Window) {}
