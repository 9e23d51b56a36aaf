package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// table is a text table that fits the terminal: columns are as wide as their widest cell, and
// when the table is wider than the terminal the flexible column (the last) is cut with "…".
// Output that is not a terminal is never cut (scripts get every character). Not safe for
// concurrent use.
type table struct {
	w     io.Writer
	rows  [][]string
	width int // the terminal's columns; 0: do not cut
}

// newTable starts a table with a header row, writing to w.
func newTable(w io.Writer, header ...string) *table {
	return &table{w: w, rows: [][]string{header}, width: terminalWidth(w)}
}

// row adds a row; cells beyond the header's count are dropped.
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// flush writes the table.
func (t *table) flush() error {
	n := len(t.rows[0])
	widths := make([]int, n)
	for _, r := range t.rows {
		for i := 0; i < n && i < len(r); i++ {
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	const gap = 2
	if t.width > 0 {
		fixed := 0
		for _, w := range widths[:n-1] {
			fixed += w + gap
		}
		widths[n-1] = max(min(widths[n-1], t.width-fixed), 2)
	}
	var b strings.Builder
	for _, r := range t.rows {
		var line strings.Builder
		for i := 0; i < n; i++ {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			if i == n-1 {
				line.WriteString(cut(cell, widths[i]))
				break
			}
			line.WriteString(cell)
			line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+gap))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

// cut shortens s to n runes, ending in "…" when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// terminalWidth is the width of the terminal w writes to: $COLUMNS when set, else the
// terminal's size; 0 when w is not a terminal.
func terminalWidth(w io.Writer) int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 20 {
		return c
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 20 {
		return 0
	}
	return cols
}

// colour wraps s in an ANSI colour when w is a terminal and $NO_COLOR is unset
// (https://no-color.org); else returns s as it is.
func colour(w io.Writer, code int, s string) string {
	if _, set := os.LookupEnv("NO_COLOR"); set || !isTerminal(w) || os.Getenv("TERM") == "dumb" {
		return s
	}
	return fmt.Sprintf("\033[%dm%s\033[0m", code, s)
}

// ANSI colours for outcomes.
const (
	red    = 31
	green  = 32
	yellow = 33
)

// markColoured is mark(s) coloured for w: green for success, red for failure.
func markColoured(w io.Writer, m string) string {
	switch m {
	case "✓":
		return colour(w, green, m)
	case "✗":
		return colour(w, red, m)
	case "⊘", "…":
		return colour(w, yellow, m)
	}
	return m
}
