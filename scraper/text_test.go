package scraper

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestVisibleText(t *testing.T) {
	for _, tc := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"  W-123456 ", false, "W-123456"},
		{"Store #29\nLake Tamsin", false, "Store #29 Lake Tamsin"},
		{"a\t\tb\r\nc", false, "a b c"},
		{"", false, ""},
		{"\n\n", true, ""},
		{"Day 2 of 2\n\nBring the ladder.", true, "Day 2 of 2\n\nBring the ladder."},
		{"\n  Line  one \n\n\n line two\n", true, "Line one\n\nline two"},
		{"one\r\ntwo\rthree", true, "one\ntwo\nthree"},
		{"one\n \t \ntwo", true, "one\n\ntwo"},
		{"  first\nsecond  \n\n", true, "first\nsecond"},
	} {
		if got := visibleText(tc.in, tc.multiline); got != tc.want {
			t.Errorf("visibleText(%q, %v) = %q, want %q", tc.in, tc.multiline, got, tc.want)
		}
	}
}

// TestVisibleTextInvariants checks, on random text, what every value must satisfy: no white
// space at either end, no two spaces in a row, no line break in a single-line value, at most
// one blank line in a row in a multiline one, the same words in the same order, and a second
// pass changing nothing.
func TestVisibleTextInvariants(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	parts := []string{"a", "Bring", "#29", "Zoë", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "—"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		in := b.String()
		for _, ml := range []bool{false, true} {
			got := visibleText(in, ml)
			switch {
			case got != strings.TrimSpace(got):
				t.Fatalf("visibleText(%q, %v) = %q: white space at an end", in, ml, got)
			case strings.Contains(got, "  "):
				t.Fatalf("visibleText(%q, %v) = %q: two spaces", in, ml, got)
			case !ml && strings.Contains(got, "\n"):
				t.Fatalf("visibleText(%q, false) = %q: a line break", in, got)
			case strings.Contains(got, "\n\n\n"):
				t.Fatalf("visibleText(%q, true) = %q: two blank lines", in, got)
			case strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(in), " "):
				t.Fatalf("visibleText(%q, %v) = %q: the words changed", in, ml, got)
			case visibleText(got, ml) != got:
				t.Fatalf("visibleText(%q, %v) = %q is not stable", in, ml, got)
			}
		}
	}
}
