package scraper

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListKeysAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name, edit, field, inMsg string
	}{
		{"next both ways", `next = { selector = "button.more", scroll = true }`, "list.next", "not both"},
		{"page size value alone", `page_size = { value = "100" }`, "list.page_size.selector", "is required"},
		{"page size selector alone", `page_size = { selector = "select" }`, "list.page_size.value", "is required"},
		{"empty click", `page_size = { clicks = ["button.size", " "] }`, "list.page_size.clicks", "entry 2 is empty"},
		{"settle too short", `settle = "10ms"`, "list.settle", "between 20ms and 10s"},
		{"settle too long", `settle = "1m"`, "list.settle", "between 20ms and 10s"},
		{"settle not a duration", `settle = "soon"`, "", "not a duration"},
		{"negative max pages", `max_pages = -1`, "list.max_pages", "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(string(demoProfileTOML), "[list]\n", "[list]\n"+tc.edit+"\n", 1)
			src = strings.Replace(src, `page_size = { selector = "select#page-size", value = "100" }`+"\n", "", 1)
			src = strings.Replace(src, `next = { selector = "button.next-page:not([disabled])" }`+"\n", "", 1)
			_, err := ParseProfile([]byte(src), "edited.toml", "toml")
			if err == nil {
				t.Fatalf("%s was accepted", tc.edit)
			}
			var pe *ProfileError
			if !errors.As(err, &pe) || pe.File != "edited.toml" {
				t.Fatalf("error %v is no ProfileError naming the file", err)
			}
			if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("error %q; want it to name %q and say %q", err, tc.field, tc.inMsg)
			}
		})
	}
}

func TestListKeyDefaults(t *testing.T) {
	p, err := DemoProfile("http://x")
	if err != nil {
		t.Fatal(err)
	}
	if p.List.Settle.Duration != defaultSettle || p.List.MaxPages != 1000 {
		t.Errorf("settle %s, max pages %d; want %s and 1000", p.List.Settle.Duration, p.List.MaxPages, defaultSettle)
	}
	if g := p.clickGrace(); g < time.Second || g < 5*p.List.Settle.Duration {
		t.Errorf("click grace %s", g)
	}
}

// TestExampleProfilesLoad loads every example profile of the docs, in TOML and, converted, the
// same keys in JSON.
func TestExampleProfilesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "docs", "examples", "*.toml"))
	if err != nil || len(files) < 6 {
		t.Fatalf("example profiles: %v, %v", files, err)
	}
	for _, f := range files {
		p, err := LoadProfile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if p.Name == "" || p.List.Next.Selector == "" && !p.List.Next.Scroll {
			t.Errorf("%s: no name or no list.next", f)
		}
	}
	json := `{"name": "j", "login": {"url": "/l", "username": "#u", "password": "#p", "submit": "#s"},
	  "list": {"url": "/o", "row": "tr", "empty": ".e", "settle": "250ms", "next": {"scroll": true},
	    "page_size": {"clicks": ["a.size"]}, "fields": {"number": {"selector": ".n"}}}}`
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	if err := os.WriteFile(path, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.List.Settle.Duration != 250*time.Millisecond || !p.List.Next.Scroll || len(p.List.PageSize.Clicks) != 1 {
		t.Errorf("JSON profile: %+v", p.List)
	}
}
