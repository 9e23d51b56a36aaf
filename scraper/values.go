package scraper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"worktray/scheduler"
)

// fieldSpec is a profile field ready for use.
type fieldSpec struct {
	name   string
	custom bool // not a built-in field: stored in Order.Custom
	Field
}

// newFieldSpec returns the spec of the profile field name.
func newFieldSpec(name string, f Field) fieldSpec {
	return fieldSpec{name: name, custom: !slices.Contains(builtinFieldNames, name), Field: f}
}

// parseRow turns the raw values of one row into an order.
func (r *run) parseRow(raw []json.RawMessage, pageURL string, page, row int) (scheduler.Order, error) {
	var o scheduler.Order
	var detailURL string
	for i, f := range r.s.listFields {
		var rv json.RawMessage
		if i < len(raw) {
			rv = raw[i]
		}
		if why := r.s.applyField(&o, &f, rv, pageURL, &detailURL); why != "" {
			return o, scheduler.Errorf(scheduler.ClassLayoutChanged,
				"row %d on page %d of the work-order list: list.fields.%s (selector %q) %s; the portal's layout may have changed: update the profile",
				row, page, f.name, f.Selector, why)
		}
	}
	if o.PortalID == "" {
		o.PortalID = o.Number
	}
	if o.PortalID == "" {
		return o, scheduler.Errorf(scheduler.ClassLayoutChanged,
			"row %d on page %d of the work-order list has no work-order number; the portal's layout may have changed: update the profile", row, page)
	}
	if r.s.prof.Detail.URLField == "detail_url" {
		r.detailMu.Lock()
		if r.detailURLs == nil {
			r.detailURLs = map[string]string{}
		}
		r.detailURLs[o.PortalID] = detailURL
		r.detailMu.Unlock()
	}
	return o, nil
}

// applyField stores the raw value of field f (a JSON string, a list of strings, or null) in o.
// It returns why a required value is missing or cannot be read, or "" when all is well.
// detailURL receives the detail_url field.
func (s *Scraper) applyField(o *scheduler.Order, f *fieldSpec, raw json.RawMessage, pageURL string, detailURL *string) string {
	var v any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &v)
	}
	if f.All {
		var items []string
		if list, ok := v.([]any); ok {
			for _, it := range list {
				if str, ok := it.(string); ok {
					if c, ok := f.clean(str); ok && c != "" {
						items = append(items, c)
					}
				}
			}
		}
		if len(items) == 0 && v == nil && !f.Optional {
			return "matched nothing"
		}
		if f.custom {
			o.Custom = append(o.Custom, scheduler.CustomField{Name: f.name, Label: f.Label, Type: scheduler.FieldList,
				Value: strings.Join(items, ", "), Items: items})
		} else {
			o.Items = items
		}
		return ""
	}
	str, isStr := v.(string)
	val, ok := "", false
	if isStr {
		val, ok = f.clean(str)
	}
	if !ok {
		if f.Optional {
			return ""
		}
		switch {
		case isStr:
			return fmt.Sprintf("gave %q, which its regex %q does not match", strings.TrimSpace(str), f.Regex)
		case f.Attribute != "":
			return fmt.Sprintf("has no attribute %q or matched nothing", f.Attribute)
		}
		return "matched nothing"
	}
	if strings.HasSuffix(f.name, "_url") && val != "" {
		val = absURL(pageURL, val)
	}
	val, at, why := f.convert(val, s.loc)
	if why != "" {
		if f.Optional && val == "" {
			return ""
		}
		return why
	}
	if f.custom {
		o.Custom = append(o.Custom, scheduler.CustomField{Name: f.name, Label: f.Label, Type: f.Type, Value: val})
		return ""
	}
	if f.name == "detail_url" {
		*detailURL = val
		return ""
	}
	if f.name == "visit_date" {
		o.VisitAt = at
	}
	setBuiltin(o, f.name, val)
	return ""
}

// convert normalises a cleaned value by the field's type: an integer without separators, a
// date as YYYY-MM-DD, a date-time as RFC 3339 in UTC. visit_date is read leniently (a date that
// no layout reads is kept as shown) and, when its layout has a time of day, also gives the
// visit's instant. Dates and times are read in loc. why is "" when the value is fine.
func (f *fieldSpec) convert(v string, loc *time.Location) (val string, at time.Time, why string) {
	parse := func(layouts []string) (time.Time, string, bool) {
		for _, l := range layouts {
			if t, err := time.ParseInLocation(l, v, loc); err == nil {
				return t, l, true
			}
		}
		return time.Time{}, "", false
	}
	switch {
	case f.name == "visit_date":
		t, l, ok := parse(f.DateLayouts)
		if !ok {
			return v, time.Time{}, ""
		}
		if layoutHasClock(l) {
			return t.Format(time.DateOnly), t.UTC(), ""
		}
		return t.Format(time.DateOnly), time.Time{}, ""
	case !f.custom:
		return v, time.Time{}, ""
	case v == "" && f.Type != scheduler.FieldText:
		return "", time.Time{}, "is empty"
	}
	switch f.Type {
	case scheduler.FieldInteger:
		digits := strings.NewReplacer(",", "", " ", "", "\u00a0", "", "_", "").Replace(v)
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return v, time.Time{}, fmt.Sprintf("gave %q, which is not a whole number (type = \"integer\")", v)
		}
		return strconv.FormatInt(n, 10), time.Time{}, ""
	case scheduler.FieldDate:
		layouts := f.DateLayouts
		if len(layouts) == 0 {
			layouts = []string{time.DateOnly}
		}
		t, _, ok := parse(layouts)
		if !ok {
			return v, time.Time{}, fmt.Sprintf("gave %q, which none of its date_layouts %q reads", v, layouts)
		}
		return t.Format(time.DateOnly), time.Time{}, ""
	case scheduler.FieldDateTime:
		t, _, ok := parse(f.DateLayouts)
		if !ok {
			return v, time.Time{}, fmt.Sprintf("gave %q, which none of its date_layouts %q reads", v, f.DateLayouts)
		}
		return t.UTC().Format(time.RFC3339), t.UTC(), ""
	}
	return v, time.Time{}, ""
}

// setBuiltin sets the built-in field name of o (not items, detail_url or the portal id's
// fallback).
func setBuiltin(o *scheduler.Order, name, val string) {
	switch name {
	case "id":
		o.PortalID = val
	case "number":
		o.Number = val
	case "customer":
		o.Customer = val
	case "store_number":
		o.StoreNumber = val
	case "site_name":
		o.SiteName = val
	case "street":
		o.Address.Street = val
	case "city":
		o.Address.City = val
	case "state":
		o.Address.State = val
	case "zip":
		o.Address.Zip = val
	case "service_code":
		o.ServiceCode = val
	case "service_name":
		o.ServiceName = val
	case "visit_date":
		o.VisitDate = val
	case "visit_url":
		o.VisitURL = val
	case "instructions":
		o.Instructions = val
	}
}

// builtinValue returns the built-in field name of o as text (items joined, visit_date with
// its instant).
func builtinValue(o scheduler.Order, name string) string {
	switch name {
	case "id":
		return o.PortalID
	case "number":
		return o.Number
	case "customer":
		return o.Customer
	case "store_number":
		return o.StoreNumber
	case "site_name":
		return o.SiteName
	case "street":
		return o.Address.Street
	case "city":
		return o.Address.City
	case "state":
		return o.Address.State
	case "zip":
		return o.Address.Zip
	case "service_code":
		return o.ServiceCode
	case "service_name":
		return o.ServiceName
	case "items":
		return strings.Join(o.Items, "\x1f")
	case "visit_date":
		return o.VisitDate + "\x1f" + o.VisitAt.UTC().Format(time.RFC3339)
	case "visit_url":
		return o.VisitURL
	case "instructions":
		return o.Instructions
	}
	return ""
}

// customValue returns the custom field name of o and whether o has it.
func customValue(o scheduler.Order, name string) (scheduler.CustomField, bool) {
	for _, c := range o.Custom {
		if c.Name == name {
			return c, true
		}
	}
	return scheduler.CustomField{}, false
}

// rowHash hashes the values o has of the profile's list fields. Equal hashes of a scraped order
// and its stored copy mean the list row did not change, so its detail page need not be read
// again for that reason.
func (s *Scraper) rowHash(o scheduler.Order) string {
	h := sha256.New()
	for _, f := range s.listFields {
		h.Write([]byte(f.name))
		h.Write([]byte{0})
		if f.custom {
			c, _ := customValue(o, f.name)
			h.Write([]byte(c.Value))
			h.Write([]byte{0})
			h.Write([]byte(strings.Join(c.Items, "\x1f")))
		} else {
			h.Write([]byte(builtinValue(o, f.name)))
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// copyDetail copies the values of the profile's detail fields from the stored order k to o,
// with the time they were read.
func (s *Scraper) copyDetail(o *scheduler.Order, k scheduler.Order) {
	for _, f := range s.detailFields {
		switch {
		case f.custom:
			if c, ok := customValue(k, f.name); ok {
				o.Custom = append(o.Custom, c)
			}
		case f.name == "items":
			o.Items = slices.Clone(k.Items)
		case f.name == "visit_date":
			o.VisitDate, o.VisitAt = k.VisitDate, k.VisitAt
		default:
			setBuiltin(o, f.name, builtinValue(k, f.name))
		}
	}
	o.DetailReadAt = k.DetailReadAt
}

// clean normalises a raw value: white space as a person sees it (visibleText: a multiline
// value keeps its line breaks and one blank line between paragraphs), then the regex. ok is
// false when the regex does not match.
func (f *fieldSpec) clean(s string) (string, bool) {
	s = visibleText(s, f.Multiline)
	if f.re != nil {
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = strings.TrimSpace(m[len(m)-1])
	}
	return s, true
}

// absURL resolves ref against the page's URL.
func absURL(pageURL, ref string) string {
	b, err := url.Parse(pageURL)
	if err != nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(u).String()
}
