package scraper

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Profile describes a portal: where to sign in, where the work-order list is, how rows, fields,
// pagination and detail pages are found, and how long each step may take. Selectors are CSS.
// Profiles are TOML or JSON files (LoadProfile); DemoProfile matches the demo portal.
type Profile struct {
	Name string `toml:"name" json:"name"`
	// Timezone is the portal's IANA time zone (e.g. "America/Chicago"), in which dates and times
	// it shows are read; empty: Config.Location (the schedule's zone).
	Timezone string `toml:"timezone" json:"timezone"`
	// BaseURL is the portal's address; relative URLs resolve against it. Config.BaseURL, when
	// set, overrides it.
	BaseURL  string         `toml:"base_url" json:"base_url"`
	Login    LoginProfile   `toml:"login" json:"login"`
	List     ListProfile    `toml:"list" json:"list"`
	Detail   DetailProfile  `toml:"detail" json:"detail"`
	Timeouts TimeoutProfile `toml:"timeouts" json:"timeouts"`

	loc      *time.Location // Timezone loaded; nil when empty
	keyOrder []string       // field names in the file's order (TOML)
}

// ListProfile says how to read the work-order list.
type ListProfile struct {
	URL string `toml:"url" json:"url"`
	// Row matches one work order row.
	Row string `toml:"row" json:"row"`
	// Empty is the explicit "no work orders" marker. Like every marker, it counts only while it
	// is visible: a hidden one in the page's HTML means nothing.
	Empty string `toml:"empty" json:"empty"`
	// Error is a message the portal shows instead of the list when it fails (while visible).
	Error string `toml:"error" json:"error"`
	// Loading, while visible, means the list is still loading: the scraper waits for it to go
	// (bounded by timeouts.page) before reading rows or the empty marker.
	Loading string `toml:"loading" json:"loading"`
	// Total, optional, reads the portal's count of orders from the last list page. A read that
	// does not match it fails, and so does a list page where it cannot be read (as a layout
	// change); an empty list may show no count.
	Total    *Field   `toml:"total" json:"total"`
	PageSize PageSize `toml:"page_size" json:"page_size"`
	Next     NextPage `toml:"next" json:"next"`
	// MaxPages is a guard against endless pagination (pages, "Load more" clicks or scrolls);
	// reaching it fails the scrape, it never cuts the list. Default 1000.
	MaxPages int `toml:"max_pages" json:"max_pages"`
	// Settle is how long a list page must hold still (the same rows, no request of the page in
	// flight, the loading marker hidden) before it is read; default 50ms (profile_list.go).
	Settle Duration         `toml:"settle" json:"settle"`
	Fields map[string]Field `toml:"fields" json:"fields"`
}

// TimeoutProfile bounds each step. Zero values take the defaults.
type TimeoutProfile struct {
	Browser Duration `toml:"browser" json:"browser"` // starting the browser; default 30s
	Login   Duration `toml:"login" json:"login"`     // signing in; default 30s
	Page    Duration `toml:"page" json:"page"`       // loading one list page; default 30s
	Detail  Duration `toml:"detail" json:"detail"`   // loading one detail page; default 30s
}

// Duration is a time.Duration written as a string such as "15s".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration such as "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (e.g. \"15s\"): %q", b)
	}
	if v < 0 {
		return fmt.Errorf("must not be negative: %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText formats the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ProfileError is a problem with a profile; it names the file and the field.
type ProfileError struct {
	File  string // the profile's file, or "built-in profile"
	Field string // dotted path such as "list.fields.number.regex"; empty for the whole file
	Msg   string
	// Unreadable is set when the file is missing or cannot be read (not when its content is
	// wrong), so callers can tell a configuration problem from a bad profile.
	Unreadable bool
}

func (e *ProfileError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("profile %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("profile %s: %s: %s", e.File, e.Field, e.Msg)
}

//go:embed demo.toml
var demoProfileTOML []byte

// DemoProfile returns the built-in profile of the demo portal at baseURL.
func DemoProfile(baseURL string) (*Profile, error) {
	p, err := ParseProfile(demoProfileTOML, "built-in demo profile", "toml")
	if err != nil {
		return nil, err
	}
	p.BaseURL = baseURL
	return p, nil
}

// MaxProfileSize is the largest profile file LoadProfile reads, in bytes.
const MaxProfileSize = 1 << 20

// LoadProfile reads and validates a profile file; ".json" files are JSON, others TOML. Its
// errors are *ProfileError values (joined when there are several).
func LoadProfile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ProfileError{File: path, Msg: fmt.Sprintf("cannot read it: %v", errors.Unwrap(err)), Unreadable: true}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxProfileSize+1))
	if err != nil {
		return nil, &ProfileError{File: path, Msg: fmt.Sprintf("cannot read it: %v", err), Unreadable: true}
	}
	if len(b) > MaxProfileSize {
		return nil, &ProfileError{File: path, Msg: fmt.Sprintf("is larger than %d KB; a profile is a short text file", MaxProfileSize/1024)}
	}
	format := "toml"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = "json"
	}
	return ParseProfile(b, path, format)
}

// ParseProfile decodes and validates a profile; name is used in errors, format is "toml" or
// "json".
func ParseProfile(data []byte, name, format string) (*Profile, error) {
	var p Profile
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, &ProfileError{File: name, Msg: jsonErrorText(data, err)}
		}
	case "toml":
		md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&p)
		if err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, &ProfileError{File: name, Field: pe.LastKey, Msg: fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
			}
			return nil, &ProfileError{File: name, Msg: err.Error()}
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, &ProfileError{File: name, Field: und[0].String(), Msg: "unknown field"}
		}
		for _, k := range md.Keys() {
			if len(k) == 3 && k[1] == "fields" && (k[0] == "list" || k[0] == "detail") {
				p.keyOrder = append(p.keyOrder, k[2])
			}
		}
	default:
		return nil, &ProfileError{File: name, Msg: fmt.Sprintf("unknown format %q (want toml or json)", format)}
	}
	if err := p.validate(name); err != nil {
		return nil, err
	}
	return &p, nil
}

func jsonErrorText(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line := bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")) + 1
		return fmt.Sprintf("line %d: %v", line, se)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: must be %s, not %s", te.Field, te.Type, te.Value)
	}
	// DisallowUnknownFields reports `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// validate checks p and fills in defaults.
func (p *Profile) validate(file string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ProfileError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	checkURL := func(field, v string, required bool) {
		if v == "" {
			if required {
				bad(field, "is required")
			}
			return
		}
		u, err := url.Parse(v)
		if err != nil {
			bad(field, "not a URL: %v", errors.Unwrap(err))
			return
		}
		if u.IsAbs() && u.Scheme != "http" && u.Scheme != "https" {
			bad(field, "must be an http or https URL, not %q", u.Scheme)
		}
	}
	checkSel := func(field, v string, required bool) {
		if required && strings.TrimSpace(v) == "" {
			bad(field, "is required (a CSS selector)")
		} else if v != "" {
			if msg := checkSelector(v); msg != "" {
				bad(field, "%s", msg)
			}
		}
	}
	if p.BaseURL != "" {
		checkURL("base_url", p.BaseURL, false)
		if u, err := url.Parse(p.BaseURL); err == nil && !u.IsAbs() {
			bad("base_url", "must be an absolute URL such as https://portal.example.com")
		}
	}
	if p.Timezone != "" {
		loc, err := time.LoadLocation(p.Timezone)
		if err != nil || p.Timezone == "Local" {
			bad("timezone", "%q is not an IANA time zone such as America/Chicago", p.Timezone)
		} else {
			p.loc = loc
		}
	}
	p.validateLogin(bad, checkURL)
	checkURL("list.url", p.List.URL, true)
	checkSel("list.row", p.List.Row, true)
	checkSel("list.empty", p.List.Empty, true)
	checkSel("list.error", p.List.Error, false)
	checkSel("list.loading", p.List.Loading, false)
	checkSel("list.page_size.selector", p.List.PageSize.Selector, false)
	for i, c := range p.List.PageSize.Clicks {
		if c != "" {
			checkSel(fmt.Sprintf("list.page_size.clicks[%d]", i), c, false)
		}
	}
	checkSel("list.next.selector", p.List.Next.Selector, false)
	p.validateList(bad)
	if p.List.Total != nil {
		p.checkFieldDef("list.total", "total", p.List.Total, bad)
	}
	p.validateFields(bad)
	for _, t := range []struct {
		name string
		d    *Duration
	}{{"timeouts.browser", &p.Timeouts.Browser}, {"timeouts.login", &p.Timeouts.Login},
		{"timeouts.page", &p.Timeouts.Page}, {"timeouts.detail", &p.Timeouts.Detail}} {
		if t.d.Duration == 0 {
			t.d.Duration = 30 * time.Second
		} else if t.d.Duration < 100*time.Millisecond {
			bad(t.name, "is too short (%s); use at least 100ms", t.d.Duration)
		}
	}
	return errors.Join(errs...)
}

// resolve returns ref as an absolute URL against base.
func resolve(base *url.URL, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if base == nil {
		if !u.IsAbs() {
			return "", fmt.Errorf("%q is relative and no base URL is set", ref)
		}
		return u.String(), nil
	}
	return base.ResolveReference(u).String(), nil
}
