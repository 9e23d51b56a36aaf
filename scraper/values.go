package scraper

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"worktray/scheduler"
)

// parseRow turns the raw values of one row into an order.
func (r *run) parseRow(raw []json.RawMessage, pageURL string, page, row int) (scheduler.Order, error) {
	var o scheduler.Order
	var detailURL string
	for i, f := range r.s.listFields {
		var v any
		if i < len(raw) {
			_ = json.Unmarshal(raw[i], &v)
		}
		if f.All {
			var items []string
			if list, ok := v.([]any); ok {
				for _, it := range list {
					if s, ok := it.(string); ok {
						if c, ok := f.clean(s); ok && c != "" {
							items = append(items, c)
						}
					}
				}
			}
			if f.name == "items" {
				o.Items = items
			}
			continue
		}
		s, isStr := v.(string)
		val, ok := "", false
		if isStr {
			val, ok = f.clean(s)
		}
		if !ok {
			if f.Optional {
				continue
			}
			why := "matched nothing"
			if isStr {
				why = fmt.Sprintf("gave %q, which its regex %q does not match", strings.TrimSpace(s), f.Regex)
			} else if f.Attribute != "" {
				why = fmt.Sprintf("has no attribute %q or matched nothing", f.Attribute)
			}
			return o, scheduler.Errorf(scheduler.ClassLayoutChanged,
				"row %d on page %d of the work-order list: list.fields.%s (selector %q) %s; the portal's layout may have changed: update the profile",
				row, page, f.name, f.Selector, why)
		}
		if strings.HasSuffix(f.name, "_url") && val != "" {
			val = absURL(pageURL, val)
		}
		switch f.name {
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
		case "detail_url":
			detailURL = val
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
		if r.detailURLs == nil {
			r.detailURLs = map[string]string{}
		}
		r.detailURLs[o.PortalID] = detailURL
	}
	return o, nil
}

// clean normalises a raw value: white space, then the regex, then date layouts. ok is false
// when the regex does not match.
func (f *fieldSpec) clean(s string) (string, bool) {
	if f.Multiline {
		lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		out := lines[:0]
		for _, l := range lines {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				out = append(out, l)
			}
		}
		s = strings.Join(out, "\n")
	} else {
		s = strings.Join(strings.Fields(s), " ")
	}
	if f.re != nil {
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = strings.TrimSpace(m[len(m)-1])
	}
	for _, l := range f.DateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(time.DateOnly), true
		}
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
