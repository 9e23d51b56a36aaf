package scraper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDemoProfileIsValid(t *testing.T) {
	p, err := DemoProfile("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if p.Detail.Mode != "fetch" || p.Detail.Concurrency != 4 || p.List.MaxPages != 1000 || p.Timeouts.Page.Duration != 20*time.Second {
		t.Errorf("defaults not applied: %+v", p)
	}
	if _, err := New(Config{Profile: p}); err != nil {
		t.Errorf("New with the demo profile: %v", err)
	}
}

// validTOML is a minimal valid profile.
const validTOML = `
[login]
url = "https://portal.example.com/login"
username = "#user"
password = "#pass"
submit = "button"
[list]
url = "/orders"
row = "tr.order"
empty = ".none"
[list.fields]
number = { selector = ".num" }
[timeouts]
page = "5s"
`

func TestLoadProfileErrorsNameFileAndField(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, content string
		field, msg          string // what the error must say
	}{
		{"syntax", "p.toml", "[login\nurl = 1", "", "line "},
		{"unknown key", "p.toml", validTOML + "\n[list.pagination]\nnext = \"a\"\n", "list.pagination", "unknown field"},
		{"missing login url", "p.toml", strings.Replace(validTOML, `url = "https://portal.example.com/login"`, "", 1), "login.url", "is required"},
		{"missing row", "p.toml", strings.Replace(validTOML, `row = "tr.order"`, "", 1), "list.row", "is required"},
		{"bad regex", "p.toml", validTOML + "\n[list.fields.zip]\nselector = \".zip\"\nregex = \"(\\\\d+\"\n", "list.fields.zip.regex", "invalid regular expression"},
		{"two groups", "p.toml", validTOML + "\n[list.fields.zip]\nregex = '(\\d)(\\d)'\n", "list.fields.zip.regex", "at most one"},
		{"bad custom field name", "p.toml", validTOML + "\n[list.fields.Colour-Code]\nselector = \".c\"\n", "list.fields.Colour-Code", "custom field's name"},
		// Combinations that would drop a value without a word are refused.
		{"items without all", "p.toml", validTOML + "\n[list.fields.items]\nselector = \"li\"\n", "list.fields.items.all", "must be true"},
		{"list type without all", "p.toml", validTOML + "\n[list.fields.tags]\nselector = \"li\"\ntype = \"list\"\n", "list.fields.tags.all", "must be true"},
		{"all on a text field", "p.toml", validTOML + "\n[list.fields.customer]\nselector = \"li\"\nall = true\n", "list.fields.customer.all", "only items"},
		{"all on a custom text field", "p.toml", validTOML + "\n[list.fields.notes]\nselector = \"li\"\nall = true\n", "list.fields.notes.all", "type = \"list\""},
		{"date layouts on text", "p.toml", validTOML + "\n[list.fields.customer]\nselector = \".c\"\ndate_layouts = [\"01/02/2006\"]\n", "list.fields.customer.date_layouts", "would be ignored"},
		{"date-time without layouts", "p.toml", validTOML + "\n[list.fields.due]\nselector = \".d\"\ntype = \"date-time\"\n", "list.fields.due.date_layouts", "is required"},
		{"date layout with time on a date", "p.toml", validTOML + "\n[list.fields.due]\nselector = \".d\"\ntype = \"date\"\ndate_layouts = [\"01/02/2006 15:04\"]\n", "list.fields.due.date_layouts[0]", "date-time"},
		{"unknown type", "p.toml", validTOML + "\n[list.fields.due]\nselector = \".d\"\ntype = \"money\"\n", "list.fields.due.type", "must be text, integer"},
		{"type on a built-in field", "p.toml", validTOML + "\n[list.fields.customer]\nselector = \".d\"\ntype = \"integer\"\n", "list.fields.customer.type", "built-in"},
		{"field in list and detail", "p.toml", validTOML + "\n[list.fields.visit_url]\nselector = \"a\"\nattribute = \"href\"\n[list.fields.county]\nselector = \".c\"\n[detail.fields.county]\nselector = \".c\"\n", "detail.fields.county", "also in list.fields"},
		{"number on the detail page", "p.toml", validTOML + "\n[list.fields.visit_url]\nselector = \"a\"\n[detail.fields.number]\nselector = \".n\"\n", "detail.fields.number", "must be read from the list"},
		{"detail fields without a link", "p.toml", validTOML + "\n[detail.fields.instructions]\nselector = \".i\"\n", "detail.url_field", "does not define"},
		{"detail link without detail fields", "p.toml", validTOML + "\n[list.fields.detail_url]\nselector = \"a\"\nattribute = \"href\"\n", "list.fields.detail_url", "would be dropped"},
		{"detail error without fields", "p.toml", validTOML + "\n[detail]\nerror = \".e\"\n", "detail.error", "detail.fields is empty"},
		{"invalid field selector", "p.toml", validTOML + "\n[list.fields.zip]\nselector = \"td[[zip\"\n", "list.fields.zip.selector", "not a valid CSS selector"},
		{"invalid row selector", "p.toml", strings.Replace(validTOML, `row = "tr.order"`, `row = "tr.order >"`, 1), "list.row", "not a valid CSS selector"},
		{"invalid login selector", "p.toml", strings.Replace(validTOML, `username = "#user"`, `username = "#user["`, 1), "login.username", "not a valid CSS selector"},
		{"bad time zone", "p.toml", "timezone = \"Mars/Olympus\"\n" + validTOML, "timezone", "IANA time zone"},
		{"too large", "p.toml", validTOML + "\n# " + strings.Repeat("x", MaxProfileSize) + "\n", "", "larger than 1024 KB"},
		{"bad duration", "p.toml", strings.Replace(validTOML, `page = "5s"`, `page = "soon"`, 1), "timeouts.page", "not a duration"},
		{"short timeout", "p.toml", strings.Replace(validTOML, `page = "5s"`, `page = "1ms"`, 1), "timeouts.page", "too short"},
		{"bad mode", "p.toml", validTOML + "\n[detail]\nmode = \"teleport\"\n", "detail.mode", "must be"},
		{"page size without value", "p.toml", strings.Replace(validTOML, "[list.fields]", "page_size = { selector = \"select\" }\n[list.fields]", 1), "list.page_size.value", "is required"},
		{"bad scheme", "p.toml", strings.Replace(validTOML, "https://portal", "ftp://portal", 1), "login.url", "http or https"},
		{"json unknown field", "p.json", `{"login": {"url": "/l", "usernme": "#u"}}`, "", `unknown field "usernme"`},
		{"json type", "p.json", `{"list": {"max_pages": "many"}}`, "", "list.max_pages"},
		{"json syntax", "p.json", "{\n\"login\": {,}\n}", "", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+"-"+tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadProfile(path)
			if err == nil {
				t.Fatal("no error")
			}
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not a *ProfileError: %v", err, err)
			}
			s := err.Error()
			if !strings.Contains(s, path) || !strings.Contains(s, tc.field) || !strings.Contains(s, tc.msg) {
				t.Errorf("error %q must name the file, %q and %q", s, tc.field, tc.msg)
			}
		})
	}
	if _, err := LoadProfile(filepath.Join(dir, "missing.toml")); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte(validTOML), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := LoadProfile(good); err != nil || p.Timeouts.Page.Duration != 5*time.Second {
		t.Errorf("valid profile: %v %+v", err, p)
	}
}

func TestFieldClean(t *testing.T) {
	p, err := DemoProfile("http://x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ field, in, want string }{
		{"number", "  W-123456 ", "W-123456"},
		{"store_number", "Store #0412", "0412"},
		{"service_code", "HV-210 · HVAC  preventive\n maintenance", "HV-210"},
		{"service_name", "HV-210 · HVAC  preventive\n maintenance", "HVAC preventive maintenance"},
	} {
		f := fieldSpec{name: tc.field, Field: p.List.Fields[tc.field]}
		if got, ok := f.clean(tc.in); !ok || got != tc.want {
			t.Errorf("%s(%q) = %q, %v; want %q", tc.field, tc.in, got, ok, tc.want)
		}
	}
	f := fieldSpec{name: "number", Field: p.List.Fields["number"]}
	if _, ok := f.clean("WO 12"); ok {
		t.Error("number regex matched WO 12")
	}
	ins := fieldSpec{name: "instructions", Field: p.Detail.Fields["instructions"]}
	if got, _ := ins.clean("\n  Line  one \n\n line two\n"); got != "Line one\n\nline two" {
		t.Errorf("multiline: %q", got)
	}
}

func TestPruneArtifactsKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	for i := range 25 {
		for _, ext := range []string{".png", ".html"} {
			name := fmt.Sprintf("202601%02dT120000000Z-run%d-timeout%s", i+1, i, ext)
			if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pruneArtifacts(dir, 20)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 41 {
		t.Fatalf("%d files left, want 40 artifacts and notes.txt", len(ents))
	}
	if _, err := os.Stat(filepath.Join(dir, "20260105T120000000Z-run4-timeout.png")); !os.IsNotExist(err) {
		t.Error("the 5th oldest failure was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "20260106T120000000Z-run5-timeout.html")); err != nil {
		t.Error("the 20th newest failure was removed")
	}
}

// TestExampleProfilesAreValid loads every example profile of docs/profiles, and the selectors
// that browsers know but the selector parser does not are left to the browser.
func TestExampleProfilesAreValid(t *testing.T) {
	files, err := filepath.Glob(exampleProfile("*.toml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("example profiles: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := LoadProfile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, sel := range []string{"tr:is(.a, .b)", "a:where(.x)", "tr:has(> td.x)"} {
		if msg := checkSelector(sel); msg != "" {
			t.Errorf("%s refused: %s", sel, msg)
		}
	}
	_, err = LoadProfile(filepath.Join(t.TempDir(), "gone.toml"))
	var pe *ProfileError
	if !errors.As(err, &pe) || !pe.Unreadable || !strings.Contains(err.Error(), "gone.toml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestStarterProfileIsValid(t *testing.T) {
	if _, err := ParseProfile(StarterProfile(), "starter", "toml"); err != nil {
		t.Fatal(err)
	}
}
