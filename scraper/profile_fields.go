package scraper

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"

	"worktray/scheduler"
)

// Field locates one value in a list row or on a detail page, and says what kind of value it is.
type Field struct {
	// Selector is relative to the row (or the detail page's document); empty means the row
	// itself.
	Selector string `toml:"selector" json:"selector"`
	// Attribute to read instead of the text, e.g. "title" for a tooltip; "href" and "src" give
	// absolute URLs.
	Attribute string `toml:"attribute" json:"attribute"`
	// Regex extracts part of the value: its first group, or the whole match.
	Regex string `toml:"regex" json:"regex"`
	// All collects every match of Selector: required for items and for fields of type "list",
	// refused for every other field.
	All bool `toml:"all" json:"all"`
	// Multiline keeps line breaks (trimming each line, keeping one blank line between
	// paragraphs); otherwise white space is collapsed to single spaces.
	Multiline bool `toml:"multiline" json:"multiline"`
	// DateLayouts are Go time layouts ("01/02/2006 15:04") tried in turn on a date or date-time
	// value. On visit_date a layout with a time of day also sets the visit's time.
	DateLayouts []string `toml:"date_layouts" json:"date_layouts"`
	// Optional fields may be missing from a row or page; a required field that is missing is a
	// layout change.
	Optional bool `toml:"optional" json:"optional"`
	// Type is the type of a custom field: "text" (the default), "integer", "date", "date-time"
	// or "list". Built-in fields have fixed types and take no type.
	Type scheduler.FieldType `toml:"type" json:"type"`
	// Label is the heading a custom field is shown under; default: its name.
	Label string `toml:"label" json:"label"`

	re *regexp.Regexp
}

// DetailProfile says how to read an order's detail page.
type DetailProfile struct {
	// URLField names the list field that holds the detail page's URL; default "detail_url" when
	// that field exists, else "visit_url".
	URLField string `toml:"url_field" json:"url_field"`
	// Mode is "navigate" (open the page in a tab; works for pages drawn by JavaScript) or
	// "fetch" (fetch the HTML with the session and parse it; faster, for server-rendered pages).
	Mode string `toml:"mode" json:"mode"`
	// Concurrency is how many detail pages are read at a time; default 4.
	Concurrency int `toml:"concurrency" json:"concurrency"`
	// Error is a marker of the portal's error page.
	Error string `toml:"error" json:"error"`
	// Refresh is how old a known order's detail may get before it is read again although its
	// list row did not change (office edits arrive within that time); default 24h.
	Refresh Duration `toml:"refresh" json:"refresh"`
	// RefreshPerRun bounds those re-reads per scrape, oldest first, so an hourly scrape stays
	// fast; default 10. New orders, changed rows and earlier failures do not count against it.
	RefreshPerRun int `toml:"refresh_per_run" json:"refresh_per_run"`
	// Fields are read from the detail page: any built-in field but id, number and the detail
	// link, or any custom field. A field is read from the list or the detail page, not both.
	Fields map[string]Field `toml:"fields" json:"fields"`
}

// builtinFieldNames are the fields of scheduler.Order a profile may name, in its order. Any other
// name is a custom field.
var builtinFieldNames = []string{
	"id", "number", "customer", "store_number", "site_name", "street", "city", "state", "zip",
	"service_code", "service_name", "items", "visit_date", "visit_url", "detail_url", "instructions",
}

// listOnlyFields must be read from the list: they identify the order and lead to its detail.
var listOnlyFields = []string{"id", "number", "detail_url"}

// customFieldName is the form of a custom field's name.
var customFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// fieldTypes are the types a custom field may have.
var fieldTypes = []scheduler.FieldType{scheduler.FieldText, scheduler.FieldInteger, scheduler.FieldDate,
	scheduler.FieldDateTime, scheduler.FieldList}

// browserOnlyPseudo are standard CSS pseudo-classes that Chromium knows and the selector parser
// (cascadia) does not; a selector using them is left to the browser.
var browserOnlyPseudo = []string{":is(", ":where(", ":has(", ":scope", ":focus-visible", ":focus-within",
	":placeholder-shown", ":read-only", ":read-write", ":default", ":indeterminate", ":defined"}

// checkSelector parses a CSS selector group; it returns "" when it is valid.
func checkSelector(sel string) string {
	if _, err := cascadia.ParseGroup(sel); err != nil {
		for _, p := range browserOnlyPseudo {
			if strings.Contains(sel, p) {
				return ""
			}
		}
		return fmt.Sprintf("%q is not a valid CSS selector: %v", sel, err)
	}
	return ""
}

// badFunc reports one problem of a profile at a dotted field path.
type badFunc func(field, format string, args ...any)

// validateFields checks list.fields and detail.fields together: names, types and the
// combinations that would otherwise be dropped without a word. It fills in defaults.
func (p *Profile) validateFields(bad badFunc) {
	if len(p.List.Fields) == 0 {
		bad("list.fields", "is required: at least number")
	}
	for name, f := range p.List.Fields {
		path := "list.fields." + name
		p.checkFieldDef(path, name, &f, bad)
		p.List.Fields[name] = f
	}
	if len(p.List.Fields) > 0 {
		if f, ok := p.List.Fields["number"]; !ok {
			bad("list.fields.number", "is required")
		} else if f.Optional {
			bad("list.fields.number.optional", "the work-order number cannot be optional")
		}
	}
	for name, f := range p.Detail.Fields {
		path := "detail.fields." + name
		if slices.Contains(listOnlyFields, name) {
			bad(path, "must be read from the list (it identifies the order or leads to its detail page); move it to list.fields")
			continue
		}
		if _, dup := p.List.Fields[name]; dup {
			bad(path, "is also in list.fields; read each field from one place (the list row or the detail page)")
			continue
		}
		p.checkFieldDef(path, name, &f, bad)
		p.Detail.Fields[name] = f
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
	if p.Detail.Refresh.Duration == 0 {
		p.Detail.Refresh.Duration = 24 * time.Hour
	} else if p.Detail.Refresh.Duration < time.Minute {
		bad("detail.refresh", "is too short (%s); use at least 1m", p.Detail.Refresh.Duration)
	}
	if p.Detail.RefreshPerRun < 0 {
		bad("detail.refresh_per_run", "must not be negative (0 takes the default, 10)")
	} else if p.Detail.RefreshPerRun == 0 {
		p.Detail.RefreshPerRun = 10
	}
	if p.Detail.Error != "" {
		if msg := checkSelector(p.Detail.Error); msg != "" {
			bad("detail.error", "%s", msg)
		}
	}
	if len(p.Detail.Fields) == 0 {
		if _, ok := p.List.Fields["detail_url"]; ok {
			bad("list.fields.detail_url", "is read but no detail.fields use the detail page, so it would be dropped; remove it or add detail.fields")
		}
		for _, k := range []struct {
			set  bool
			name string
		}{{p.Detail.URLField != "", "detail.url_field"}, {p.Detail.Error != "", "detail.error"}} {
			if k.set {
				bad(k.name, "is set but detail.fields is empty, so no detail page is read; add detail.fields or remove it")
			}
		}
		return
	}
	if p.Detail.URLField == "" {
		p.Detail.URLField = "visit_url"
		if _, ok := p.List.Fields["detail_url"]; ok {
			p.Detail.URLField = "detail_url"
		}
	}
	if p.Detail.URLField != "visit_url" && p.Detail.URLField != "detail_url" {
		bad("detail.url_field", "must be visit_url or detail_url, not %q", p.Detail.URLField)
	} else if _, ok := p.List.Fields[p.Detail.URLField]; !ok {
		bad("detail.url_field", "names list field %q, which list.fields does not define", p.Detail.URLField)
	}
	if _, ok := p.List.Fields["detail_url"]; ok && p.Detail.URLField != "detail_url" {
		bad("list.fields.detail_url", "is read but detail.url_field is %q, so it would be dropped", p.Detail.URLField)
	}
}

// checkFieldDef checks one field definition at path and compiles its regex.
func (p *Profile) checkFieldDef(path, name string, f *Field, bad badFunc) {
	builtin := slices.Contains(builtinFieldNames, name)
	switch {
	case builtin && f.Type != "":
		bad(path+".type", "%s is a built-in field with its own type; type is only for custom fields", name)
	case !builtin && !customFieldName.MatchString(name):
		bad(path, "a custom field's name must be lower case letters, digits and _ (e.g. dispenser_count), at most 40; the built-in fields are %s",
			strings.Join(builtinFieldNames, ", "))
		return
	case !builtin && f.Type == "":
		f.Type = scheduler.FieldText
	case !builtin && !slices.Contains(fieldTypes, f.Type):
		bad(path+".type", "must be text, integer, date, date-time or list, not %q", f.Type)
		return
	}
	if builtin && f.Label != "" {
		bad(path+".label", "built-in fields have their own heading; label is only for custom fields")
	}
	if f.Selector != "" {
		if msg := checkSelector(f.Selector); msg != "" {
			bad(path+".selector", "%s", msg)
		}
	}
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
	wantsList := name == "items" || f.Type == scheduler.FieldList
	switch {
	case wantsList && !f.All:
		bad(path+".all", "must be true: %s collects every match of its selector (without it only the first would be kept)", name)
	case !wantsList && f.All:
		if builtin {
			bad(path+".all", "only items and fields of type \"list\" may collect several values")
		} else {
			bad(path+".all", "only fields of type \"list\" may collect several values; set type = \"list\"")
		}
	}
	dated := name == "visit_date" || f.Type == scheduler.FieldDate || f.Type == scheduler.FieldDateTime
	if len(f.DateLayouts) > 0 && !dated {
		bad(path+".date_layouts", "would be ignored: only visit_date and fields of type \"date\" or \"date-time\" read dates")
	}
	if f.Type == scheduler.FieldDateTime && len(f.DateLayouts) == 0 {
		bad(path+".date_layouts", "is required for a date-time field (e.g. [\"Mon 02 Jan 2006 15:04\"])")
	}
	for i, l := range f.DateLayouts {
		at := fmt.Sprintf("%s.date_layouts[%d]", path, i)
		if !strings.ContainsAny(l, "0123456789") || !strings.Contains(l, "2006") && !strings.Contains(l, "06") {
			bad(at, "%q is not a Go date layout (write the date 2006-01-02, e.g. \"01/02/2006\")", l)
		} else if f.Type == scheduler.FieldDate && layoutHasClock(l) {
			bad(at, "%q has a time of day, which a date field drops; use type = \"date-time\"", l)
		} else if f.Type == scheduler.FieldDateTime && !layoutHasClock(l) {
			bad(at, "%q has no time of day (write the time 15:04); use type = \"date\"", l)
		}
	}
	if f.Multiline && (f.Type == scheduler.FieldInteger || f.Type == scheduler.FieldDate || f.Type == scheduler.FieldDateTime) {
		bad(path+".multiline", "would be ignored on a field of type %q", f.Type)
	}
	if name == "id" && f.Optional {
		bad(path+".optional", "the portal id cannot be optional; leave id out to use the number")
	}
}

// layoutHasClock reports whether a Go time layout reads a time of day.
func layoutHasClock(l string) bool {
	return strings.Contains(l, "15") || strings.Contains(l, ":04") || strings.Contains(l, "3:") || strings.Contains(l, "03")
}

// fieldOrder returns the names of fields in the order a profile gives them: built-in fields in
// scheduler.Order's order, then custom fields in the order of keys (the file's order for TOML),
// then any others by name.
func fieldOrder(fields map[string]Field, keys []string) []string {
	var out []string
	for _, n := range builtinFieldNames {
		if _, ok := fields[n]; ok {
			out = append(out, n)
		}
	}
	for _, n := range keys {
		if _, ok := fields[n]; ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range fields {
		if !slices.Contains(out, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
