package orderlist

import (
	"strings"
	"time"

	"worktray/scheduler"
)

// Column is one column of the work-order list: Key is its stable name (the CSV header and the
// --sort name: a built-in field's JSON name, or a custom field's name), Title the heading shown
// to people, Value its text for an order.
type Column struct {
	Key   string
	Title string
	// Custom is set for a custom field's column.
	Custom bool
	Value  func(o scheduler.Order) string
}

// Instant formats t as RFC 3339 in UTC, or "" for the zero time: how every instant appears in
// CSV and JSON.
func Instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// builtin are the built-in columns, in CSV order.
var builtin = []Column{
	{Key: "number", Title: "Number", Value: func(o scheduler.Order) string { return o.Number }},
	{Key: "mark", Title: "Mark", Value: func(o scheduler.Order) string { return MarkText(o) }},
	{Key: "visit_date", Title: "Visit", Value: func(o scheduler.Order) string { return o.VisitDate }},
	{Key: "visit_at", Title: "Visit time", Value: func(o scheduler.Order) string { return Instant(o.VisitAt) }},
	{Key: "customer", Title: "Customer", Value: func(o scheduler.Order) string { return o.Customer }},
	{Key: "store_number", Title: "Store", Value: func(o scheduler.Order) string { return o.StoreNumber }},
	{Key: "site_name", Title: "Site", Value: func(o scheduler.Order) string { return o.SiteName }},
	{Key: "street", Title: "Street", Value: func(o scheduler.Order) string { return o.Address.Street }},
	{Key: "city", Title: "City", Value: func(o scheduler.Order) string { return o.Address.City }},
	{Key: "state", Title: "State", Value: func(o scheduler.Order) string { return o.Address.State }},
	{Key: "zip", Title: "ZIP", Value: func(o scheduler.Order) string { return o.Address.Zip }},
	{Key: "service_code", Title: "Service code", Value: func(o scheduler.Order) string { return o.ServiceCode }},
	{Key: "service_name", Title: "Service", Value: func(o scheduler.Order) string { return o.ServiceName }},
	{Key: "items", Title: "Items", Value: func(o scheduler.Order) string { return strings.Join(o.Items, "; ") }},
	{Key: "instructions", Title: "Instructions", Value: func(o scheduler.Order) string { return o.Instructions }},
	{Key: "visit_url", Title: "Portal link", Value: func(o scheduler.Order) string { return o.VisitURL }},
	{Key: "portal_id", Title: "Portal id", Value: func(o scheduler.Order) string { return o.PortalID }},
	{Key: "detail_missing", Title: "Detail missing", Value: func(o scheduler.Order) string { return o.DetailMissing }},
	{Key: "first_seen", Title: "First seen", Value: func(o scheduler.Order) string { return Instant(o.FirstSeen) }},
	{Key: "last_seen", Title: "Last seen", Value: func(o scheduler.Order) string { return Instant(o.LastSeen) }},
	{Key: "changed_at", Title: "Last changed", Value: func(o scheduler.Order) string { return Instant(o.ChangedAt) }},
	{Key: "missing_since", Title: "Missing since", Value: func(o scheduler.Order) string { return Instant(o.MissingSince) }},
	{Key: "removed_at", Title: "Removed", Value: func(o scheduler.Order) string { return Instant(o.RemovedAt) }},
}

// Columns returns the columns of a list of orders: the built-in ones, then one per custom field
// any of the orders has, in the order the fields first appear (the profile's order). The same
// orders always give the same columns.
func Columns(orders []scheduler.Order) []Column {
	cols := append([]Column(nil), builtin...)
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c.Key] = true
	}
	for _, o := range orders {
		for _, f := range o.Custom {
			if seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			title := f.Label
			if title == "" {
				title = f.Name
			}
			name := f.Name
			cols = append(cols, Column{Key: name, Title: title, Custom: true, Value: func(o scheduler.Order) string {
				return CustomValue(o, name)
			}})
		}
	}
	return cols
}

// CustomValue returns the text of the custom field name of o ("" when it has none): a list's
// items joined with ", ", any other type's normalised value.
func CustomValue(o scheduler.Order, name string) string {
	for _, f := range o.Custom {
		if f.Name == name {
			if f.Type == scheduler.FieldList && len(f.Items) > 0 {
				return strings.Join(f.Items, ", ")
			}
			return f.Value
		}
	}
	return ""
}

// MarkText is the mark column's text: "removed" for a removed order, "missing" for one the
// last complete read lacked, else the order's mark ("new", "changed" or "").
func MarkText(o scheduler.Order) string {
	switch {
	case !o.RemovedAt.IsZero():
		return "removed"
	case o.Mark != scheduler.MarkNone:
		return string(o.Mark)
	case !o.MissingSince.IsZero():
		return "missing"
	}
	return ""
}
