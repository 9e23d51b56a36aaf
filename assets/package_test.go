package assets

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stage lays out an unpacked archive as package.sh makes it, with stand-in binaries.
func stage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"bin/worktray":                                  "#!/bin/sh\n",
		"bin/worktray-ui":                               "#!/bin/sh\n",
		"share/applications/worktray.desktop":           "",
		"share/icons/hicolor/256x256/apps/worktray.png": "png",
		"share/icons/hicolor/48x48/apps/worktray.png":   "png",
		"share/bash-completion/completions/worktray":    "# bash",
		"share/doc/worktray/profiles.md":                "# profiles",
	}
	desktop, err := os.ReadFile(filepath.Join("package", "worktray.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	files["share/applications/worktray.desktop"] = string(desktop)
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"install.sh", "uninstall.sh"} {
		b, err := os.ReadFile(filepath.Join("package", s))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sh(t *testing.T, env []string, script string) string {
	t.Helper()
	cmd := exec.Command("sh", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// install.sh says where it installs, points the menu entry and an existing start-at-login entry
// at the installed binary; uninstall.sh removes all of it, the autostart entry included.
func TestInstallAndUninstall(t *testing.T) {
	dir := stage(t)
	prefix := t.TempDir()
	config := t.TempDir()
	autostart := filepath.Join(config, "autostart", "worktray.desktop")
	if err := os.MkdirAll(filepath.Dir(autostart), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(autostart, []byte("[Desktop Entry]\nExec=/src/worktray/worktray\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PREFIX=" + prefix, "XDG_CONFIG_HOME=" + config}

	out := sh(t, env, filepath.Join(dir, "install.sh"))
	for _, want := range []string{prefix + "/bin/worktray", prefix + "/share/applications/worktray.desktop",
		prefix + "/share/bash-completion/completions/worktray", "installed in " + prefix} {
		if !strings.Contains(out, want) {
			t.Errorf("install.sh output does not name %s:\n%s", want, out)
		}
	}
	entry, err := os.ReadFile(filepath.Join(prefix, "share/applications/worktray.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(entry), "Exec="+prefix+"/bin/worktray\n") || !strings.Contains(string(entry), "StartupWMClass=worktray\n") {
		t.Errorf("menu entry:\n%s", entry)
	}
	if b, _ := os.ReadFile(autostart); !strings.Contains(string(b), "Exec="+prefix+"/bin/worktray\n") {
		t.Errorf("autostart entry still runs another binary:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(prefix, "share/doc/worktray/profiles.md")); err != nil {
		t.Errorf("docs not installed: %v", err)
	}

	out = sh(t, env, filepath.Join(dir, "uninstall.sh"))
	if !strings.Contains(out, "removed "+autostart) {
		t.Errorf("uninstall.sh did not say it removed the autostart entry:\n%s", out)
	}
	for _, p := range []string{autostart, filepath.Join(prefix, "bin/worktray"), filepath.Join(prefix, "bin/worktray-ui"),
		filepath.Join(prefix, "share/applications/worktray.desktop"), filepath.Join(prefix, "share/doc/worktray"),
		filepath.Join(prefix, "share/bash-completion/completions/worktray")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after uninstall (err %v)", p, err)
		}
	}
}
