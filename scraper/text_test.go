package scraper

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
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

// textCases are HTML fragments and the single-line and multiline values a person reads in
// them; TestVisibleTextInChromium draws each in a list row.
var textCases = []struct{ html, line, multi string }{
	{`Store #29<br>Lake Tamsin`, "Store #29 Lake Tamsin", "Store #29\nLake Tamsin"},
	{`<div>Store #29</div><div>Lake Tamsin</div>`, "Store #29 Lake Tamsin", "Store #29\nLake Tamsin"},
	{`<p>Day 2 of 2</p><p>Bring the ladder.<br>Gate 4821#.</p>`, "Day 2 of 2 Bring the ladder. Gate 4821#.", "Day 2 of 2\n\nBring the ladder.\nGate 4821#."},
	{`visible<span style="display:none">hidden</span> text`, "visible text", "visible text"},
	{`<span>Lake</span> <span>Tamsin</span>`, "Lake Tamsin", "Lake Tamsin"},
	{`a <b>bold</b>word`, "a boldword", "a boldword"},
	{`<ul><li>one</li><li>two</li></ul>`, "one two", "one\ntwo"},
	{"Line\n     one", "Line one", "Line one"},
	{"<div style=\"white-space:pre-line\">first\nsecond</div>", "first second", "first\nsecond"},
	{`<span style="visibility:hidden">gone</span>kept`, "kept", "kept"},
	// Flex and grid items are blocks (a portal spaces them with gap or margins).
	{`<div style="display:flex"><span>29</span><span>Lake</span></div>`, "29 Lake", "29\nLake"},
	{`<div style="display:grid"><div>29</div><div>Lake</div></div>`, "29 Lake", "29\nLake"},
	{`<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>`, "a b c", "a b\nc"},
}

// textCasePage is a list page with one row per case: the case in .one (read on one line), again
// in .multi (read as multiline), and again in .tip, hidden as tooltips hide their text.
func textCasePage() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><title>Cases</title></head><body><table><tbody>`)
	for i, c := range textCases {
		fmt.Fprintf(&b, `<tr class="order"><td class="number">case-%d</td><td class="one">%s</td><td class="multi">%s</td><td><span class="tip" hidden>%s</span></td></tr>`,
			i, c.html, c.html, c.html)
	}
	b.WriteString(`</tbody></table></body></html>`)
	return b.String()
}

// TestVisibleTextInChromium reads each case of textCases in a real Chromium: in a rendered
// row, as one line and as multiline text, and inside a hidden element (a tooltip), where the
// page's style cannot be consulted and tag names decide.
func TestVisibleTextInChromium(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, _ *http.Request) {
		// Without a kept session the scraper signs in first; this form leads to the list.
		fmt.Fprint(w, `<!doctype html><form id="login-form" action="/list"><input id="user"><input id="pass"><button id="go">Go</button></form>`)
	})
	mux.HandleFunc("GET /list", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, textCasePage()) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := newTestPageScraper(t, srv.URL, "ann", "secret-1", func(p *Profile, _ *Config) {
		p.Login.Success = "" // the list proves the sign-in
		p.List.Fields["customer"] = Field{Selector: ".one"}
		p.List.Fields["site_name"] = Field{Selector: ".multi", Multiline: true}
		p.List.Fields["service_name"] = Field{Selector: ".tip", Multiline: true}
	})
	res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Orders) != len(textCases) {
		t.Fatalf("read %d rows, want %d", len(res.Orders), len(textCases))
	}
	for i, c := range textCases {
		o := byID(res.Orders)[fmt.Sprintf("case-%d", i)]
		if o.Customer != c.line {
			t.Errorf("%s as one line: %q, want %q", c.html, o.Customer, c.line)
		}
		if o.SiteName != c.multi {
			t.Errorf("%s as multiline: %q, want %q", c.html, o.SiteName, c.multi)
		}
		// Hidden, the style is not consulted: what the case hides by style shows, flex and grid
		// items are inline and the line breaks of the source stay; everything else reads the
		// same.
		if strings.Contains(c.html, "style=") || strings.Contains(c.html, "\n") {
			continue
		}
		if o.ServiceName != c.multi {
			t.Errorf("%s in a hidden tooltip: %q, want %q", c.html, o.ServiceName, c.multi)
		}
	}
}
