package paths

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveUnderOneDirectory(t *testing.T) {
	dir := t.TempDir()
	p := Resolve(dir)
	for name, got := range map[string]string{"DB": p.DB, "Socket": p.Socket, "LogDir": p.LogDir,
		"ArtifactDir": p.ArtifactDir, "ConfigDir": p.ConfigDir} {
		if !strings.HasPrefix(got, dir+string(filepath.Separator)) {
			t.Errorf("%s = %s, not under %s", name, got, dir)
		}
	}
	if p.DB != filepath.Join(dir, "data", "worktray.db") || p.Socket != filepath.Join(dir, "run", "control.sock") {
		t.Errorf("paths %+v", p)
	}
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p.RuntimeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.DataDir, p.ConfigDir, p.LogDir, p.RuntimeDir} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want a 0700 directory", d, fi.Mode(), err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvHome, dir)
	if got := FromEnv("").DB; got != filepath.Join(dir, "data", "worktray.db") {
		t.Errorf("with $%s: %s", EnvHome, got)
	}
	flag := t.TempDir()
	if got := FromEnv(flag).DB; got != filepath.Join(flag, "data", "worktray.db") {
		t.Errorf("the flag does not win over the environment: %s", got)
	}
	t.Setenv(EnvHome, "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if got := FromEnv("").Socket; got != filepath.Join(dir, "worktray", "control.sock") {
		t.Errorf("XDG socket %s", got)
	}
}
