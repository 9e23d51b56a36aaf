//go:build linux && !wayland

package ui

/*
#cgo LDFLAGS: -lX11
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

// set_class_hint gives window win the WM_CLASS name/class, over a connection of its own.
static int set_class_hint(unsigned long win, char *name) {
	Display *d = XOpenDisplay(NULL);
	if (d == NULL) return 0;
	XClassHint hint;
	hint.res_name = name;
	hint.res_class = name;
	XSetClassHint(d, (Window)win, &hint);
	XFlush(d);
	XCloseDisplay(d);
	return 1;
}
*/
import "C"

import (
	"unsafe"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// WMClass is the X11 WM_CLASS of every worktray window, matching StartupWMClass in the
// package's worktray.desktop so the desktop groups the windows under worktray's menu entry.
// GLFW (under Fyne) would otherwise use each window's title.
const WMClass = "worktray"

// setWMClass sets win's WM_CLASS to WMClass. Call it on Fyne's main goroutine after
// win.Show(); it does nothing when the window is not an X11 window.
func setWMClass(win fyne.Window) {
	nw, ok := win.(driver.NativeWindow)
	if !ok {
		return
	}
	nw.RunNative(func(ctx any) {
		x, ok := ctx.(driver.X11WindowContext)
		if !ok || x.WindowHandle == 0 {
			return
		}
		name := C.CString(WMClass)
		defer C.free(unsafe.Pointer(name))
		C.set_class_hint(C.ulong(x.WindowHandle), name)
	})
}
