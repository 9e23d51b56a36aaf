// Package autostart turns "start worktray at login" on and off with an XDG autostart entry:
// a worktray.desktop file in $XDG_CONFIG_HOME/autostart that the desktop session runs at login
// (https://specifications.freedesktop.org/autostart-spec/latest/).
package autostart

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Entry is the autostart entry of one user.
type Entry struct {
	// Path is the .desktop file.
	Path string
	// Exec is the command it runs (the worktray binary, with its arguments).
	Exec string
}

// Default returns the entry in $XDG_CONFIG_HOME/autostart (or ~/.config/autostart) that runs
// the installed worktray (see Installed), or exe when none is installed.
func Default(exe string) Entry {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return Entry{Path: filepath.Join(dir, "autostart", "worktray.desktop"), Exec: Installed(exe)}
}

// Installed returns the worktray binary a login session should run: the `worktray` found on
// $PATH (what install.sh puts in PREFIX/bin), as an absolute path, so that an entry written
// while running a build tree's binary does not point into the build tree; exe when $PATH has
// none. It reads the file system only; safe for concurrent use.
func Installed(exe string) string {
	p, err := exec.LookPath("worktray")
	if err != nil {
		return exe
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// Enabled reports whether the entry exists and is not hidden.
func (e Entry) Enabled() bool {
	b, err := os.ReadFile(e.Path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "Hidden=true" {
			return false
		}
	}
	return true
}

// SetEnabled writes or removes the entry.
func (e Entry) SetEnabled(on bool) error {
	if !on {
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the autostart entry: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(e.Path), 0o755); err != nil {
		return fmt.Errorf("creating the autostart folder: %w", err)
	}
	tmp := e.Path + ".tmp"
	if err := os.WriteFile(tmp, []byte(e.content()), 0o644); err != nil {
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	if err := os.Rename(tmp, e.Path); err != nil {
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	return nil
}

func (e Entry) content() string {
	return "[Desktop Entry]\nType=Application\nName=worktray\n" +
		"Comment=Keeps your work orders in sync with your portal\n" +
		"Exec=" + quoteExec(e.Exec) + "\nIcon=worktray\nTerminal=false\nCategories=Office;Utility;\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// quoteExec quotes the program path for the Exec key when it needs it.
func quoteExec(exe string) string {
	if !strings.ContainsAny(exe, " \t\"'\\$`") {
		return exe
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", "$", `\\$`)
	return `"` + r.Replace(exe) + `"`
}
