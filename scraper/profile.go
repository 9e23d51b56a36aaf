package scraper

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Profile describes a portal: where to sign in, where the work-order list is, how rows, fields,
// pagination and detail pages are found, and how long each step may take. Selectors are CSS.
// Profiles are TOML or JSON files (LoadProfile); DemoProfile matches the demo portal.
type Profile struct {
	Name string `toml:"name" json:"name"`
	// BaseURL is the portal's address; relative URLs resolve against it. Config.BaseURL, when
	// set, overrides it.
	BaseURL  string         `toml:"base_url" json:"base_url"`
	Login    LoginProfile   `toml:"login" json:"login"`
	List     ListProfile    `toml:"list" json:"list"`
	Detail   DetailProfile  `toml:"detail" json:"detail"`
	Timeouts TimeoutProfile `toml:"timeouts" json:"timeouts"`
}

// LoginProfile says how to sign in.
type LoginProfile struct {
	URL      string `toml:"url" json:"url"`           // the login page
	Username string `toml:"username" json:"username"` // the user name or email input
	Password string `toml:"password" json:"password"` // the password input
	Submit   string `toml:"submit" json:"submit"`     // the button that sends the form
	// Form is present on any page that asks for a login; a list or detail page showing it means
	// the session ended. Defaults to Username.
	Form string `toml:"form" json:"form"`
	// Failure is the message a failed login shows; its text is reported to the user.
	Failure string `toml:"failure" json:"failure"`
	// Success, when set, must appear after a successful login; otherwise the login form going
	// away is success.
	Success string `toml:"success" json:"success"`
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

// DetailProfile says how to read an order's detail page.
type DetailProfile struct {
	// URLField names the list field that holds the detail page's URL; default "detail_url" when
	// that field exists, else "visit_url".
	URLField string `toml:"url_field" json:"url_field"`
	// Mode is "navigate" (open the page in a tab; works for pages rendered by JavaScript) or
	// "fetch" (fetch the HTML with the session and parse it; faster, for server-rendered pages).
	Mode string `toml:"mode" json:"mode"`
	// Concurrency is how many detail pages are read at a time; default 4.
	Concurrency int `toml:"concurrency" json:"concurrency"`
	// Error is a marker of the portal's error page.
	Error  string           `toml:"error" json:"error"`
	Fields map[string]Field `toml:"fields" json:"fields"`
}

// TimeoutProfile bounds each step. Zero values take the defaults.
type TimeoutProfile struct {
	Browser Duration `toml:"browser" json:"browser"` // starting the browser; default 30s
	Login   Duration `toml:"login" json:"login"`     // signing in; default 30s
	Page    Duration `toml:"page" json:"page"`       // loading one list page; default 30s
	Detail  Duration `toml:"detail" json:"detail"`   // loading one detail page; default 30s
}

// Field locates one value in a row (or a detail page).
type Field struct {
	// Selector is relative to the row; empty means the row itself.
	Selector string `toml:"selector" json:"selector"`
	// Attribute to read instead of the text; "href" and "src" give absolute URLs.
	Attribute string `toml:"attribute" json:"attribute"`
	// Regex extracts part of the value: its first group, or the whole match.
	Regex string `toml:"regex" json:"regex"`
	// All collects every match of Selector (a list, e.g. items).
	All bool `toml:"all" json:"all"`
	// Multiline keeps line breaks (trimming each line); otherwise white space is collapsed.
	Multiline bool `toml:"multiline" json:"multiline"`
	// DateLayouts are Go time layouts tried to normalise a date to YYYY-MM-DD.
	DateLayouts []string `toml:"date_layouts" json:"date_layouts"`
	// Optional fields may be missing from a row.
	Optional bool `toml:"optional" json:"optional"`

	re *regexp.Regexp
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

// The list fields a profile may name, in the order of scheduler.Order.
var listFieldNames = []string{
	"id", "number", "customer", "store_number", "site_name", "street", "city", "state", "zip",
	"service_code", "service_name", "items", "visit_date", "visit_url", "detail_url",
}

// The detail fields a profile may name.
var detailFieldNames = []string{"instructions"}

// ProfileError is a problem with a profile; it names the file and the field.
type ProfileError struct {
	File  string // the profile's file, or "built-in profile"
	Field string // dotted path such as "list.fields.number.regex"; empty for the whole file
	Msg   string
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

// LoadProfile reads and validates a profile file; ".json" files are JSON, others TOML. Its
// errors are *ProfileError values (joined when there are several).
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ProfileError{File: path, Msg: fmt.Sprintf("cannot read it: %v", errors.Unwrap(err))}
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
		}
	}
	if p.BaseURL != "" {
		checkURL("base_url", p.BaseURL, false)
		if u, err := url.Parse(p.BaseURL); err == nil && !u.IsAbs() {
			bad("base_url", "must be an absolute URL such as https://portal.example.com")
		}
	}
	checkURL("login.url", p.Login.URL, true)
	checkSel("login.username", p.Login.Username, true)
	checkSel("login.password", p.Login.Password, true)
	checkSel("login.submit", p.Login.Submit, true)
	if p.Login.Form == "" {
		p.Login.Form = p.Login.Username
	}
	checkURL("list.url", p.List.URL, true)
	checkSel("list.row", p.List.Row, true)
	checkSel("list.empty", p.List.Empty, true)
	p.validateList(bad)
	if p.List.Total != nil {
		p.checkField("list.total", p.List.Total, bad)
	}
	if len(p.List.Fields) == 0 {
		bad("list.fields", "is required: at least number")
	}
	for name, f := range p.List.Fields {
		if !slices.Contains(listFieldNames, name) {
			bad("list.fields."+name, "unknown field (known: %s)", strings.Join(listFieldNames, ", "))
			continue
		}
		p.checkField("list.fields."+name, &f, bad)
		if f.All && name != "items" {
			bad("list.fields."+name+".all", "only items may collect several values")
		}
		p.List.Fields[name] = f
	}
	if len(p.List.Fields) > 0 {
		if f, ok := p.List.Fields["number"]; !ok {
			bad("list.fields.number", "is required")
		} else if f.Optional {
			bad("list.fields.number.optional", "the work-order number cannot be optional")
		}
	}
	switch p.Detail.Mode {
	case "":
		p.Detail.Mode = "navigate"
	case "navigate", "fetch":
	default:
		bad("detail.mode", "must be \"navigate\" or \"fetch\", not %q", p.Detail.Mode)
	}
	if p.Detail.Concurrency < 0 || p.Detail.Concurrency > 16 {
		bad("detail.concurrency", "must be between 1 and 16")
	} else if p.Detail.Concurrency == 0 {
		p.Detail.Concurrency = 4
	}
	for name, f := range p.Detail.Fields {
		if !slices.Contains(detailFieldNames, name) {
			bad("detail.fields."+name, "unknown field (known: %s)", strings.Join(detailFieldNames, ", "))
			continue
		}
		p.checkField("detail.fields."+name, &f, bad)
		if f.All {
			bad("detail.fields."+name+".all", "only items may collect several values")
		}
		p.Detail.Fields[name] = f
	}
	if len(p.Detail.Fields) > 0 {
		if p.Detail.URLField == "" {
			p.Detail.URLField = "visit_url"
			if _, ok := p.List.Fields["detail_url"]; ok {
				p.Detail.URLField = "detail_url"
			}
		}
		if _, ok := p.List.Fields[p.Detail.URLField]; !ok && slices.Contains(listFieldNames, p.Detail.URLField) {
			bad("detail.url_field", "names list field %q, which list.fields does not define", p.Detail.URLField)
		} else if !ok {
			bad("detail.url_field", "must be visit_url or detail_url, not %q", p.Detail.URLField)
		}
	}
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

func (p *Profile) checkField(path string, f *Field, bad func(field, format string, args ...any)) {
	if f.Regex != "" {
		re, err := regexp.Compile(f.Regex)
		if err != nil {
			bad(path+".regex", "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else if re.NumSubexp() > 1 {
			bad(path+".regex", "has %d groups; use at most one (mark others (?:...))", re.NumSubexp())
		} else {
			f.re = re
		}
	}
	for i, l := range f.DateLayouts {
		if !strings.ContainsAny(l, "0123456789") || !strings.Contains(l, "2006") && !strings.Contains(l, "06") {
			bad(fmt.Sprintf("%s.date_layouts[%d]", path, i), "%q is not a Go date layout (write the date 2006-01-02, e.g. \"01/02/2006\")", l)
		}
	}
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
