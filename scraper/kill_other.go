//go:build !linux

package scraper

import "os"

// killGroup kills the browser process.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// killByArgument does nothing where /proc is not available; killGroup and the launcher's
// cleanup end the browser.
func killByArgument(string) {}
