//go:build linux

package scraper

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// browserProcAttr makes the browser the leader of a process group of its own (killGroup ends
// it and its helpers at once) and has the kernel kill it when the thread that started it ends.
func browserProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup kills the browser's process group (startBrowser makes the browser its leader).
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// killByArgument kills every process whose command line contains arg (a browser's profile
// directory), so that no helper outlives a scrape, and waits up to limit for them to be gone.
// It reports whether none is left.
func killByArgument(arg string, limit time.Duration) bool {
	needle := []byte(arg)
	for deadline := time.Now().Add(limit); ; {
		pids := processesWith(needle)
		if len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWith lists the live processes (not this one) whose command line contains needle.
func processesWith(needle []byte) []int {
	var pids []int
	eachProcess(func(pid int, cmdline []byte) {
		if bytes.Contains(cmdline, needle) {
			pids = append(pids, pid)
		}
	})
	return pids
}

// eachProcess calls fn with every other live process and its command line (arguments separated
// by NUL). A zombie has an empty command line and is skipped.
func eachProcess(fn func(pid int, cmdline []byte)) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(cmd) == 0 {
			continue
		}
		fn(pid, cmd)
	}
}

// processToken names this process among all that ever ran on the machine since boot: its pid
// and its start time in clock ticks (field 22 of /proc/self/stat), both in base 36, so that a
// reused pid is not taken for this process.
func processToken() string {
	pid := strconv.FormatInt(int64(os.Getpid()), 36)
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return pid
	}
	// The fields after the command name (which may hold spaces) start at field 3.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return pid
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return pid
	}
	return pid + "." + strconv.FormatUint(start, 36)
}

// browserGroup returns pid's process group and executable when that group belongs to a
// browser: every member runs an executable from the directory of pid's (a browser started by
// worktray or rod leads a group of its own, and its helpers, which name no profile directory,
// are in it: Chromium's own executable or its crash handler beside it). Otherwise, or when pid
// is gone, it returns 0 and "", so that no other program sharing a group is touched.
func browserGroup(pid int) (pgid int, exe string) {
	pgid, exe = statPgrp(pid), exePath(pid)
	if pgid <= 0 || exe == "" || pgid == syscall.Getpgrp() || groupMembers(pgid, exe) == nil {
		return 0, ""
	}
	return pgid, exe
}

// groupMembers returns the live members of process group pgid when all of them run an
// executable from exe's directory, else nil.
func groupMembers(pgid int, exe string) []int {
	var members []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || statPgrp(p) != pgid || zombie(p) {
			continue
		}
		if filepath.Dir(exePath(p)) != filepath.Dir(exe) {
			return nil
		}
		members = append(members, p)
	}
	return members
}

// statFields returns the fields of /proc/PID/stat from the third (the state) on, or nil.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// zombie reports whether pid has exited but was not reaped yet.
func zombie(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && f[0] == "Z"
}

// killPID sends SIGKILL to pid.
func killPID(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// statPgrp returns the process group of pid (field 5 of /proc/PID/stat), or -1.
func statPgrp(pid int) int {
	f := statFields(pid)
	if len(f) < 3 {
		return -1
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return n
}

// exePath returns the executable of pid, or "".
func exePath(pid int) string {
	p, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return p
}
