//go:build !linux

package scraper

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

// browserProcAttr has no parent-death signal or process group to ask for here; close kills
// the browser and Sweep removes what a killed owner left.
func browserProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the browser process.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// killByArgument does nothing where /proc is not available; killGroup ends the browser. It
// reports true.
func killByArgument(string, time.Duration) bool { return true }

// eachProcess knows no processes where /proc is not available.
func eachProcess(func(pid int, cmdline []byte)) {}

// processesWith finds no processes where /proc is not available.
func processesWith([]byte) []int { return nil }

// processToken is this process's pid in base 36.
func processToken() string { return strconv.FormatInt(int64(os.Getpid()), 36) }

// browserGroup finds no group where process groups cannot be read.
func browserGroup(int) (int, string) { return 0, "" }

// groupMembers finds no members where process groups cannot be read.
func groupMembers(int, string) []int { return nil }

// killPID kills pid.
func killPID(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
