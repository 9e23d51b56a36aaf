//go:build linux

package scraper

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// killGroup kills the browser's process group (the launcher starts it as a group leader).
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// killByArgument kills every process of ours whose command line contains arg (the browser's
// profile directory), so that no helper outlives a scrape, and waits up to two seconds for them
// to be gone.
func killByArgument(arg string) {
	needle := []byte(arg)
	for deadline := time.Now().Add(2 * time.Second); ; {
		pids := processesWith(needle)
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWith lists the processes whose command line contains needle.
func processesWith(needle []byte) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmd, needle) {
			continue
		}
		// A zombie has an empty command line, so one listed here is alive.
		pids = append(pids, pid)
	}
	return pids
}
