package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestProfileValidationWithOwner runs the real owner: `portal set` refuses a profile whose
// selector is not CSS, naming the field; `diagnose` names it once the saved file went bad; a
// scrape with the file gone is a configuration error naming the file.
func TestProfileValidationWithOwner(t *testing.T) {
	dir := shortTempDir(t)
	startOwner(t, dir)
	good, err := os.ReadFile(filepath.Join("..", "docs", "profiles", "demo-fields.toml"))
	if err != nil {
		t.Fatal(err)
	}
	badSel := bytes.Replace(good, []byte(`row = "table.wo-list tbody tr.wo"`), []byte(`row = "table.wo-list tbody tr.wo["`), 1)
	file := filepath.Join(dir, "portal.toml")
	if err := os.WriteFile(file, badSel, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "pw-1234\n", "portal", "set", "--url", "http://127.0.0.1:1", "--username", "me", "--profile", file),
		ExitInvalid, "nothing changed", "list.row", "not a valid CSS selector", file)
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "pw-1234\n", "portal", "set", "--url", "http://127.0.0.1:1", "--username", "me", "--profile", file),
		0, file)
	if err := os.WriteFile(file, badSel, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "", "diagnose"), ExitUnhealthy, "✗ portal", "list.row", "not a valid CSS selector")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	expect(t, cli(t, dir, "", "scrape"), ExitConfig, "cannot be used", file)
}
