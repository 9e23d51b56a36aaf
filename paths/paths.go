// Package paths says where worktray keeps its files. By default it follows the XDG base
// directory specification; one directory (the --data-dir flag or the WORKTRAY_DATA_DIR variable) moves
// everything beneath it, for tests and portable use.
package paths

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
)

// EnvHome is the environment variable that moves every worktray file under one directory.
const EnvHome = "WORKTRAY_DATA_DIR"

// Paths are the directories and files of one worktray installation.
type Paths struct {
	DataDir     string // the store
	BackupDir   string // the store's daily backups: "backups" beside it (store.DefaultBackupDir)
	ConfigDir   string // profiles and the secrets file when no keyring answers
	StateDir    string // logs and failure artifacts
	LogDir      string
	ArtifactDir string
	RuntimeDir  string // the control socket; 0700
	DB          string
	Socket      string
}

// Resolve returns the paths under home, or the XDG paths when home is empty.
func Resolve(home string) Paths {
	var p Paths
	if home != "" {
		home, _ = filepath.Abs(home)
		p = Paths{
			DataDir:    filepath.Join(home, "data"),
			ConfigDir:  filepath.Join(home, "config"),
			StateDir:   filepath.Join(home, "state"),
			RuntimeDir: filepath.Join(home, "run"),
		}
	} else {
		runtime := os.Getenv("XDG_RUNTIME_DIR")
		if runtime == "" {
			// Without a session runtime directory, keep the socket in a private directory of
			// the state home rather than in a shared /tmp.
			runtime = filepath.Join(xdg.StateHome, "worktray-run")
		}
		p = Paths{
			DataDir:    filepath.Join(xdg.DataHome, "worktray"),
			ConfigDir:  filepath.Join(xdg.ConfigHome, "worktray"),
			StateDir:   filepath.Join(xdg.StateHome, "worktray"),
			RuntimeDir: filepath.Join(runtime, "worktray"),
		}
	}
	p.LogDir = filepath.Join(p.StateDir, "logs")
	p.ArtifactDir = filepath.Join(p.StateDir, "artifacts")
	p.DB = filepath.Join(p.DataDir, "worktray.db")
	p.BackupDir = filepath.Join(p.DataDir, "backups")
	p.Socket = filepath.Join(p.RuntimeDir, "control.sock")
	return p
}

// FromEnv resolves the paths for flagHome, falling back to $WORKTRAY_DATA_DIR, then XDG.
func FromEnv(flagHome string) Paths {
	if flagHome == "" {
		flagHome = os.Getenv(EnvHome)
	}
	return Resolve(flagHome)
}

// DemoHome is the one directory `worktray run --demo` keeps its files under, apart from the
// user's real data: $XDG_STATE_HOME/worktray-demo.
func DemoHome() string { return filepath.Join(xdg.StateHome, "worktray-demo") }

// EnsureDirs creates the directories the owner writes to: private (0700) each of them.
func (p Paths) EnsureDirs() error {
	for _, d := range []string{p.DataDir, p.ConfigDir, p.StateDir, p.LogDir, p.ArtifactDir, p.RuntimeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	// The runtime directory holds the control socket: it must not be reachable by others even
	// if it already existed with looser permissions.
	if err := os.Chmod(p.RuntimeDir, 0o700); err != nil {
		return fmt.Errorf("securing %s: %w", p.RuntimeDir, err)
	}
	return nil
}
