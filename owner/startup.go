package owner

import (
	"fmt"
	"io"
	"log/slog"

	"worktray/logging"
	"worktray/paths"
)

// newLogger returns the owner's logger (daily JSON files under p.LogDir and stderr at level,
// secrets scrubbed by redactor) and a function that closes its file. An unknown level is an
// error naming --log-level.
func newLogger(p paths.Paths, level string, stderr io.Writer, redactor logging.Redactor) (*slog.Logger, func(), error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	log, closer, err := logging.New(logging.Options{Dir: p.LogDir, Level: lv, Stderr: stderr, Redactor: redactor})
	if err != nil {
		return nil, nil, err
	}
	return log, func() { _ = closer.Close() }, nil
}
