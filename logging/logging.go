// Package logging sets up worktray's logs: slog JSON records in daily files
// <dir>/worktray-YYYY-MM-DD.jsonl (rotated at local midnight, kept Retention days) plus readable
// text lines on stderr, behind a redaction hook so no secret is ever written.
package logging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Redactor replaces known secret values in a text. *secret.Redactor implements it.
type Redactor interface {
	Redact(s string) string
}

// Redacted replaces the value of an attribute whose key looks secret.
const Redacted = "[redacted]"

// DefaultRetentionDays is how many days of log files are kept.
const DefaultRetentionDays = 14

// Options configure New. Dir is required.
type Options struct {
	// Dir is the log directory; it is created with mode 0700.
	Dir string
	// Level is the stderr level (default Info).
	Level slog.Leveler
	// FileLevel is the level of the JSON files (default Info).
	FileLevel slog.Leveler
	// Stderr receives the text lines (default os.Stderr; io.Discard silences them).
	Stderr io.Writer
	// Clock decides the day of a record's file (default the real clock).
	Clock clockwork.Clock
	// Location is where midnight is (default time.Local).
	Location *time.Location
	// RetentionDays is how many days of files are kept, today included (default 14).
	RetentionDays int
	// Redactor, may be nil, scrubs registered secret values from the message and every
	// attribute.
	Redactor Redactor
}

// New returns a logger writing JSON to the daily files and text to stderr, and the closer of the
// current file. Files older than the retention are deleted now and at each rotation. The logger
// is safe for concurrent use; records logged after Close reach stderr only.
func New(opts Options) (*slog.Logger, io.Closer, error) {
	if opts.Dir == "" {
		return nil, nil, errors.New("logging: Options.Dir is required")
	}
	if opts.Level == nil {
		opts.Level = slog.LevelInfo
	}
	if opts.FileLevel == nil {
		opts.FileLevel = slog.LevelInfo
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.RetentionDays <= 0 {
		opts.RetentionDays = DefaultRetentionDays
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("logging: create log directory: %w", err)
	}
	df := &DailyFile{dir: opts.Dir, clock: opts.Clock, loc: opts.Location, keep: opts.RetentionDays}
	df.mu.Lock()
	err := df.rotate(df.today())
	df.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	h := &redactHandler{
		next: fanout{
			slog.NewJSONHandler(df, &slog.HandlerOptions{Level: opts.FileLevel}),
			slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: opts.Level}),
		},
		r: opts.Redactor,
	}
	return slog.New(h), df, nil
}

// FileName returns the log file name of a day.
func FileName(day time.Time) string { return "worktray-" + day.Format(time.DateOnly) + ".jsonl" }

var fileRE = regexp.MustCompile(`^worktray-(\d{4}-\d{2}-\d{2})\.jsonl$`)

// DailyFile is an io.WriteCloser that appends to the file of the current local day, switching
// files at midnight. It is safe for concurrent use.
type DailyFile struct {
	dir   string
	clock clockwork.Clock
	loc   *time.Location
	keep  int

	mu     sync.Mutex
	f      *os.File
	day    string
	closed bool
}

func (d *DailyFile) today() string { return d.clock.Now().In(d.loc).Format(time.DateOnly) }

// Write appends p (one record) to today's file.
func (d *DailyFile) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, os.ErrClosed
	}
	if day := d.today(); day != d.day {
		if err := d.rotate(day); err != nil {
			return 0, err
		}
	}
	return d.f.Write(p)
}

// Close closes the current file. Later writes fail with os.ErrClosed.
func (d *DailyFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.f != nil {
		return d.f.Close()
	}
	return nil
}

// rotate opens the file of day and deletes expired files. d.mu is held.
func (d *DailyFile) rotate(day string) error {
	f, err := os.OpenFile(filepath.Join(d.dir, "worktray-"+day+".jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("logging: open log file: %w", err)
	}
	if d.f != nil {
		d.f.Close()
	}
	d.f, d.day = f, day
	d.prune(day)
	return nil
}

// prune deletes the files of days before the retention window ending today.
func (d *DailyFile) prune(today string) {
	t, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return
	}
	oldest := t.AddDate(0, 0, -(d.keep - 1))
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if day, err := time.Parse(time.DateOnly, m[1]); err == nil && day.Before(oldest) {
			os.Remove(filepath.Join(d.dir, e.Name()))
		}
	}
}

// fanout sends each record to every handler that wants it.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// secretKey matches attribute keys whose values are secret.
var secretKey = regexp.MustCompile(`(?i)(password|passwd|token|user_?key|secret|cookie|authorization|api_?key)`)

// redactHandler scrubs records before they reach the handlers: attributes with a secret-looking
// key are replaced with Redacted, and registered secret values are replaced inside the message
// and every attribute (strings, errors, groups, and any other value whose text or JSON form
// contains one). Attributes bound with WithAttrs are scrubbed when bound.
type redactHandler struct {
	next slog.Handler
	r    Redactor
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, h.str(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, nr)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(out), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), r: h.r}
}

func (h *redactHandler) str(s string) string {
	if h.r == nil {
		return s
	}
	return h.r.Redact(s)
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup && secretKey.MatchString(a.Key) {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			return a // an empty value tells nothing
		}
		return slog.String(a.Key, Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.str(a.Value.String()))
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		v := a.Value.Any()
		if err, ok := v.(error); ok {
			return slog.String(a.Key, h.str(err.Error()))
		}
		if h.r == nil {
			return a
		}
		text := fmt.Sprintf("%+v", v)
		if red := h.str(text); red != text {
			return slog.String(a.Key, red)
		}
		if js, err := json.Marshal(v); err == nil {
			if s := string(js); h.str(s) != s {
				return slog.String(a.Key, h.str(text))
			}
		}
		return a
	default:
		return a
	}
}
