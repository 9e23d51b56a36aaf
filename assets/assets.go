// Package assets holds worktray's icons, drawn for this app by ./gen and embedded in the binary.
// Regenerate them with `go generate ./assets`.
package assets

import (
	"embed"
	"fmt"
)

//go:generate go run ./gen -out icons

//go:embed icons/*.png
var icons embed.FS

// TrayState names an icon of the tray.
type TrayState string

// The tray's states, each with its own icon.
const (
	TrayIdle    TrayState = "idle"    // healthy, waiting for the next slot
	TrayRunning TrayState = "running" // a scrape is in progress
	TrayOverdue TrayState = "overdue" // a slot passed and has not started (within grace), or slots were missed
	TrayFailing TrayState = "failing" // the latest run failed
	TrayPaused  TrayState = "paused"  // scheduled runs are paused
	// TrayStuck: the scheduler cannot arm its next slot (scheduler.Snapshot.Stuck says why).
	TrayStuck TrayState = "stuck"
	// TraySetup: no portal is set up yet, so nothing can run.
	TraySetup TrayState = "setup"
)

// TrayStates lists every tray state.
func TrayStates() []TrayState {
	return []TrayState{TrayIdle, TrayRunning, TrayOverdue, TrayFailing, TrayPaused, TrayStuck, TraySetup}
}

// Tray returns the PNG of the tray icon for s (64×64). An unknown state gets the idle icon.
func Tray(s TrayState) []byte {
	b, err := icons.ReadFile(fmt.Sprintf("icons/tray-%s.png", s))
	if err != nil {
		return must("icons/tray-idle.png")
	}
	return b
}

// App returns the PNG of the application icon (256×256).
func App() []byte { return must("icons/app.png") }

// AppSmall returns the PNG of the application icon at 48×48.
func AppSmall() []byte { return must("icons/app-48.png") }

func must(name string) []byte {
	b, err := icons.ReadFile(name)
	if err != nil {
		panic("assets: missing embedded " + name) // a build without the icons is broken
	}
	return b
}
