package cli

import (
	"strings"
	"testing"
)

// TestBogusFlagExits2 runs every command (and each subcommand) of the real binary with a flag it
// does not know: each exits 2 and names the flag, before doing anything else (no owner runs
// here, so a command that got past its flags would exit otherwise).
func TestBogusFlagExits2(t *testing.T) {
	dir := shortTempDir(t)
	lines := [][]string{{"run"}, {"demo-portal"}, {}}
	for _, name := range Commands() {
		lines = append(lines, []string{name})
		for _, sub := range helps[name].subs {
			lines = append(lines, []string{name, sub.name})
		}
	}
	for _, pre := range lines {
		args := append(append([]string{}, pre...), "--bogus-flag")
		t.Run(strings.Join(append([]string{"worktray"}, args...), " "), func(t *testing.T) {
			r := cli(t, dir, "", args...)
			expect(t, r, ExitUsage, "bogus-flag")
		})
	}
}
